//! A third-party client without our .proto files: `buf curl` learns the API from the server's
//! reflection service (v1, and v1alpha for older tools), calls it with JSON, and reads the
//! health service the same way. buf comes from npm (`@bufbuild/buf`, which ships the binary)
//! and is installed under `.tmp/buf`, where `deploy/buf-check.sh` installs it too; on a fresh
//! Debian machine without npm, the test installs npm first (as root).

use std::{process::Command, time::Duration};

use ansinh_tests::{ServerProcess, describe, output_within, sample_database};
use serde_json::Value;

mod tools;

/// Time for one `buf curl` (reflection plus one call on loopback take well under a second).
const CALL_LIMIT: Duration = Duration::from_secs(60);
/// `buf curl` over gRPC (not Connect) with HTTP/2 without TLS, as a gRPC client would.
fn buf_curl(args: &[&str]) -> std::process::Output {
    output_within(
        Command::new(tools::buf_bin_dir().join("buf"))
            .args([
                "curl",
                "--protocol",
                "grpc",
                "--http2-prior-knowledge",
                "--timeout",
                "30s",
            ])
            .args(args),
        CALL_LIMIT,
    )
}

fn json(output: &std::process::Output) -> Value {
    assert!(
        output.status.success(),
        "buf curl failed: {}",
        describe(output)
    );
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("buf curl printed no JSON ({e}): {}", describe(output)))
}

fn lines(output: &std::process::Output) -> Vec<String> {
    assert!(
        output.status.success(),
        "buf curl failed: {}",
        describe(output)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn buf_curl_calls_the_api_through_reflection_alone() {
    let database = sample_database().await;
    let server = ServerProcess::start(database.url(), &[]);
    let endpoint = server.endpoint();

    // Did Lâm Đồng reach its HI coverage target in 2024? 94.56% against 93.65%: yes.
    let answer = json(&buf_curl(&[
        "--reflect-protocol",
        "grpc-v1",
        "--data",
        r#"{"regionCodes": ["68"], "indicatorCode": "hi_coverage_rate", "period": "2024"}"#,
        &format!("{endpoint}/ansinh.v1.StatisticsService/GetTargetAttainment"),
    ]));
    let lam_dong = &answer["attainments"][0];
    assert_eq!(lam_dong["region"]["code"], "68");
    assert_eq!(lam_dong["region"]["name"], "Lâm Đồng");
    assert_eq!(lam_dong["actual"], "94.56");
    assert_eq!(lam_dong["target"], "93.65");
    assert_eq!(lam_dong["difference"], "0.91");
    assert_eq!(lam_dong["differenceUnit"], "UNIT_PERCENTAGE_POINTS");
    assert_eq!(lam_dong["status"], "ATTAINMENT_STATUS_MET");

    // Every method, found through v1 reflection, including health and reflection itself.
    let methods = lines(&buf_curl(&[
        "--reflect-protocol",
        "grpc-v1",
        "--list-methods",
        &endpoint,
    ]));
    for method in [
        "ansinh.v1.RegionService/GetRegion",
        "ansinh.v1.IndicatorService/ListIndicators",
        "ansinh.v1.StatisticsService/GetTargetAttainment",
        "ansinh.v1.StatisticsService/ExportObservations",
        "ansinh.v1.ImportService/ListImportRuns",
        "grpc.health.v1.Health/Check",
        "grpc.health.v1.Health/Watch",
        "grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
    ] {
        assert!(
            methods.iter().any(|line| line == method),
            "v1 reflection lists {method}; it listed:\n{}",
            methods.join("\n")
        );
    }

    // Older tools speak v1alpha reflection: the same services are there.
    let services = lines(&buf_curl(&[
        "--reflect-protocol",
        "grpc-v1alpha",
        "--list-services",
        &endpoint,
    ]));
    for service in [
        "ansinh.v1.RegionService",
        "ansinh.v1.IndicatorService",
        "ansinh.v1.StatisticsService",
        "ansinh.v1.ImportService",
        "grpc.health.v1.Health",
    ] {
        assert!(
            services.iter().any(|line| line == service),
            "v1alpha reflection lists {service}; it listed:\n{}",
            services.join("\n")
        );
    }

    // The health service's descriptors come through reflection too.
    let health = json(&buf_curl(&[
        "--data",
        r#"{"service": "ansinh.v1.StatisticsService"}"#,
        &format!("{endpoint}/grpc.health.v1.Health/Check"),
    ]));
    assert_eq!(health["status"], "SERVING");

    // Errors reach a JSON client as gRPC codes with a message a person can act on.
    let unknown = buf_curl(&[
        "--data",
        r#"{"code": "99", "asOf": "2024-06-01"}"#,
        &format!("{endpoint}/ansinh.v1.RegionService/GetRegion"),
    ]);
    assert!(
        !unknown.status.success(),
        "an unknown region fails: {}",
        describe(&unknown)
    );
    let error: Value = serde_json::from_slice(&unknown.stderr).unwrap_or_else(|e| {
        panic!(
            "buf curl reports the error as JSON ({e}): {}",
            describe(&unknown)
        )
    });
    assert_eq!(error["code"], "not_found", "{error}");
    assert!(
        error["message"].as_str().is_some_and(|m| m.contains("99")),
        "the message names the code: {error}"
    );
}
