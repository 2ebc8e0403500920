//! MySQL going away under a pool and coming back: errors say "unavailable", and the pool
//! recovers without being rebuilt.

use ansinh_store::StoreError;
use ansinh_test_db::{TestDatabase, ThrowawayServer};

#[tokio::test(flavor = "multi_thread")]
async fn a_stopped_server_is_unavailable_and_a_restarted_one_is_used_again() {
    let mut server = ThrowawayServer::new().await.unwrap();
    let db = TestDatabase::on_server(&server.url()).await;
    ansinh_store::run_pending_migrations(db.url())
        .await
        .unwrap();
    let pool = ansinh_store::pool(db.url(), 2, ansinh_store::POOL_TIMEOUT).unwrap();
    let mut held = pool.get().await.unwrap();
    ansinh_store::ping(&mut held).await.unwrap();
    drop(pool.get().await.unwrap());

    server.stop().await.unwrap();
    let error = ansinh_store::ping(&mut held).await.unwrap_err();
    assert!(
        error.is_unavailable(),
        "a connection lost mid-use: {error:?}"
    );
    drop(held);
    // A connection that answered a check within CHECK_AFTER is handed out unchecked; past
    // that, each is checked, found dead and dropped, and no new one can be opened.
    tokio::time::sleep(ansinh_store::CHECK_AFTER).await;
    let Err(error) = pool.get().await else {
        panic!("the server is stopped, and every pooled connection's check is out of date")
    };
    let error = StoreError::from(error);
    assert!(error.is_unavailable(), "no connection to be had: {error:?}");

    server.start().await.unwrap();
    let mut conn = pool
        .get()
        .await
        .expect("the pool reconnects once the server is back");
    ansinh_store::ping(&mut conn).await.unwrap();
}
