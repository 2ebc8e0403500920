//! The cache against a real database: a GetTimeSeries answer is served from the cache while
//! nothing changes, and a changed value becomes the answer once its import run commits,
//! without restarting the server.

use std::time::{Duration, Instant};

use ansinh_model::fixtures::date;
use ansinh_model::{IndicatorCode, NaiveDate, RegionCode};
use ansinh_proto::pb::{self, statistics_service_client::StatisticsServiceClient};
use ansinh_server::{Cache, Config};
use ansinh_store::import::{RunCounts, finish_run, start_run};
use ansinh_store::models::{ImportRunStatus, NewObservation};
use ansinh_store::queries;
use ansinh_store::schema::observations;
use ansinh_test_db::TestDatabase;
use clap::Parser;
use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
use rust_decimal::Decimal;

/// Writes `changes` (period end, value) for Lâm Đồng's HI participants as one committed run:
/// the data in one transaction, then the ledger entry marked committed, in the importer's order.
async fn commit_run(url: &str, region_id: u32, indicator_id: u32, changes: &[(&str, i64)]) {
    let mut ledger = ansinh_store::connect(url).await.unwrap();
    let run_id = start_run(&mut ledger, "cache test", false).await.unwrap();
    let mut data = ansinh_store::connect(url).await.unwrap();
    let rows: Vec<(NaiveDate, Decimal)> = changes
        .iter()
        .map(|(end, value)| (date(end), Decimal::from(*value)))
        .collect();
    data.batch_execute("START TRANSACTION").await.unwrap();
    for (end, value) in rows {
        diesel::replace_into(observations::table)
            .values(NewObservation {
                region_id,
                indicator_id,
                period_end: end,
                period_start: end,
                value,
                qualifier: 0,
                source_id: None,
                note: None,
                import_run_id: run_id,
            })
            .execute(&mut data)
            .await
            .unwrap();
    }
    data.batch_execute("COMMIT").await.unwrap();
    let counts = RunCounts {
        inserted: changes.len() as u64,
        ..RunCounts::default()
    };
    finish_run(
        &mut ledger,
        run_id,
        ImportRunStatus::Committed,
        counts,
        None,
        &[],
    )
    .await
    .unwrap();
}

fn values(answer: &pb::GetTimeSeriesResponse) -> Vec<(String, String)> {
    answer
        .points
        .iter()
        .map(|point| {
            let period = point.period.clone().unwrap_or_default();
            (period.end_date, point.value.clone())
        })
        .collect()
}

#[tokio::test]
async fn a_committed_run_replaces_cached_answers_without_a_restart() {
    let database = TestDatabase::new().await;
    let url = database.url().to_owned();
    ansinh_store::run_pending_migrations(&url).await.unwrap();
    let mut conn = ansinh_store::connect(&url).await.unwrap();
    ansinh_store::install_reference_data(&mut conn)
        .await
        .unwrap();
    let lam_dong = queries::region_at(
        &mut conn,
        &RegionCode::parse("68").unwrap(),
        date("2024-06-01"),
    )
    .await
    .unwrap()
    .expect("the old Lâm Đồng");
    let participants =
        queries::indicator_by_code(&mut conn, &IndicatorCode::parse("hi_participants").unwrap())
            .await
            .unwrap()
            .expect("hi_participants in the catalog");
    commit_run(
        &url,
        lam_dong.id,
        participants.id,
        &[("2023-12-31", 1_250_000), ("2024-12-31", 1_269_187)],
    )
    .await;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let config = Config::try_parse_from([
        "ansinh-server",
        "--database-url",
        url.as_str(),
        "--cache-check-interval",
        "50ms",
    ])
    .unwrap();
    let cache = Cache::new(config.cache_settings());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(ansinh_server::serve_with_cache(
        listener,
        config,
        cache.clone(),
        async move {
            let _ = stopped.await;
        },
    ));
    let mut client = StatisticsServiceClient::connect(format!("http://{address}"))
        .await
        .unwrap();
    let request = pb::GetTimeSeriesRequest {
        region_code: "68".into(),
        indicator_code: "hi_participants".into(),
        end_date: "2025-06-30".into(),
        ..Default::default()
    };
    let before = [
        ("2023-12-31".to_owned(), "1250000".to_owned()),
        ("2024-12-31".to_owned(), "1269187".to_owned()),
    ];

    // Ask until an answer comes from the cache (its first check may still be under way).
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let answer = client.get_time_series(request.clone()).await.unwrap();
        assert_eq!(values(answer.get_ref()), before);
        if cache.counters().hits > 0 {
            break;
        }
        assert!(Instant::now() < deadline, "no answer came from the cache");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let generations = cache.counters().generations;

    commit_run(
        &url,
        lam_dong.id,
        participants.id,
        &[("2024-12-31", 1_300_000)],
    )
    .await;

    // The new value is the answer within a few check intervals, from the same server.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let answer = client.get_time_series(request.clone()).await.unwrap();
        let now = values(answer.get_ref());
        if now[1].1 == "1300000" {
            assert_eq!(now[0], before[0]);
            break;
        }
        assert_eq!(now, before, "an answer neither old nor new");
        assert!(
            Instant::now() < deadline,
            "the changed value was not served 10 s after its run committed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        cache.counters().generations > generations,
        "the new answer came without a new generation"
    );
    // And it is cached again.
    let hits = cache.counters().hits;
    let answer = client.get_time_series(request.clone()).await.unwrap();
    assert_eq!(values(answer.get_ref())[1].1, "1300000");
    assert_eq!(cache.counters().hits, hits + 1);

    let _ = stop.send(());
    server.await.unwrap().unwrap();
}
