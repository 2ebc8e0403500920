//! What the real `ansinh-server` tells its operators: the Prometheus series on the metrics port
//! after real calls (successes and errors, and a GetTimeSeries answered from the cache), and
//! JSON logs in which every line of a call carries
//! the call's request id, which the caller also gets back.

use std::{
    net::{SocketAddr, TcpStream},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use ansinh_proto::pb::{
    self, region_service_client::RegionServiceClient,
    statistics_service_client::StatisticsServiceClient,
};
use ansinh_tests::{
    ScratchDir, ServerProcess, free_port, metric_sample, metrics_response, migrated_database,
    sample_database, within,
};
use sha2::{Digest, Sha256};
use tonic::{Code, Request, metadata::MetadataValue};

const CALL_LIMIT: Duration = Duration::from_secs(20);

/// `GET /metrics` over plain HTTP/1.1: the status line, the content type and the body.
fn scrape(address: SocketAddr) -> (String, String, String) {
    let (head, body) = metrics_response(address).expect("a scrape of the metrics port");
    let status = head.lines().next().unwrap_or_default().to_owned();
    let content_type = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-type")
                .then(|| value.trim().to_owned())
        })
        .unwrap_or_default();
    (status, content_type, body)
}

/// The value of the sample written exactly `series` (name and labels), if exposed.
fn sample(body: &str, series: &str) -> Option<f64> {
    metric_sample(body, series)?.parse().ok()
}

/// Scrapes until `ready` holds for the body (the server counts a call when its response body
/// ends, just after the client has its answer), or fails after a few seconds.
fn scrape_until(address: SocketAddr, what: &str, ready: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, _, body) = scrape(address);
        if ready(&body) {
            return body;
        }
        assert!(Instant::now() < deadline, "{what}; last scrape:\n{body}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn wait_for_port(address: SocketAddr) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(address).is_err() {
        assert!(
            Instant::now() < deadline,
            "nothing listens on the metrics port {address}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test]
async fn the_metrics_port_exposes_calls_by_method_and_code_the_pool_the_cache_and_the_ledger() {
    let database = sample_database().await;
    let metrics_address: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let token = "metr1cs-t0ken";
    let hash: String = Sha256::digest(token.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    let callers = format!("dashboard read {hash}");
    let server = ServerProcess::start(
        database.url(),
        &[
            ("ANSINH_METRICS_LISTEN", &metrics_address.to_string()),
            ("ANSINH_DB_POOL_SIZE", "3"),
            ("ANSINH_TOKENS", &callers),
        ],
    );
    wait_for_port(metrics_address);
    fn authorized<T>(message: T) -> Request<T> {
        let mut request = Request::new(message);
        request.metadata_mut().insert(
            "authorization",
            MetadataValue::from_static("Bearer metr1cs-t0ken"),
        );
        request
    }

    let mut regions = RegionServiceClient::connect(server.endpoint())
        .await
        .unwrap();
    for code in ["68", "79"] {
        within(
            CALL_LIMIT,
            "GetRegion",
            regions.get_region(authorized(pb::GetRegionRequest {
                code: code.into(),
                as_of: "2024-06-01".into(),
            })),
        )
        .await
        .expect("GetRegion of a known code");
    }
    let not_found = within(
        CALL_LIMIT,
        "GetRegion of an unknown code",
        regions.get_region(authorized(pb::GetRegionRequest {
            code: "99".into(),
            as_of: "2024-06-01".into(),
        })),
    )
    .await
    .unwrap_err();
    assert_eq!(not_found.code(), Code::NotFound, "{not_found:?}");
    let invalid = within(
        CALL_LIMIT,
        "GetRegion without a code",
        regions.get_region(authorized(pb::GetRegionRequest::default())),
    )
    .await
    .unwrap_err();
    assert_eq!(invalid.code(), Code::InvalidArgument, "{invalid:?}");
    let unauthenticated = within(
        CALL_LIMIT,
        "GetRegion without a token",
        regions.get_region(pb::GetRegionRequest {
            code: "68".into(),
            as_of: String::new(),
        }),
    )
    .await
    .unwrap_err();
    assert_eq!(unauthenticated.code(), Code::Unauthenticated);

    // A server stream counts once, when its last message has gone.
    let mut statistics = StatisticsServiceClient::connect(server.endpoint())
        .await
        .unwrap();
    let mut export = within(
        CALL_LIMIT,
        "ExportObservations",
        statistics.export_observations(authorized(pb::ExportObservationsRequest {
            region_codes: vec!["68".into()],
            ..Default::default()
        })),
    )
    .await
    .expect("ExportObservations")
    .into_inner();
    let mut exported = 0;
    while within(CALL_LIMIT, "the next observation", export.message())
        .await
        .expect("an observation")
        .is_some()
    {
        exported += 1;
    }
    assert!(exported > 0, "the sample has observations of 68");

    // The cache: once its first check has read the ledger it serves, and nothing is cached yet.
    let before = scrape_until(metrics_address, "the cache's first generation", |body| {
        sample(body, "ansinh_cache_generations_total").is_some_and(|started| started >= 1.0)
    });
    for series in [
        "ansinh_cache_hits_total",
        "ansinh_cache_misses_total",
        "ansinh_cache_evictions_total",
        "ansinh_cache_entries",
        "ansinh_cache_bytes",
    ] {
        assert_eq!(
            sample(&before, series),
            Some(0.0),
            "{series} before any GetTimeSeries:\n{before}"
        );
    }
    assert!(
        sample(&before, "ansinh_cache_failed_checks_total").is_some(),
        "{before}"
    );
    // The same question twice: computed and cached (a miss), then answered from the cache.
    let question = pb::GetTimeSeriesRequest {
        region_code: "68".into(),
        indicator_code: "hi_participants".into(),
        geography_as_of: "2025-08-01".into(),
        ..Default::default()
    };
    let mut answers = Vec::new();
    for _ in 0..2 {
        let answer = within(
            CALL_LIMIT,
            "GetTimeSeries",
            statistics.get_time_series(authorized(question.clone())),
        )
        .await
        .expect("GetTimeSeries")
        .into_inner();
        assert!(!answer.points.is_empty(), "{answer:?}");
        answers.push(answer);
    }
    assert_eq!(
        answers[0], answers[1],
        "the cached answer is the computed one"
    );

    let region = |code: &str| {
        format!(
            "ansinh_grpc_requests_total{{service=\"ansinh.v1.RegionService\",method=\"GetRegion\",code=\"{code}\"}}"
        )
    };
    let export_ok = "ansinh_grpc_requests_total{service=\"ansinh.v1.StatisticsService\",method=\"ExportObservations\",code=\"OK\"}";
    let time_series_ok = "ansinh_grpc_requests_total{service=\"ansinh.v1.StatisticsService\",method=\"GetTimeSeries\",code=\"OK\"}";
    let body = scrape_until(metrics_address, "every call counted", |body| {
        sample(body, &region("OK")) == Some(2.0)
            && sample(body, &region("NOT_FOUND")) == Some(1.0)
            && sample(body, &region("INVALID_ARGUMENT")) == Some(1.0)
            && sample(body, &region("UNAUTHENTICATED")) == Some(1.0)
            && sample(body, export_ok) == Some(1.0)
            && sample(body, time_series_ok) == Some(2.0)
    });

    // The two GetTimeSeries calls moved the cache's series: one miss, one hit, one answer held.
    assert_eq!(
        sample(&body, "ansinh_cache_misses_total"),
        Some(1.0),
        "{body}"
    );
    assert_eq!(
        sample(&body, "ansinh_cache_hits_total"),
        Some(1.0),
        "{body}"
    );
    assert_eq!(sample(&body, "ansinh_cache_entries"), Some(1.0), "{body}");
    assert!(
        sample(&body, "ansinh_cache_bytes").is_some_and(|bytes| bytes > 0.0),
        "{body}"
    );
    assert_eq!(
        sample(&body, "ansinh_cache_evictions_total"),
        Some(0.0),
        "{body}"
    );

    // Latency: one histogram per method, counting every call whatever its code.
    assert_eq!(
        sample(
            &body,
            "ansinh_grpc_request_duration_seconds_count{service=\"ansinh.v1.RegionService\",method=\"GetRegion\"}"
        ),
        Some(5.0),
        "{body}"
    );
    assert_eq!(
        sample(
            &body,
            "ansinh_grpc_request_duration_seconds_bucket{le=\"+Inf\",service=\"ansinh.v1.RegionService\",method=\"GetRegion\"}"
        ),
        Some(5.0),
        "{body}"
    );
    assert_eq!(
        sample(&body, "ansinh_grpc_requests_in_flight"),
        Some(0.0),
        "{body}"
    );

    // The pool, as configured, and the database as the health check sees it.
    assert_eq!(
        sample(&body, "ansinh_db_pool_max_connections"),
        Some(3.0),
        "{body}"
    );
    let in_use = sample(&body, "ansinh_db_pool_connections{state=\"in_use\"}");
    let idle = sample(&body, "ansinh_db_pool_connections{state=\"idle\"}");
    assert!(
        matches!((in_use, idle), (Some(used), Some(free)) if used + free >= 1.0 && used + free <= 3.0),
        "{body}"
    );
    assert_eq!(
        sample(&body, "ansinh_db_pool_waiting_calls"),
        Some(0.0),
        "{body}"
    );
    assert_eq!(sample(&body, "ansinh_database_up"), Some(1.0), "{body}");

    // The ledger: the sample's one committed run, finished moments ago.
    assert_eq!(
        sample(&body, "ansinh_import_runs{status=\"committed\"}"),
        Some(1.0),
        "{body}"
    );
    assert_eq!(
        sample(&body, "ansinh_import_runs{status=\"failed\"}"),
        Some(0.0),
        "{body}"
    );
    let finished = sample(
        &body,
        "ansinh_import_last_finished_timestamp_seconds{status=\"committed\"}",
    )
    .expect("the committed run's finish time");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!(
        (now - finished).abs() < 3600.0,
        "finished {finished}, now {now}"
    );
    assert_eq!(
        sample(
            &body,
            &format!(
                "ansinh_build_info{{version=\"{}\"}}",
                env!("CARGO_PKG_VERSION")
            )
        ),
        Some(1.0),
        "{body}"
    );

    let (status, content_type, body) = scrape(metrics_address);
    assert!(status.contains(" 200 "), "{status}");
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    assert!(body.ends_with("# EOF\n"), "{body}");
}

/// The complete JSON log lines of the server's log file: a line the server is still writing
/// (no newline yet) is left for the next read.
fn json_lines(path: &std::path::Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(path).expect("reading the server's log");
    let complete = text.rfind('\n').map_or("", |end| &text[..end]);
    complete
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect()
}

/// The request id of the `call` span a log line was written in, if any.
fn request_id_of(line: &serde_json::Value) -> Option<&str> {
    line["spans"]
        .as_array()?
        .iter()
        .find(|span| span["name"] == "call")?
        .get("request_id")?
        .as_str()
}

#[tokio::test]
async fn every_log_line_of_a_call_carries_the_request_id_the_caller_gets_back() {
    let database = migrated_database().await;
    let scratch = ScratchDir::new("observability-request-ids");
    let log_path = scratch.0.join("server.log");
    let log = std::fs::File::create(&log_path).expect("creating the log file");
    let server = ServerProcess::start_with_stderr(
        database.url(),
        &[
            ("RUST_LOG", "info,ansinh_server=debug"),
            ("RUST_LOG_FORMAT", "json"),
            // A token nobody sends: the refused call logs why, inside its span.
            (
                "ANSINH_TOKENS",
                "nobody read 0000000000000000000000000000000000000000000000000000000000000000",
            ),
        ],
        log,
    );
    let mut regions = RegionServiceClient::connect(server.endpoint())
        .await
        .unwrap();

    // The caller's id is kept and echoed back.
    let mut request = Request::new(pb::GetRegionRequest {
        code: "68".into(),
        as_of: String::new(),
    });
    request
        .metadata_mut()
        .insert("x-request-id", MetadataValue::from_static("e2e-call-42"));
    let refused = within(CALL_LIMIT, "GetRegion", regions.get_region(request))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated);
    assert_eq!(
        refused.metadata().get("x-request-id").unwrap(),
        "e2e-call-42"
    );

    // Without one, the server makes one and says which.
    let made = within(
        CALL_LIMIT,
        "GetRegion",
        regions.get_region(pb::GetRegionRequest::default()),
    )
    .await
    .unwrap_err();
    let made = made
        .metadata()
        .get("x-request-id")
        .expect("a request id is always returned")
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(made.len(), 36, "a UUID: {made}");

    // The lines are written as the calls end; wait for both access lines.
    let deadline = Instant::now() + Duration::from_secs(10);
    let lines = loop {
        let lines = json_lines(&log_path);
        let finished = |id: &str| {
            lines.iter().any(|line| {
                line["target"] == "ansinh_server::access" && request_id_of(line) == Some(id)
            })
        };
        if finished("e2e-call-42") && finished(&made) {
            break lines;
        }
        assert!(
            Instant::now() < deadline,
            "no access lines for both calls in {lines:#?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    drop(server);

    // Every line written inside a call names its id; the refused call wrote two: why it was
    // refused, and its access line with the code.
    let of_call: Vec<_> = lines
        .iter()
        .filter(|line| request_id_of(line) == Some("e2e-call-42"))
        .collect();
    assert!(
        of_call
            .iter()
            .any(|line| line["fields"]["message"] == "call refused"),
        "{of_call:#?}"
    );
    let access = of_call
        .iter()
        .find(|line| line["target"] == "ansinh_server::access")
        .expect("the access line");
    assert_eq!(access["fields"]["code"], "UNAUTHENTICATED", "{access:#}");
    assert_eq!(access["span"]["rpc.method"], "GetRegion", "{access:#}");
    assert_eq!(
        access["span"]["rpc.service"], "ansinh.v1.RegionService",
        "{access:#}"
    );
    for line in &lines {
        let in_call = line["spans"]
            .as_array()
            .is_some_and(|spans| spans.iter().any(|span| span["name"] == "call"));
        if in_call {
            assert!(
                request_id_of(line).is_some_and(|id| !id.is_empty()),
                "a line of a call without its request id: {line:#}"
            );
        }
    }
}
