use ansinh_store::{revert_all_migrations, run_pending_migrations};
use ansinh_test_db::TestDatabase;
use diesel::QueryableByName;
use diesel::sql_types::Text;
use diesel_async::RunQueryDsl;

#[derive(QueryableByName)]
struct TableName {
    #[diesel(sql_type = Text)]
    name: String,
}

async fn tables(url: &str) -> Vec<String> {
    let mut conn = ansinh_store::connect(url).await.unwrap();
    let mut names = diesel::sql_query(
        "SELECT table_name AS name FROM information_schema.tables \
         WHERE table_schema = DATABASE()",
    )
    .load::<TableName>(&mut conn)
    .await
    .unwrap()
    .into_iter()
    .map(|t| t.name)
    .collect::<Vec<_>>();
    // Sorted here: the server's collation orders `_` differently on MariaDB and MySQL.
    names.sort();
    names
}

const SCHEMA_TABLES: [&str; 12] = [
    "__diesel_schema_migrations",
    "import_run_files",
    "import_run_rejections",
    "import_runs",
    "indicators",
    "observation_history",
    "observations",
    "region_lineage",
    "region_members",
    "regions",
    "sources",
    "targets",
];

#[tokio::test(flavor = "multi_thread")]
async fn migrations_apply_revert_completely_and_apply_again() {
    let db = TestDatabase::new().await;

    let applied = run_pending_migrations(db.url()).await.unwrap();
    assert_eq!(applied.len(), 7, "{applied:?}");
    assert_eq!(tables(db.url()).await, SCHEMA_TABLES);
    assert!(
        run_pending_migrations(db.url()).await.unwrap().is_empty(),
        "a current schema has nothing pending"
    );

    let reverted = revert_all_migrations(db.url()).await.unwrap();
    assert_eq!(reverted.len(), 7);
    assert_eq!(
        tables(db.url()).await,
        ["__diesel_schema_migrations"],
        "every down.sql must drop what its up.sql created"
    );

    let reapplied = run_pending_migrations(db.url()).await.unwrap();
    assert_eq!(reapplied, applied);
    assert_eq!(tables(db.url()).await, SCHEMA_TABLES);
}

#[tokio::test(flavor = "multi_thread")]
async fn migrations_on_an_unreachable_server_fail_as_unavailable() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let error = run_pending_migrations(&format!("mysql://root@127.0.0.1:{port}/x"))
        .await
        .unwrap_err();
    assert!(error.is_unavailable(), "{error:?}");
    assert!(!error.to_string().contains("127.0.0.1"), "{error}");
}
