//! The database users of `deploy/sql/grants.sql`, as `deploy/sql/apply-grants.sh` creates them,
//! each doing its job and nothing more: the migrator migrates a fresh database, the importer
//! loads the sample but cannot touch the schema, and the server serves every query RPC as a
//! read-only user that is refused every write.
//!
//! Users are server-wide, not per database, so each run names its own (`ansinh_{srv,imp,mig}_`
//! plus the process id and a clock reading) and drops them when it ends, failed or not.

use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ansinh_proto::pb::{
    self, import_service_client::ImportServiceClient,
    indicator_service_client::IndicatorServiceClient, region_service_client::RegionServiceClient,
    statistics_service_client::StatisticsServiceClient,
};
use ansinh_tests::{
    ServerProcess, TestDatabase, describe, import, seed_attainment_request, seed_ranking_request,
    workspace_root,
};
use diesel::QueryableByName;
use diesel::sql_types::BigInt;
use diesel_async::{AsyncConnection, AsyncMysqlConnection, SimpleAsyncConnection};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

#[tokio::test]
async fn each_database_user_can_do_its_job_and_nothing_more() {
    let database = TestDatabase::new().await;
    let accounts = Accounts::create(&database).await;

    // The migrator builds the schema and installs the reference data on an empty database.
    let migrated = import(&accounts.migrator_url, &["migrate"]);
    assert!(
        migrated.status.success(),
        "migrate as {} failed: {}",
        accounts.migrator,
        describe(&migrated)
    );

    // The server's user reads, and is refused every kind of write.
    let mut read_only = accounts.connect(&accounts.server_url).await;
    let regions: Count = diesel_async::RunQueryDsl::get_result(
        diesel::sql_query("SELECT COUNT(*) AS n FROM regions"),
        &mut read_only,
    )
    .await
    .expect("the read-only user can SELECT");
    assert!(regions.n > 0, "migrate installed the regions");
    for statement in [
        "INSERT INTO sources (name) VALUES ('written by the read-only user')",
        "UPDATE regions SET name = name",
        "DELETE FROM import_runs",
        "CREATE TABLE written_by_server (id INT PRIMARY KEY)",
        "CREATE TEMPORARY TABLE written_by_server (id INT PRIMARY KEY)",
        "DROP TABLE observations",
    ] {
        assert_denied(&mut read_only, statement, &accounts.server).await;
    }

    // The importer's user writes rows and stages them in temporary tables, but cannot change
    // the schema.
    let mut importer = accounts.connect(&accounts.importer_url).await;
    importer
        .batch_execute(
            "CREATE TEMPORARY TABLE staged LIKE observations; DROP TEMPORARY TABLE staged",
        )
        .await
        .expect("the importer's user can use temporary tables");
    for statement in [
        "CREATE TABLE written_by_importer (id INT PRIMARY KEY)",
        "ALTER TABLE observations ADD COLUMN written_by_importer INT NULL",
        "CREATE INDEX written_by_importer ON observations (value)",
        "DROP TABLE observations",
    ] {
        assert_denied(&mut importer, statement, &accounts.importer).await;
    }

    // A grant names its database exactly: `_` in the name is not a wildcard that would also
    // let the users into a look-alike database on the same server.
    let mut root = database.connect().await;
    root.batch_execute(&format!(
        "CREATE DATABASE `{0}`; CREATE TABLE `{0}`.t (id INT PRIMARY KEY)",
        accounts.look_alike
    ))
    .await
    .expect("creating the look-alike database");
    assert_denied(
        &mut read_only,
        &format!("SELECT * FROM `{}`.t", accounts.look_alike),
        &accounts.server,
    )
    .await;

    // The importer's user loads the sample: LOAD DATA LOCAL INFILE, history and ledger included.
    let loaded = import(
        &accounts.importer_url,
        &[
            "load",
            "examples/sample/observations.csv",
            "examples/sample/targets.csv",
        ],
    );
    assert!(
        loaded.status.success(),
        "load as {} failed: {}",
        accounts.importer,
        describe(&loaded)
    );

    // The server, connected as the read-only user, is healthy and answers every query.
    let server = ServerProcess::start(&accounts.server_url, &[]);
    wait_until_serving(&server.endpoint()).await;

    let mut regions = RegionServiceClient::connect(server.endpoint())
        .await
        .unwrap();
    let lam_dong = regions
        .get_region(pb::GetRegionRequest {
            code: "68".into(),
            as_of: "2024-06-01".into(),
        })
        .await
        .expect("GetRegion as the read-only user")
        .into_inner();
    assert_eq!(lam_dong.name, "Lâm Đồng");
    let provinces = regions
        .list_regions(pb::ListRegionsRequest {
            level: pb::RegionLevel::Province as i32,
            as_of: "2025-08-01".into(),
            page_size: 100,
            ..Default::default()
        })
        .await
        .expect("ListRegions as the read-only user")
        .into_inner();
    assert_eq!(provinces.regions.len(), 34);
    let lineage = regions
        .get_region_lineage(pb::GetRegionLineageRequest {
            code: "68".into(),
            as_of: "2025-08-01".into(),
        })
        .await
        .expect("GetRegionLineage as the read-only user")
        .into_inner();
    assert_eq!(lineage.predecessors.len(), 3);

    let mut indicators = IndicatorServiceClient::connect(server.endpoint())
        .await
        .unwrap();
    let catalog = indicators
        .list_indicators(pb::ListIndicatorsRequest::default())
        .await
        .expect("ListIndicators as the read-only user")
        .into_inner();
    assert!(
        catalog
            .indicators
            .iter()
            .any(|indicator| indicator.code == "hi_coverage_rate"),
        "the default catalog lists hi_coverage_rate"
    );
    let coverage = indicators
        .get_indicator(pb::GetIndicatorRequest {
            code: "hi_coverage_rate".into(),
        })
        .await
        .expect("GetIndicator as the read-only user")
        .into_inner();
    assert_eq!(coverage.code, "hi_coverage_rate");

    // Every StatisticsService RPC: none of them needs more than SELECT (no temporary tables, no
    // locks, no writes), so the read-only user answers them all.
    let mut statistics = StatisticsServiceClient::connect(server.endpoint())
        .await
        .unwrap();
    let observations = statistics
        .list_observations(pb::ListObservationsRequest {
            region_codes: vec!["68".into()],
            indicator_codes: vec!["hi_coverage_rate".into()],
            ..Default::default()
        })
        .await
        .expect("ListObservations as the read-only user")
        .into_inner();
    assert!(
        observations
            .observations
            .iter()
            .any(|observation| observation.value == "94.56"),
        "the sample's 2024 HI coverage of 68"
    );
    let mut export = statistics
        .export_observations(pb::ExportObservationsRequest {
            region_codes: vec!["68".into()],
            ..Default::default()
        })
        .await
        .expect("ExportObservations as the read-only user")
        .into_inner();
    let mut exported = 0;
    while export
        .message()
        .await
        .expect("ExportObservations streams as the read-only user")
        .is_some()
    {
        exported += 1;
    }
    assert!(exported > 0, "the export streams the sample's observations");
    let series = statistics
        .get_time_series(pb::GetTimeSeriesRequest {
            region_code: "68".into(),
            indicator_code: "hi_participants".into(),
            geography_as_of: "2025-08-01".into(),
            ..Default::default()
        })
        .await
        .expect("GetTimeSeries as the read-only user")
        .into_inner();
    assert!(!series.points.is_empty(), "a series of HI participants");
    let national = statistics
        .aggregate(pb::AggregateRequest {
            parent_code: "VN".into(),
            level: pb::RegionLevel::Province as i32,
            indicator_code: "hi_participants".into(),
            period: "2024".into(),
        })
        .await
        .expect("Aggregate as the read-only user")
        .into_inner();
    assert!(!national.value.is_empty(), "a roll-up of the provinces");
    let attainment = statistics
        .get_target_attainment(seed_attainment_request())
        .await
        .expect("GetTargetAttainment as the read-only user")
        .into_inner();
    assert_eq!(
        attainment.attainments[0].status,
        pb::AttainmentStatus::Met as i32,
        "94.56 % against a target of 93.65 %"
    );
    let ranking = statistics
        .rank_regions(seed_ranking_request())
        .await
        .expect("RankRegions as the read-only user")
        .into_inner();
    assert!(!ranking.entries.is_empty(), "68 is ranked");
    let summary = statistics
        .get_region_summary(pb::GetRegionSummaryRequest {
            region_code: "68".into(),
            as_of: "2025-06-01".into(),
        })
        .await
        .expect("GetRegionSummary as the read-only user")
        .into_inner();
    assert!(!summary.indicators.is_empty(), "a dashboard of 68");

    let mut imports = ImportServiceClient::connect(server.endpoint())
        .await
        .unwrap();
    let runs = imports
        .list_import_runs(pb::ListImportRunsRequest::default())
        .await
        .expect("ListImportRuns as the read-only user")
        .into_inner();
    let newest = runs
        .import_runs
        .first()
        .expect("the ledger lists the importer user's run");
    assert_eq!(newest.status, pb::ImportRunStatus::Committed as i32);
    let run = imports
        .get_import_run(pb::GetImportRunRequest {
            id: newest.id.clone(),
        })
        .await
        .expect("GetImportRun as the read-only user")
        .into_inner();
    assert_eq!(
        run.files
            .iter()
            .map(|file| file.path.as_str())
            .collect::<Vec<_>>(),
        [
            "examples/sample/observations.csv",
            "examples/sample/targets.csv"
        ]
    );
}

/// The three users of one test run, and the URLs that log in as them. Dropping it drops the
/// users and the look-alike database.
struct Accounts {
    server: String,
    importer: String,
    migrator: String,
    server_url: String,
    importer_url: String,
    migrator_url: String,
    look_alike: String,
    admin_url: String,
}

impl Accounts {
    /// Runs `deploy/sql/apply-grants.sh --print` for `database` with users of this run's own,
    /// and executes the SQL as the test server's administrator.
    async fn create(database: &TestDatabase) -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("a clock after 1970")
            .subsec_nanos();
        // At most 11 + 10 + 1 + 9 = 31 characters: MySQL 8 allows 32 in a user name.
        let tag = format!("{}_{nanos}", std::process::id());
        let user = |role: &str| format!("ansinh_{role}_{tag}");
        let password = |role: &str| format!("{role}Pw{nanos:x}{}", std::process::id());
        let (server, importer, migrator) = (user("srv"), user("imp"), user("mig"));

        let script = workspace_root().join("deploy/sql/apply-grants.sh");
        let output = Command::new(&script)
            .arg("--print")
            .env("ANSINH_DB", database.name())
            .env("ANSINH_SERVER_USER", &server)
            .env("ANSINH_IMPORTER_USER", &importer)
            .env("ANSINH_MIGRATOR_USER", &migrator)
            .env("ANSINH_SERVER_PASSWORD", password("srv"))
            .env("ANSINH_IMPORTER_PASSWORD", password("imp"))
            .env("ANSINH_MIGRATOR_PASSWORD", password("mig"))
            .env_remove("ANSINH_USER_HOST")
            .output()
            .unwrap_or_else(|e| panic!("running {}: {e}", script.display()));
        assert!(
            output.status.success(),
            "apply-grants.sh --print failed: {}",
            describe(&output)
        );
        let sql = String::from_utf8(output.stdout).expect("the SQL is UTF-8");

        let accounts = Self {
            server_url: login_url(database, &server, &password("srv")),
            importer_url: login_url(database, &importer, &password("imp")),
            migrator_url: login_url(database, &migrator, &password("mig")),
            server,
            importer,
            migrator,
            look_alike: database.name().replace('_', "x"),
            admin_url: database.server_url(),
        };
        // Created after `accounts`, so that a failure here still drops whatever was created.
        database
            .connect()
            .await
            .batch_execute(&sql)
            .await
            .unwrap_or_else(|e| panic!("applying grants.sql failed: {e}"));
        accounts
    }

    async fn connect(&self, url: &str) -> AsyncMysqlConnection {
        AsyncMysqlConnection::establish(url)
            .await
            .unwrap_or_else(|e| panic!("cannot log in with a granted user: {e}"))
    }
}

impl Drop for Accounts {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let cleanup = format!(
            "DROP USER IF EXISTS '{}'@'%', '{}'@'%', '{}'@'%'; DROP DATABASE IF EXISTS `{}`",
            self.server, self.importer, self.migrator, self.look_alike
        );
        // Drop may run inside the test's runtime, where blocking on it is not allowed.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(async {
                let mut conn = AsyncMysqlConnection::establish(&admin_url)
                    .await
                    .map_err(|e| e.to_string())?;
                conn.batch_execute(&cleanup)
                    .await
                    .map_err(|e| e.to_string())
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!(
                "warning: test users {} {} {} were not dropped: {dropped:?}",
                self.server, self.importer, self.migrator
            );
        }
    }
}

/// The test database's URL with `user:password` in place of the administrator's credentials.
fn login_url(database: &TestDatabase, user: &str, password: &str) -> String {
    let url = database.url();
    let (scheme, rest) = url.split_once("://").expect("a mysql:// URL");
    let host_and_rest = rest.rsplit_once('@').map_or(rest, |(_, after)| after);
    format!("{scheme}://{user}:{password}@{host_and_rest}")
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Asserts that `statement` fails because `user` lacks the privilege, not for any other reason.
async fn assert_denied(conn: &mut AsyncMysqlConnection, statement: &str, user: &str) {
    match conn.batch_execute(statement).await {
        Ok(()) => panic!("{user} was allowed to run: {statement}"),
        Err(e) => {
            let message = e.to_string();
            // 1142 "INSERT command denied to user ..." or 1044 "Access denied for user ...".
            assert!(
                message.contains("denied"),
                "{statement}: expected a permission error for {user}, got: {message}"
            );
        }
    }
}

/// Waits until the server's overall health is SERVING: it asks MySQL, as the read-only user,
/// once it has started.
async fn wait_until_serving(endpoint: &str) {
    let channel = tonic::transport::Endpoint::from_shared(endpoint.to_owned())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut health = HealthClient::new(channel);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let status = health
            .check(HealthCheckRequest {
                service: String::new(),
            })
            .await
            .map(|response| response.into_inner().status);
        if matches!(status, Ok(serving) if serving == ServingStatus::Serving as i32) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the server never became SERVING as the read-only user: {status:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
