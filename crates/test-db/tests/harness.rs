//! The harness itself: databases are private and go away, throwaway servers stop and start.

use std::time::{Duration, Instant};

use ansinh_test_db::{TestDatabase, ThrowawayServer};
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Text};
use diesel_async::{AsyncConnection, AsyncMysqlConnection, RunQueryDsl, SimpleAsyncConnection};

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

async fn schema_exists(server_url: &str, name: &str) -> bool {
    let mut conn = AsyncMysqlConnection::establish(server_url).await.unwrap();
    let count = diesel::sql_query(
        "SELECT COUNT(*) AS n FROM information_schema.schemata WHERE schema_name = ?",
    )
    .bind::<Text, _>(name)
    .get_result::<Count>(&mut conn)
    .await
    .unwrap();
    count.n == 1
}

async fn count_rows(conn: &mut AsyncMysqlConnection, table: &str) -> i64 {
    diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}"))
        .get_result::<Count>(conn)
        .await
        .unwrap()
        .n
}

#[tokio::test]
async fn two_databases_are_distinct_and_dropped() {
    let a = TestDatabase::new().await;
    let b = TestDatabase::new().await;
    assert_ne!(a.name(), b.name());
    assert!(a.url().ends_with(a.name()) || a.url().contains(&format!("/{}?", a.name())));
    let server = a.server_url();

    let mut conn_a = a.connect().await;
    conn_a
        .batch_execute("CREATE TABLE t (id INT PRIMARY KEY); INSERT INTO t VALUES (1)")
        .await
        .unwrap();
    let mut conn_b = b.connect().await;
    assert!(
        conn_b.batch_execute("SELECT * FROM t").await.is_err(),
        "a table created in one test database must not exist in another"
    );
    let charset = diesel::sql_query(
        "SELECT default_character_set_name AS name FROM information_schema.schemata \
         WHERE schema_name = DATABASE()",
    )
    .get_result::<Name>(&mut conn_b)
    .await
    .unwrap();
    assert_eq!(charset.name, "utf8mb4");

    let (name_a, name_b) = (a.name().to_owned(), b.name().to_owned());
    // Dropped with a connection still open on it: the harness must not hang or leak.
    drop(a);
    drop(b);
    assert!(!schema_exists(&server, &name_a).await);
    assert!(!schema_exists(&server, &name_b).await);
    drop(conn_a);
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

#[tokio::test]
async fn throwaway_server_stops_and_starts_on_the_same_data_and_port() {
    let started = Instant::now();
    let mut server = ThrowawayServer::new().await.unwrap();
    eprintln!(
        "ThrowawayServer::new (install + start) took {:?}",
        started.elapsed()
    );
    assert!(server.is_running());
    let port = server.port();
    assert_eq!(
        server.url(),
        format!("mysql://root@127.0.0.1:{port}?prefer_socket=false")
    );

    let db = TestDatabase::on_server(&server.url()).await;
    assert!(
        db.url()
            .starts_with(&format!("mysql://root@127.0.0.1:{port}/"))
    );
    let mut conn = db.connect().await;
    #[derive(QueryableByName)]
    struct TmpDir {
        #[diesel(sql_type = Text)]
        path: String,
    }
    let TmpDir { path } = diesel::sql_query("SELECT @@tmpdir AS path")
        .get_result(&mut conn)
        .await
        .unwrap();
    assert!(
        std::path::Path::new(&path).starts_with(server.data_dir().parent().unwrap()),
        "a starting mariadbd deletes the #sql files in its tmpdir, so each server has its own, \
         not {path}"
    );
    conn.batch_execute("CREATE TABLE kept (id INT PRIMARY KEY); INSERT INTO kept VALUES (1), (2)")
        .await
        .unwrap();
    drop(conn);

    let stopping = Instant::now();
    server.stop().await.unwrap();
    eprintln!("ThrowawayServer::stop took {:?}", stopping.elapsed());
    assert!(!server.is_running());
    let refused = tokio::time::timeout(
        Duration::from_secs(5),
        AsyncMysqlConnection::establish(db.url()),
    )
    .await
    .expect("a stopped server refuses at once rather than hanging");
    assert!(
        refused.is_err(),
        "a stopped server must not accept connections"
    );
    server
        .stop()
        .await
        .expect("stopping a stopped server is a no-op");

    let starting = Instant::now();
    server.start().await.unwrap();
    eprintln!("ThrowawayServer::start took {:?}", starting.elapsed());
    assert_eq!(server.port(), port);
    let mut conn = db.connect().await;
    assert_eq!(
        count_rows(&mut conn, "kept").await,
        2,
        "data survives a restart"
    );
    drop(conn);
    drop(db);

    let data_dir = server.data_dir().to_owned();
    assert!(data_dir.exists());
    drop(server);
    assert!(
        !data_dir.exists(),
        "dropping the server removes its directory"
    );
    assert!(
        AsyncMysqlConnection::establish(&format!("mysql://root@127.0.0.1:{port}"))
            .await
            .is_err(),
        "dropping the server kills it"
    );
}
