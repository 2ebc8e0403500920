//! MySQL going away under a running server: health follows the database, calls fail fast with
//! UNAVAILABLE instead of hanging, and both recover without restarting the server when the
//! database returns. Each test runs a MariaDB of its own (a `ThrowawayServer`) loaded through
//! the real importer, so it can stop or pause that database without disturbing other tests.
//!
//! The time limits here guard against hangs; they are not performance assertions. The server
//! is told to give up on the database after 1 s, so a call that takes four is hanging.

use std::time::{Duration, Instant};

use ansinh_proto::pb::{
    self, region_service_client::RegionServiceClient,
    statistics_service_client::StatisticsServiceClient,
};
use ansinh_tests::{PausedDatabase, PrivateStack, seed_attainment_request, within};
use tonic::{Code, Status, transport::Channel};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

/// The server's settings for these tests: notice the database's state every 200 ms, and give
/// up waiting for a connection after 1 s.
const SERVER_ENV: &[(&str, &str)] = &[
    ("ANSINH_HEALTH_INTERVAL", "200ms"),
    ("ANSINH_DB_TIMEOUT", "1s"),
];
/// How long one call may take before it counts as a hang.
const CALL_LIMIT: Duration = Duration::from_secs(4);
/// How long health may take to follow the database (a few health intervals plus the 1 s
/// database timeout, with room for a loaded machine).
const HEALTH_LIMIT: Duration = Duration::from_secs(15);
const STATISTICS_SERVICE: &str = "ansinh.v1.StatisticsService";

/// The overall status and StatisticsService's, as a load balancer would ask for them.
async fn health(client: &mut HealthClient<Channel>) -> [Result<ServingStatus, Status>; 2] {
    let mut statuses = [Ok(ServingStatus::Unknown), Ok(ServingStatus::Unknown)];
    for (status, service) in statuses.iter_mut().zip(["", STATISTICS_SERVICE]) {
        *status = within(
            CALL_LIMIT,
            "Health.Check",
            client.check(HealthCheckRequest {
                service: service.into(),
            }),
        )
        .await
        .map(|response| response.into_inner().status());
    }
    statuses
}

/// Polls health until both statuses are `expected`, failing after [`HEALTH_LIMIT`].
async fn wait_for_health(client: &mut HealthClient<Channel>, expected: ServingStatus) {
    let deadline = Instant::now() + HEALTH_LIMIT;
    loop {
        let statuses = health(client).await;
        if statuses
            .iter()
            .all(|status| status.as_ref().is_ok_and(|s| *s == expected))
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "health (overall, {STATISTICS_SERVICE}) did not become {expected:?} within \
             {HEALTH_LIMIT:?}; last answers: {statuses:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Asks the seed question and checks the answer: Lâm Đồng's HI coverage, 94.56% against 93.65%.
async fn assert_queries_answer(channel: &Channel) {
    let mut statistics = StatisticsServiceClient::new(channel.clone());
    let response = within(
        CALL_LIMIT,
        "GetTargetAttainment",
        statistics.get_target_attainment(seed_attainment_request()),
    )
    .await
    .expect("GetTargetAttainment answers while MySQL is up")
    .into_inner();
    let lam_dong = &response.attainments[0];
    assert_eq!(
        (lam_dong.actual.as_str(), lam_dong.target.as_str()),
        ("94.56", "93.65")
    );
    assert_eq!(lam_dong.status, pb::AttainmentStatus::Met as i32);

    let mut regions = RegionServiceClient::new(channel.clone());
    let region = within(
        CALL_LIMIT,
        "GetRegion",
        regions.get_region(pb::GetRegionRequest {
            code: "68".into(),
            as_of: "2024-06-01".into(),
        }),
    )
    .await
    .expect("GetRegion answers while MySQL is up")
    .into_inner();
    assert_eq!(region.name, "Lâm Đồng");
}

/// Calls of two services, unary and streaming: each must fail with UNAVAILABLE within
/// [`CALL_LIMIT`], saying the database is unavailable and nothing about SQL.
async fn assert_queries_unavailable(channel: &Channel, why: &str) {
    let mut statistics = StatisticsServiceClient::new(channel.clone());
    let mut regions = RegionServiceClient::new(channel.clone());
    let mut failures = Vec::new();

    let status = within(
        CALL_LIMIT,
        &format!("GetTargetAttainment {why}"),
        statistics.get_target_attainment(seed_attainment_request()),
    )
    .await
    .expect_err("GetTargetAttainment cannot answer without MySQL");
    failures.push(("GetTargetAttainment", status));

    let status = within(
        CALL_LIMIT,
        &format!("GetRegion {why}"),
        regions.get_region(pb::GetRegionRequest {
            code: "68".into(),
            as_of: "2024-06-01".into(),
        }),
    )
    .await
    .expect_err("GetRegion cannot answer without MySQL");
    failures.push(("GetRegion", status));

    // A stream may fail before its first message or as its first message: either is fine,
    // as long as it ends with UNAVAILABLE instead of hanging.
    let status = within(CALL_LIMIT, &format!("ExportObservations {why}"), async {
        let mut stream = statistics
            .export_observations(pb::ExportObservationsRequest {
                region_codes: vec!["68".into()],
                ..Default::default()
            })
            .await?
            .into_inner();
        while stream.message().await?.is_some() {}
        Ok::<(), Status>(())
    })
    .await
    .expect_err("ExportObservations cannot stream without MySQL");
    failures.push(("ExportObservations", status));

    for (call, status) in failures {
        assert_eq!(
            status.code(),
            Code::Unavailable,
            "{call} {why}: expected UNAVAILABLE, got {status:?}"
        );
        assert_eq!(status.message(), "the database is unavailable");
    }
}

#[tokio::test]
async fn a_stopped_database_means_not_serving_and_unavailable_until_it_returns() {
    let mut stack = PrivateStack::start(SERVER_ENV).await;
    let channel = stack.channel().await;
    let mut health_client = HealthClient::new(channel.clone());
    wait_for_health(&mut health_client, ServingStatus::Serving).await;
    assert_queries_answer(&channel).await;

    // A load balancer watches rather than polls: record every status the stream sends.
    let mut watch = within(
        CALL_LIMIT,
        "Health.Watch",
        health_client.watch(HealthCheckRequest {
            service: STATISTICS_SERVICE.into(),
        }),
    )
    .await
    .expect("Health.Watch starts")
    .into_inner();
    let watched = tokio::spawn(async move {
        let mut seen = Vec::new();
        while let Ok(Some(response)) = watch.message().await {
            let status = response.status();
            if seen.last() != Some(&status) {
                seen.push(status);
            }
            if seen.len() == 3 {
                break;
            }
        }
        seen
    });

    stack.stop_mariadb().await;
    wait_for_health(&mut health_client, ServingStatus::NotServing).await;
    assert_queries_unavailable(&channel, "while MySQL is stopped").await;

    stack.start_mariadb().await;
    wait_for_health(&mut health_client, ServingStatus::Serving).await;
    // The same server process and the same client connection: no restart, no reconnect.
    assert_queries_answer(&channel).await;
    assert!(
        stack.server.wait_exit(Duration::ZERO).is_none(),
        "ansinh-server must keep running through the outage"
    );

    let seen = within(HEALTH_LIMIT, "Health.Watch updates", watched)
        .await
        .expect("the watch task does not panic");
    assert_eq!(
        seen,
        [
            ServingStatus::Serving,
            ServingStatus::NotServing,
            ServingStatus::Serving
        ],
        "Health.Watch follows the database"
    );
}

#[tokio::test]
async fn a_database_that_stops_answering_means_unavailable_never_a_hang() {
    let stack = PrivateStack::start(SERVER_ENV).await;
    let channel = stack.channel().await;
    let mut health_client = HealthClient::new(channel.clone());
    wait_for_health(&mut health_client, ServingStatus::Serving).await;
    // Warm the pool: the paused server keeps these connections open but never answers on them.
    assert_queries_answer(&channel).await;

    let mut paused = PausedDatabase::pause(&stack.mariadb).await;
    wait_for_health(&mut health_client, ServingStatus::NotServing).await;
    assert_queries_unavailable(&channel, "while MySQL does not answer").await;

    paused.resume();
    wait_for_health(&mut health_client, ServingStatus::Serving).await;
    assert_queries_answer(&channel).await;
}
