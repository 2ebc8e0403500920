use std::time::{Duration, Instant};

use diesel::QueryableByName;
use diesel::sql_types::Text;
use diesel_async::RunQueryDsl;

#[derive(QueryableByName)]
struct Mode {
    #[diesel(sql_type = Text)]
    mode: String,
}

#[tokio::test(flavor = "multi_thread")]
async fn pooled_connections_use_the_strict_portable_sql_mode() {
    let db = ansinh_test_db::TestDatabase::new().await;
    let pool = ansinh_store::pool(db.url(), 2, ansinh_store::POOL_TIMEOUT).unwrap();
    let mut conn = pool.get().await.unwrap();
    ansinh_store::ping(&mut conn).await.unwrap();
    let mode = diesel::sql_query("SELECT @@SESSION.sql_mode AS mode")
        .get_result::<Mode>(&mut *conn)
        .await
        .unwrap();
    for flag in ["ONLY_FULL_GROUP_BY", "STRICT_ALL_TABLES"] {
        assert!(mode.mode.contains(flag), "{}", mode.mode);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dead_server_is_reported_as_unavailable_quickly() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("mysql://root:secret@127.0.0.1:{port}/ansinh");
    let pool = ansinh_store::pool(&url, 2, ansinh_store::POOL_TIMEOUT)
        .expect("a pool is built without connecting");
    let started = Instant::now();
    let Err(error) = pool.get().await else {
        panic!("nothing listens on port {port}")
    };
    let error = ansinh_store::StoreError::from(error);
    assert!(error.is_unavailable(), "{error:?}");
    assert!(started.elapsed() < ansinh_store::POOL_TIMEOUT + Duration::from_secs(1));
    let message = error.to_string();
    assert!(
        !message.contains("secret") && !message.contains("127.0.0.1"),
        "{message}"
    );

    let Err(error) = ansinh_store::connect(&url).await else {
        panic!("nothing listens on port {port}")
    };
    assert!(error.is_unavailable(), "{error:?}");
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = diesel::sql_types::Unsigned<diesel::sql_types::BigInt>)]
    id: u64,
}

async fn connection_id(conn: &mut ansinh_store::AsyncMysqlConnection) -> u64 {
    diesel::sql_query("SELECT CONNECTION_ID() AS id")
        .get_result::<Id>(conn)
        .await
        .unwrap()
        .id
}

/// A connection that answered within `CHECK_AFTER` is handed out again without a round trip;
/// one that has not is checked first, and replaced when the check fails.
#[tokio::test(flavor = "multi_thread")]
async fn connections_are_checked_once_their_last_answer_is_old_and_dead_ones_replaced() {
    let db = ansinh_test_db::TestDatabase::new().await;
    let pool = ansinh_store::pool(db.url(), 1, ansinh_store::POOL_TIMEOUT).unwrap();
    // Before the connection is opened, so its check is no older than this.
    let opened = Instant::now();
    let first = connection_id(&mut pool.get().await.unwrap()).await;
    assert_eq!(
        connection_id(&mut pool.get().await.unwrap()).await,
        first,
        "a live connection is reused"
    );

    let mut killer = ansinh_store::connect(db.url()).await.unwrap();
    diesel_async::SimpleAsyncConnection::batch_execute(&mut killer, &format!("KILL {first}"))
        .await
        .unwrap();
    // Within the window the dead connection is handed out unchecked: its query fails, as a
    // call would while MySQL is away. (A machine slow enough to get here after the window
    // has already had it checked and replaced, which the end of the test covers.)
    let mut conn = pool.get().await.unwrap();
    if opened.elapsed() < ansinh_store::CHECK_AFTER {
        assert!(
            ansinh_store::ping(&mut conn).await.is_err(),
            "a connection killed a moment after its last check is not checked again yet"
        );
    }
    drop(conn);

    tokio::time::sleep(ansinh_store::CHECK_AFTER).await;
    let mut conn = pool.get().await.unwrap();
    let replaced = connection_id(&mut conn).await;
    assert_ne!(
        replaced, first,
        "once its last check is older than CHECK_AFTER, a dead connection is found and replaced"
    );
}

#[derive(QueryableByName)]
struct Tagged {
    #[diesel(sql_type = Text)]
    tag: String,
}

/// A call dropped at its deadline after its statement was sent leaves the server's answer on
/// its way; the next caller of that connection must not read it as its own.
#[tokio::test(flavor = "multi_thread")]
async fn a_connection_whose_statement_was_cancelled_is_never_reused_dirty() {
    let db = ansinh_test_db::TestDatabase::new().await;
    let pool = ansinh_store::pool(db.url(), 1, ansinh_store::POOL_TIMEOUT).unwrap();
    let cancelled_on = connection_id(&mut pool.get().await.unwrap()).await;
    {
        let mut conn = pool.get().await.unwrap();
        let slow = diesel::sql_query("SELECT 'stale' AS tag FROM (SELECT SLEEP(0.3)) AS pause")
            .get_result::<Tagged>(&mut *conn);
        assert!(
            tokio::time::timeout(Duration::from_millis(50), slow)
                .await
                .is_err(),
            "the slow statement is cancelled before it answers"
        );
    }
    let mut conn = pool.get().await.unwrap();
    let answer = diesel::sql_query("SELECT 'fresh' AS tag")
        .get_result::<Tagged>(&mut *conn)
        .await
        .expect("the next statement is answered");
    assert_eq!(answer.tag, "fresh");
    assert_ne!(
        connection_id(&mut conn).await,
        cancelled_on,
        "the connection the cancelled statement was sent on is closed, not reused"
    );
}

#[derive(QueryableByName)]
struct Number {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
    #[diesel(sql_type = Text)]
    padding: String,
}

/// 1..=count, one row each, in order: an answer every caller can check exactly, padded so
/// that it takes a few milliseconds (tokio's timers count whole milliseconds) to arrive.
async fn numbers(conn: &mut ansinh_store::PooledConnection, count: i64) -> Vec<i64> {
    diesel::sql_query(
        "WITH RECURSIVE seq (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ?) \
         SELECT n, REPEAT('x', 1000) AS padding FROM seq ORDER BY n",
    )
    .bind::<diesel::sql_types::BigInt, _>(count)
    .load::<Number>(&mut **conn)
    .await
    .expect("a call with time to spare is answered")
    .into_iter()
    .map(|row| {
        assert_eq!(row.padding.len(), 1000);
        row.n
    })
    .collect()
}

/// Callers cancelled at random moments of their statements, sharing a small pool with callers
/// that wait for their answers: every answer waited for is complete and its own, and none
/// fails. Bounded: a fixed number of calls per task.
#[tokio::test(flavor = "multi_thread")]
async fn calls_cancelled_at_random_moments_never_disturb_other_calls() {
    let db = ansinh_test_db::TestDatabase::new().await;
    let pool = ansinh_store::pool(db.url(), 2, ansinh_store::POOL_TIMEOUT).unwrap();
    let seed = ansinh_test_db::Xorshift::clock_seed();
    let tasks: Vec<_> = (0..4_u32)
        .map(|task| {
            let pool = pool.clone();
            tokio::spawn(async move {
                let mut random = ansinh_test_db::Xorshift::new(
                    seed ^ u64::from(task + 1).wrapping_mul(0x9e37_79b9),
                );
                // A different count per task, so an answer meant for another task shows.
                let count = 600 + i64::from(task) * 100;
                let expected: Vec<i64> = (1..=count).collect();
                // Deadlines spread over one whole call, however fast this machine answers.
                let started = Instant::now();
                assert_eq!(
                    numbers(&mut pool.get().await.unwrap(), count).await,
                    expected
                );
                let call = u64::try_from(started.elapsed().as_micros()).unwrap().max(2);
                let (mut cancelled, mut answered) = (0, 0);
                for _ in 0..150 {
                    let mut conn = pool.get().await.expect("a connection");
                    if random.below(3) == 0 {
                        assert_eq!(numbers(&mut conn, count).await, expected, "seed {seed}");
                        answered += 1;
                    } else {
                        let deadline = Duration::from_micros(random.below(call));
                        if tokio::time::timeout(deadline, numbers(&mut conn, count))
                            .await
                            .is_err()
                        {
                            cancelled += 1;
                        }
                    }
                }
                (cancelled, answered)
            })
        })
        .collect();
    let (mut cancelled, mut answered) = (0, 0);
    for task in tasks {
        let (c, a) = task.await.expect("no task panicked");
        cancelled += c;
        answered += a;
    }
    eprintln!("seed {seed}: {cancelled} calls cancelled, {answered} answered");
    assert!(
        cancelled >= 20 && answered >= 20,
        "both kinds of call happened (seed {seed}): {cancelled} cancelled, {answered} answered"
    );
}
