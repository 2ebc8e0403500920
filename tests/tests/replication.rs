//! ansinh on replicated MySQL: the real importer writes to a primary, the real `ansinh-server`
//! reads a replica of it, as docs/operations.md's Scale-out section recommends. Each test runs
//! a pair of throwaway MariaDB servers of its own (`ReplicatedPair`: a row-based binary log,
//! a replica following it by GTID over loopback) and shows what an operator relies on:
//!
//! - a committed run reaches the replica all at once, never half of it, and the server's cache
//!   notices it there;
//! - while the replica lags or has stopped replicating, the server stays SERVING, keeps
//!   answering with the last run the replica has, and says which run that is, in every
//!   StatisticsService answer (`x-ansinh-run`) and in `ansinh_latest_run_seen`;
//! - while the replica restarts, calls answer UNAVAILABLE; then they recover, with the run the
//!   replica caught up to by itself, without restarting the server.
//!
//! The time limits guard against hangs, they are not performance assertions; the durations the
//! tests print (`cargo test --test replication -- --nocapture`) are the measurements quoted in
//! docs/operations.md.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use ansinh_proto::pb::{self, statistics_service_client::StatisticsServiceClient};
use ansinh_test_db::ReplicatedPair;
use ansinh_tests::{
    ScratchDir, ServerProcess, TestDatabase, commune_months_csv, describe, free_port, import,
    metric_sample, migrate_and_load_sample, scrape_metrics, seed_attainment_request, within,
};
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Nullable, Unsigned};
use diesel_async::{AsyncConnection, AsyncMysqlConnection, RunQueryDsl, SimpleAsyncConnection};
use tonic::{Code, Status, metadata::MetadataMap, transport::Channel};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

/// The server's settings: notice the database's state every 200 ms, give up waiting for it
/// after 1 s, and look for a newly committed run every 250 ms (the default).
const SERVER_ENV: &[(&str, &str)] = &[
    ("ANSINH_HEALTH_INTERVAL", "200ms"),
    ("ANSINH_DB_TIMEOUT", "1s"),
    ("ANSINH_CACHE_CHECK_INTERVAL", "250ms"),
];
/// How long one call may take before it counts as a hang.
const CALL_LIMIT: Duration = Duration::from_secs(4);
/// How long the replica may take to apply what the primary has (a migrate is some 30,000 rows
/// of reference data; a loaded 2-core machine is slow).
const CATCH_UP_LIMIT: Duration = Duration::from_secs(60);
/// How long the server may take to follow a change of the replica: a few health and cache
/// intervals plus the 1 s database timeout, with room for a loaded machine.
const FOLLOW_LIMIT: Duration = Duration::from_secs(20);
/// The server's database account: `SELECT` on the database and nothing else, like
/// `ansinh_server` in deploy/sql/grants.sql.
const READER: &str = "ansinh_reader";
const READER_PASSWORD: &str = "reader-password";
/// Lâm Đồng's HI coverage in 2024 in the sample, the seed question's `actual`.
const SAMPLE_COVERAGE: &str = "94.56";

/// The importer's database on the primary, a replica of it, and `ansinh-server` reading the
/// replica as [`READER`]. Fields drop in order: the server, the database, the two MariaDBs.
struct ReplicatedStack {
    server: ServerProcess,
    metrics: SocketAddr,
    database: TestDatabase,
    pair: ReplicatedPair,
}

impl ReplicatedStack {
    /// Starts the pair, migrates and loads the sample on the primary through the real
    /// importer, waits until the replica has it, and starts the server on the replica.
    async fn start() -> Self {
        let pair = ReplicatedPair::new()
            .await
            .unwrap_or_else(|e| panic!("cannot start a primary and a replica: {e}"));
        let database = TestDatabase::on_server(&pair.primary().url()).await;
        migrate_and_load_sample(database.url());
        // Made on the primary like every account, it reaches the replica by replication. In a
        // GRANT `_` is a wildcard; escaped, the grant covers this database alone.
        connect(database.url())
            .await
            .batch_execute(&format!(
                "CREATE USER '{READER}'@'127.0.0.1' IDENTIFIED BY '{READER_PASSWORD}'; \
                 GRANT SELECT ON `{}`.* TO '{READER}'@'127.0.0.1'",
                database.name().replace('_', "\\_")
            ))
            .await
            .expect("creating the server's read-only account on the primary");
        let caught_up = pair
            .catch_up(CATCH_UP_LIMIT)
            .await
            .unwrap_or_else(|e| panic!("the replica did not get the sample: {e}"));
        eprintln!("the replica applied the migrated sample {caught_up:?} after the last write");
        let metrics: SocketAddr = format!("127.0.0.1:{}", free_port())
            .parse()
            .expect("an address");
        let metrics_listen = metrics.to_string();
        let mut env = SERVER_ENV.to_vec();
        env.push(("ANSINH_METRICS_LISTEN", &metrics_listen));
        let server = ServerProcess::start(&reader_url(&pair, &database), &env);
        Self {
            server,
            metrics,
            database,
            pair,
        }
    }

    /// A connected channel to the server, within ten seconds.
    async fn channel(&self) -> Channel {
        within(
            Duration::from_secs(10),
            "connecting to ansinh-server",
            Channel::from_shared(self.server.endpoint())
                .expect("a valid endpoint")
                .connect(),
        )
        .await
        .expect("connecting to ansinh-server")
    }

    /// The newest committed run in the primary's ledger: what the importer last committed.
    async fn primary_latest_run(&self) -> u64 {
        snapshot(&mut connect(self.database.url()).await)
            .await
            .committed
            .expect("the sample's run is committed")
    }

    /// `ansinh_latest_run_seen` as the server exports it now (polled until the metrics port
    /// answers).
    fn latest_run_seen(&self) -> Option<u64> {
        let deadline = Instant::now() + Duration::from_secs(10);
        let body = loop {
            if let Some(body) = scrape_metrics(self.metrics) {
                break body;
            }
            assert!(
                Instant::now() < deadline,
                "the metrics port {} did not answer",
                self.metrics
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        metric_sample(&body, "ansinh_latest_run_seen").map(|value| {
            value
                .parse()
                .unwrap_or_else(|_| panic!("ansinh_latest_run_seen {value:?} is not a run id"))
        })
    }

    /// Loads one corrected figure, Lâm Đồng's HI coverage in 2024 = `value`, as a run of its
    /// own on the primary; its run id.
    async fn import_correction(&self, value: &str) -> u64 {
        let dir = ScratchDir::new(&format!("replication-correction-{value}"));
        let path = dir.write(
            "correction.csv",
            &format!(
                "region,indicator,period,value,unit\n68,hi_coverage_rate,2024,{value},percent\n"
            ),
        );
        let url = self.database.url().to_owned();
        let output = tokio::task::spawn_blocking(move || import(&url, &["load", &path]))
            .await
            .expect("the import thread does not panic");
        assert!(
            output.status.success(),
            "the correction did not load: {}",
            describe(&output)
        );
        self.primary_latest_run().await
    }
}

/// The server's URL: the replica, as the read-only account.
fn reader_url(pair: &ReplicatedPair, database: &TestDatabase) -> String {
    format!(
        "mysql://{READER}:{READER_PASSWORD}@127.0.0.1:{}/{}?prefer_socket=false",
        pair.replica().port(),
        database.name()
    )
}

async fn connect(url: &str) -> AsyncMysqlConnection {
    within(
        CALL_LIMIT,
        "connecting to MariaDB",
        AsyncMysqlConnection::establish(url),
    )
    .await
    .unwrap_or_else(|e| panic!("cannot connect to MariaDB: {e}"))
}

/// What one read transaction sees: how many figures there are, and the newest committed run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, QueryableByName)]
struct Snapshot {
    #[diesel(sql_type = BigInt)]
    figures: i64,
    #[diesel(sql_type = Nullable<Unsigned<BigInt>>)]
    committed: Option<u64>,
}

/// Counts the figures and reads the ledger in one consistent snapshot, as one read
/// transaction of the server would see them.
async fn snapshot(conn: &mut AsyncMysqlConnection) -> Snapshot {
    let read = async {
        conn.batch_execute("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")
            .await?;
        let snapshot = diesel::sql_query(
            "SELECT (SELECT COUNT(*) FROM observations) AS figures, \
             (SELECT MAX(id) FROM import_runs WHERE status = 'committed') AS committed",
        )
        .get_result::<Snapshot>(conn)
        .await?;
        conn.batch_execute("COMMIT").await?;
        Ok::<_, diesel::result::Error>(snapshot)
    };
    within(CALL_LIMIT, "a snapshot of figures and ledger", read)
        .await
        .expect("reading figures and ledger")
}

/// The run an answer says it reflects.
fn run_of(metadata: &MetadataMap) -> Option<u64> {
    let value = metadata.get("x-ansinh-run")?;
    Some(
        value
            .to_str()
            .ok()
            .and_then(|text| text.parse().ok())
            .unwrap_or_else(|| panic!("x-ansinh-run {value:?} is not a run id")),
    )
}

/// The seed question's `actual` (Lâm Đồng's HI coverage in 2024) and the run the answer says
/// it reflects.
async fn coverage(channel: &Channel) -> Result<(String, Option<u64>), Status> {
    let mut statistics = StatisticsServiceClient::new(channel.clone());
    let response = within(
        CALL_LIMIT,
        "GetTargetAttainment",
        statistics.get_target_attainment(seed_attainment_request()),
    )
    .await?;
    let run = run_of(response.metadata());
    let lam_dong = response
        .into_inner()
        .attainments
        .into_iter()
        .next()
        .expect("one attainment for one region");
    Ok((lam_dong.actual, run))
}

/// The overall health status.
async fn health(channel: &Channel) -> ServingStatus {
    within(
        CALL_LIMIT,
        "Health.Check",
        HealthClient::new(channel.clone()).check(HealthCheckRequest::default()),
    )
    .await
    .map_or(ServingStatus::Unknown, |response| {
        response.into_inner().status()
    })
}

/// Polls the seed question until its answer is `expected` and says it reflects `run`, failing
/// after [`FOLLOW_LIMIT`]; how long it took. Every answer on the way must keep the header's
/// promise: an answer that names `run` includes it.
async fn wait_for_coverage(channel: &Channel, expected: &str, run: u64) -> Duration {
    let started = Instant::now();
    loop {
        let answer = coverage(channel).await;
        if let Ok((actual, Some(seen))) = &answer
            && *seen >= run
        {
            assert_eq!(
                actual, expected,
                "an answer that says it reflects run {seen} lacks run {run}'s figure"
            );
            return started.elapsed();
        }
        assert!(
            started.elapsed() < FOLLOW_LIMIT,
            "the server did not answer {expected} from run {run} within {FOLLOW_LIMIT:?}; \
             last answer: {answer:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The first commune of the reference copy, which [`commune_months_csv`] gives figures.
const COMMUNE: &str = "00001";
/// The figures a year of [`commune_months_csv`] adds: 10,035 communes × 12 months.
const COMMUNE_MONTHS: i64 = 120_420;

/// [`COMMUNE`]'s 2024 series of monthly treatment visits and the run the answer names; no
/// points before the run that loads them.
async fn commune_series(channel: &Channel) -> (usize, Option<u64>) {
    let mut statistics = StatisticsServiceClient::new(channel.clone());
    let answer = within(
        CALL_LIMIT,
        "GetTimeSeries",
        statistics.get_time_series(pb::GetTimeSeriesRequest {
            region_code: COMMUNE.into(),
            indicator_code: "hi_treatment_visits".into(),
            start_date: "2024-01-01".into(),
            end_date: "2024-12-31".into(),
            geography_as_of: String::new(),
        }),
    )
    .await
    .expect("GetTimeSeries answers while the replica is up");
    let run = run_of(answer.metadata());
    (answer.into_inner().points.len(), run)
}

#[tokio::test]
async fn a_committed_run_reaches_the_replica_all_at_once_and_the_server_notices_it_there() {
    let stack = ReplicatedStack::start().await;
    let channel = stack.channel().await;
    let mut replica = connect(&reader_url(&stack.pair, &stack.database)).await;
    let mut primary = connect(stack.database.url()).await;
    let before = snapshot(&mut replica).await;
    assert_eq!(
        before,
        snapshot(&mut primary).await,
        "caught up at the start"
    );
    let sample_run = before.committed.expect("the sample's run");
    wait_for_coverage(&channel, SAMPLE_COVERAGE, sample_run).await;
    assert_eq!(stack.latest_run_seen(), Some(sample_run));
    assert_eq!(commune_series(&channel).await, (0, Some(sample_run)));

    let dir = ScratchDir::new("replication-commune-months");
    let path = dir.write("communes.csv", &commune_months_csv(2024..=2024));
    let url = stack.database.url().to_owned();
    let started = Instant::now();
    let mut importing = tokio::task::spawn_blocking(move || {
        let output = import(&url, &["load", &path]);
        (output, Instant::now())
    });
    let after = before.figures + COMMUNE_MONTHS;

    // Every state the replica passes through, with when it was first seen; the primary's
    // commit and the server's notice, by the same clock.
    let mut replica_states: BTreeMap<Snapshot, (Duration, u32)> = BTreeMap::new();
    let mut primary_committed: Option<(u64, Duration)> = None;
    let mut server_noticed: Option<Duration> = None;
    let mut imported: Option<Instant> = None;
    // Snapshots of the replica taken after the primary committed and before the replica had
    // the run: the reads that would have caught half a run.
    let mut while_replicating = 0;
    let deadline = Duration::from_secs(150);
    loop {
        let seen = snapshot(&mut replica).await;
        let at = started.elapsed();
        assert!(
            seen.figures == before.figures || seen.figures == after,
            "the replica showed part of a run: {} figures, neither {} (before) nor {after} \
             (after); states so far: {replica_states:?}",
            seen.figures,
            before.figures
        );
        assert!(
            seen.committed == before.committed || seen.figures == after,
            "the replica's ledger named a new run without its figures: {seen:?}"
        );
        replica_states.entry(seen).or_insert((at, 0)).1 += 1;
        if primary_committed.is_some() && seen.figures == before.figures {
            while_replicating += 1;
        }
        if primary_committed.is_none() {
            let on_primary = snapshot(&mut primary).await;
            if let Some(run) = on_primary.committed.filter(|&run| run != sample_run) {
                primary_committed = Some((run, started.elapsed()));
            }
        }
        if let Some((run, _)) = primary_committed {
            let (points, named) = commune_series(&channel).await;
            if named == Some(run) {
                assert_eq!(
                    points, 12,
                    "an answer that says it reflects run {run} lacks its figures"
                );
                server_noticed.get_or_insert(started.elapsed());
            }
        }
        if imported.is_none() && importing.is_finished() {
            let (output, finished) = (&mut importing).await.expect("the import thread");
            assert!(
                output.status.success(),
                "the run failed: {}",
                describe(&output)
            );
            imported = Some(finished);
        }
        if server_noticed.is_some() && imported.is_some() {
            break;
        }
        assert!(
            at < deadline,
            "the run was not replicated and noticed within {deadline:?}: states {replica_states:?}, \
             primary committed {primary_committed:?}, imported: {}",
            imported.is_some()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let (run, on_primary) = primary_committed.expect("the primary committed the run");
    let first = |figures: i64, committed: Option<u64>| {
        replica_states
            .get(&Snapshot { figures, committed })
            .map(|(at, _)| *at)
    };
    let rows_at = first(after, before.committed)
        .into_iter()
        .chain(first(after, Some(run)))
        .min()
        .expect("the replica showed the run's figures");
    let ledger_at = first(after, Some(run)).expect("the replica showed the run committed");
    let noticed_at = server_noticed.expect("checked above");
    let polls: u32 = replica_states.values().map(|(_, polls)| polls).sum();
    eprintln!(
        "run {run} ({COMMUNE_MONTHS} figures): the import took {:?}; committed on the primary \
         at {on_primary:?}; its figures on the replica at {rows_at:?}, its ledger entry at \
         {ledger_at:?} ({:?} after the primary's); the server answered from it at \
         {noticed_at:?} ({:?} after the replica's ledger); {polls} snapshots of the replica, \
         {while_replicating} of them while it replicated, states {replica_states:?}",
        imported.expect("checked above").duration_since(started),
        ledger_at.saturating_sub(on_primary),
        noticed_at.saturating_sub(ledger_at),
    );
    assert!(
        while_replicating > 0,
        "no snapshot of the replica was taken while it replicated the run, so none could have \
         caught half of it"
    );
    assert_eq!(stack.latest_run_seen(), Some(run));
    assert_eq!(commune_series(&channel).await, (12, Some(run)));
}

#[tokio::test]
async fn a_lagging_or_stopped_replica_serves_its_last_run_and_says_which() {
    let stack = ReplicatedStack::start().await;
    let channel = stack.channel().await;
    let sample_run = stack.primary_latest_run().await;
    wait_for_coverage(&channel, SAMPLE_COVERAGE, sample_run).await;
    assert_eq!(stack.latest_run_seen(), Some(sample_run));

    // Lagging: the replica applies each transaction 3 s after the primary committed it.
    let delay = Duration::from_secs(3);
    stack
        .pair
        .set_delay(delay)
        .await
        .unwrap_or_else(|e| panic!("cannot delay the replica: {e}"));
    let corrected = stack.import_correction("95.12").await;
    let committed = Instant::now();
    let mut lag_seen = Vec::new();
    let mut seconds_behind = Vec::new();
    let noticed = loop {
        assert_eq!(
            health(&channel).await,
            ServingStatus::Serving,
            "a lagging replica is a serving database"
        );
        // Scraped before the call: the run seen only moves forward, so when the call still
        // names the old run, the metric read before it must name it too.
        let metric = stack.latest_run_seen();
        let (actual, run) = coverage(&channel)
            .await
            .expect("the seed question answers while the replica lags");
        let run = run.expect("every StatisticsService answer names its run");
        if run >= corrected {
            assert_eq!(actual, "95.12", "run {run}'s answer lacks its correction");
            break committed.elapsed();
        }
        assert_eq!(run, sample_run);
        lag_seen.push(metric);
        if let Ok(status) = stack.pair.status().await {
            seconds_behind.push(status.seconds_behind);
        }
        assert!(
            committed.elapsed() < delay + FOLLOW_LIMIT,
            "the delayed replica's server never answered from run {corrected}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    eprintln!(
        "with MASTER_DELAY = {delay:?}: the server answered from run {corrected} {noticed:?} after \
         the primary committed it; meanwhile ansinh_latest_run_seen was {lag_seen:?} and the \
         replica's Seconds_Behind_Master {seconds_behind:?}"
    );
    assert!(
        noticed >= Duration::from_secs(1),
        "a replica 3 s behind answered from the new run after {noticed:?}"
    );
    assert!(
        !lag_seen.is_empty() && lag_seen.iter().all(|&seen| seen == Some(sample_run)),
        "while the replica lagged, ansinh_latest_run_seen must name the run it had: {lag_seen:?}"
    );
    assert_eq!(stack.latest_run_seen(), Some(corrected));
    stack
        .pair
        .set_delay(Duration::ZERO)
        .await
        .unwrap_or_else(|e| panic!("cannot undo the delay: {e}"));

    // Stopped: the replica applies nothing until replication starts again.
    stack
        .pair
        .stop_replication()
        .await
        .unwrap_or_else(|e| panic!("cannot stop replication: {e}"));
    let stopped = stack.pair.status().await.expect("SHOW SLAVE STATUS");
    let newer = stack.import_correction("95.23").await;
    let held = Instant::now();
    let mut answers = 0;
    // Ten cache checks and fifteen health checks: long enough for either to react, if it did.
    while held.elapsed() < Duration::from_secs(3) {
        assert_eq!(
            health(&channel).await,
            ServingStatus::Serving,
            "a replica that stopped replicating is a serving database"
        );
        assert_eq!(
            coverage(&channel)
                .await
                .expect("answers while replication is stopped"),
            ("95.12".to_owned(), Some(corrected)),
            "the replica's last run, and the answer says so"
        );
        assert_eq!(stack.latest_run_seen(), Some(corrected));
        answers += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(stack.primary_latest_run().await, newer);
    eprintln!(
        "with replication stopped: {answers} answers over 3 s, all from run {corrected} while the \
         primary had committed run {newer}; Seconds_Behind_Master was {:?} (unknown: NULL)",
        stopped.seconds_behind
    );
    assert_eq!(
        stopped.seconds_behind, None,
        "a stopped replica does not know how far behind it is"
    );

    // The server's account cannot read the replication status: the lag has to come from the
    // ledger, which it can read.
    let refused = diesel::sql_query("SHOW SLAVE STATUS")
        .execute(&mut connect(&reader_url(&stack.pair, &stack.database)).await)
        .await
        .expect_err("SHOW SLAVE STATUS needs a global privilege the read-only account lacks");
    eprintln!("SHOW SLAVE STATUS as the read-only account: {refused}");

    let resumed = Instant::now();
    stack
        .pair
        .start_replication()
        .await
        .unwrap_or_else(|e| panic!("cannot start replication again: {e}"));
    wait_for_coverage(&channel, "95.23", newer).await;
    eprintln!(
        "replication started again: the server answered from run {newer} {:?} after START SLAVE",
        resumed.elapsed()
    );
    assert_eq!(stack.latest_run_seen(), Some(newer));
}

#[tokio::test]
async fn a_replica_restart_means_unavailable_then_recovery_without_a_server_restart() {
    let mut stack = ReplicatedStack::start().await;
    let channel = stack.channel().await;
    let sample_run = stack.primary_latest_run().await;
    wait_for_coverage(&channel, SAMPLE_COVERAGE, sample_run).await;

    let stopping = Instant::now();
    stack
        .pair
        .replica_mut()
        .stop()
        .await
        .unwrap_or_else(|e| panic!("cannot stop the replica: {e}"));
    let stopped = stopping.elapsed();
    let down = Instant::now();
    loop {
        if health(&channel).await == ServingStatus::NotServing {
            break;
        }
        assert!(
            down.elapsed() < FOLLOW_LIMIT,
            "health did not become NOT_SERVING within {FOLLOW_LIMIT:?} of the replica stopping"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let not_serving = down.elapsed();
    let failed = Instant::now();
    let status = coverage(&channel)
        .await
        .expect_err("no answer without the replica");
    let failed = failed.elapsed();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert_eq!(status.message(), "the database is unavailable");

    // The primary goes on meanwhile; the replica is to catch up by itself when it returns.
    let corrected = stack.import_correction("95.34").await;

    let starting = Instant::now();
    stack
        .pair
        .replica_mut()
        .start()
        .await
        .unwrap_or_else(|e| panic!("cannot start the replica again: {e}"));
    let started = starting.elapsed();
    let up = Instant::now();
    let mut first_answer = None;
    let answered_new_run = loop {
        let serving = health(&channel).await == ServingStatus::Serving;
        if let Ok((actual, run)) = coverage(&channel).await {
            let run = run.expect("every StatisticsService answer names its run");
            first_answer.get_or_insert((up.elapsed(), run));
            if run >= corrected {
                assert_eq!(actual, "95.34", "run {run}'s answer lacks its correction");
                if serving {
                    break up.elapsed();
                }
            }
        }
        assert!(
            up.elapsed() < FOLLOW_LIMIT,
            "the server did not answer from run {corrected} within {FOLLOW_LIMIT:?} of the \
             replica's return"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(
        stack.server.wait_exit(Duration::ZERO).is_none(),
        "ansinh-server must keep running through the replica's restart"
    );
    let (first_at, first_run) = first_answer.expect("answered");
    let replicating = stack.pair.status().await.expect("SHOW SLAVE STATUS");
    assert!(replicating.replicating(), "{replicating:?}");
    assert_eq!(stack.latest_run_seen(), Some(corrected));
    eprintln!(
        "replica restart: it stopped in {stopped:?}; health NOT_SERVING {not_serving:?} later; \
         a call then failed UNAVAILABLE in {failed:?}; the replica started again in {started:?}; \
         the first answer came {first_at:?} after that (from run {first_run}), and one from run \
         {corrected} (which the primary committed while the replica was down) with health \
         SERVING {answered_new_run:?} after"
    );
}
