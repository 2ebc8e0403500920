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
