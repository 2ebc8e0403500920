//! Store tests against a real server, each in its own database (see `ansinh-test-db`).
//! One test binary with a module per area, so the workspace links it once.

mod decimal;
mod migrations;
mod models;
mod outage;
mod pool;
mod reference;
mod regions;
mod schema;
mod statistics;

use ansinh_model::fixtures::date;
use ansinh_store::AsyncMysqlConnection;
use ansinh_test_db::TestDatabase;

/// A fresh database with the schema applied, and a connection to it.
async fn migrated() -> (TestDatabase, AsyncMysqlConnection) {
    let db = TestDatabase::new().await;
    ansinh_store::run_pending_migrations(db.url())
        .await
        .unwrap();
    let conn = ansinh_store::connect(db.url()).await.unwrap();
    (db, conn)
}

/// A migrated database with the reference data installed.
async fn with_reference_data() -> (TestDatabase, AsyncMysqlConnection) {
    let (db, mut conn) = migrated().await;
    ansinh_store::install_reference_data(&mut conn)
        .await
        .unwrap();
    (db, conn)
}
