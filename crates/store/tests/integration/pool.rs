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
    let pool = ansinh_store::pool(db.url(), 2).unwrap();
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
    let pool = ansinh_store::pool(&url, 2).expect("a pool is built without connecting");
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
