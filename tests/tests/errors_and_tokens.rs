//! What a client of the real `ansinh-server` gets back for requests a prober would send: an
//! INVALID_ARGUMENT small enough for any client to read, whatever the request held (issue 17,
//! F4: a 786 KB region code used to come back as 1.57 MB of trailers), and page tokens that are
//! refused once edited, and accepted by every server that shares the key.

use std::time::Duration;

use ansinh_proto::pb::{
    self, import_service_client::ImportServiceClient,
    indicator_service_client::IndicatorServiceClient, region_service_client::RegionServiceClient,
    statistics_service_client::StatisticsServiceClient,
};
use ansinh_tests::{ServerProcess, migrated_database, within};
use tonic::{Code, Status};
use tonic_types::StatusExt;

const CALL_LIMIT: Duration = Duration::from_secs(20);

/// The most a client should have to accept as the header list of one error: 8 KiB is the
/// smallest default among common gRPC clients.
const TRAILER_LIMIT: usize = 8192;

/// An upper bound of the header list `status` arrived in, as HTTP/2 counts it (name, value and
/// 32 bytes per entry): the message percent-encoded (at most three bytes for one), the details
/// in base64, and every other entry as received.
fn header_list_bytes(status: &Status) -> usize {
    let entry = |name: usize, value: usize| name + value + 32;
    let others: usize = status
        .metadata()
        .clone()
        .into_headers()
        .iter()
        .map(|(name, value)| entry(name.as_str().len(), value.len()))
        .sum();
    others
        + entry("grpc-status".len(), 2)
        + entry("grpc-message".len(), status.message().len() * 3)
        + entry(
            "grpc-status-details-bin".len(),
            status.details().len().div_ceil(3) * 4,
        )
}

#[tokio::test]
async fn bad_requests_of_any_size_get_an_invalid_argument_every_client_can_read() {
    let database = migrated_database().await;
    let server = ServerProcess::start(database.url(), &[]);
    let channel = tonic::transport::Endpoint::from_shared(server.endpoint())
        .unwrap()
        .connect()
        .await
        .expect("connecting to ansinh-server");
    let mut regions = RegionServiceClient::new(channel.clone());
    let mut statistics = StatisticsServiceClient::new(channel);

    // One 786 KB code: the answer quotes a prefix of it and says how long it was.
    let code = "6".repeat(786_432);
    let status = within(
        CALL_LIMIT,
        "GetRegion with a 786 KB code",
        regions.get_region(pb::GetRegionRequest {
            code: code.clone(),
            as_of: String::new(),
        }),
    )
    .await
    .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    let bad_request = status
        .get_details_bad_request()
        .expect("BadRequest details the client can decode");
    let [violation] = bad_request.field_violations.as_slice() else {
        panic!("one violation: {bad_request:?}");
    };
    assert_eq!(violation.field, "code");
    assert!(
        violation.description.len() <= 200
            && violation.description.contains("(786,432 bytes)")
            && violation.description.contains("GSO codes have 2 digits"),
        "{}",
        violation.description
    );
    assert!(!status.message().contains(&code[..1000]));
    let size = header_list_bytes(&status);
    assert!(size < 4096, "a 786 KB code: {size} bytes of trailers");

    // 10,000 bad codes: twenty are listed, one more counts the rest.
    let status = within(
        CALL_LIMIT,
        "GetTargetAttainment with 10,000 bad codes",
        statistics.get_target_attainment(pb::GetTargetAttainmentRequest {
            region_codes: (0..10_000).map(|i| format!("bad code {i}")).collect(),
            indicator_code: "hi_coverage_rate".into(),
            period: "2024".into(),
        }),
    )
    .await
    .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    let listed = status
        .get_details_bad_request()
        .expect("BadRequest details the client can decode")
        .field_violations;
    assert_eq!(listed.len(), 21, "{listed:?}");
    assert_eq!(listed[0].field, "region_codes[0]");
    assert!(
        listed[0].description.contains("\"bad code 0\""),
        "{:?}",
        listed[0]
    );
    assert_eq!(listed[20].field, "region_codes[20]");
    assert!(
        listed[20]
            .description
            .starts_with("this and 9,979 more violations are not listed"),
        "{:?}",
        listed[20]
    );
    assert!(
        status
            .message()
            .starts_with("invalid request: region_codes[0]: ")
            && status.message().ends_with(" more violations"),
        "{}",
        status.message()
    );
    let size = header_list_bytes(&status);
    assert!(
        size < TRAILER_LIMIT,
        "10,000 bad codes: {size} bytes of trailers"
    );
}

/// The first page of provinces valid on 2024-06-01, ten at a time.
fn provinces(page_token: &str) -> pb::ListRegionsRequest {
    pb::ListRegionsRequest {
        level: pb::RegionLevel::Province as i32,
        as_of: "2024-06-01".into(),
        page_size: 10,
        page_token: page_token.into(),
        ..Default::default()
    }
}

/// The codes of a page of regions.
fn codes(page: &pb::ListRegionsResponse) -> Vec<&str> {
    page.regions.iter().map(|r| r.code.as_str()).collect()
}

/// The fields of the violations of `status`, with their descriptions.
fn violations(status: &Status) -> Vec<(String, String)> {
    status
        .get_details_bad_request()
        .expect("BadRequest details")
        .field_violations
        .into_iter()
        .map(|v| (v.field, v.description))
        .collect()
}

#[tokio::test]
async fn an_edited_page_token_is_refused_and_an_unedited_one_pages_on() {
    let database = migrated_database().await;
    let server = ServerProcess::start(database.url(), &[]);
    let mut regions = RegionServiceClient::connect(server.endpoint())
        .await
        .expect("connecting to ansinh-server");

    let first = regions
        .list_regions(provinces(""))
        .await
        .unwrap()
        .into_inner();
    let token = first.next_page_token.clone();
    assert!(!token.is_empty(), "63 provinces need more than one page");

    // One character changed anywhere: at the start (the version), in the cursor, in the tag.
    for at in [0, token.len() / 3, token.len() / 2, token.len() - 1] {
        let mut edited = token.clone().into_bytes();
        edited[at] = if edited[at] == b'a' { b'b' } else { b'a' };
        let edited = String::from_utf8(edited).unwrap();
        let status = regions.list_regions(provinces(&edited)).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "edited at {at}");
        let violations = violations(&status);
        assert_eq!(violations.len(), 1, "{violations:?}");
        assert_eq!(violations[0].0, "page_token");
        assert!(
            violations[0]
                .1
                .starts_with("is not a page token this server issued"),
            "edited at {at}: {violations:?}"
        );
    }

    let second = regions
        .list_regions(provinces(&token))
        .await
        .expect("the unedited token")
        .into_inner();
    assert_eq!(second.regions.len(), 10);
    assert!(
        codes(&second)
            .iter()
            .all(|code| !codes(&first).contains(code)),
        "the second page goes on from the first: {:?} then {:?}",
        codes(&first),
        codes(&second)
    );
}

#[tokio::test]
async fn page_tokens_work_on_every_server_with_the_key_and_only_in_their_method() {
    let database = migrated_database().await;
    let key = (
        "ANSINH_PAGE_TOKEN_KEY",
        "a page token key the replicas share, 32+ bytes",
    );
    let issuer = ServerProcess::start(database.url(), &[key]);
    let mut regions = RegionServiceClient::connect(issuer.endpoint())
        .await
        .expect("connecting to ansinh-server");
    let token = regions
        .list_regions(provinces(""))
        .await
        .unwrap()
        .into_inner()
        .next_page_token;
    let expected = codes(
        &regions
            .list_regions(provinces(&token))
            .await
            .unwrap()
            .into_inner(),
    )
    .join(",");

    // Another replica (or the same server after a restart) with the same key reads it.
    let replica = ServerProcess::start(database.url(), &[key]);
    let mut replica_regions = RegionServiceClient::connect(replica.endpoint())
        .await
        .expect("connecting to the replica");
    let page = replica_regions
        .list_regions(provinces(&token))
        .await
        .expect("a replica with the same key accepts the token")
        .into_inner();
    assert_eq!(codes(&page).join(","), expected);

    // A server with its own random key does not.
    let stranger = ServerProcess::start(database.url(), &[]);
    let mut stranger_regions = RegionServiceClient::connect(stranger.endpoint())
        .await
        .expect("connecting to the server without the key");
    let status = stranger_regions
        .list_regions(provinces(&token))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(violations(&status)[0].0, "page_token");

    // A ListIndicators token is no ListImportRuns token, though both have an empty filter.
    let mut indicators = IndicatorServiceClient::connect(issuer.endpoint())
        .await
        .unwrap();
    let token = indicators
        .list_indicators(pb::ListIndicatorsRequest {
            page_size: 1,
            page_token: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .next_page_token;
    assert!(!token.is_empty(), "the catalog has more than one indicator");
    let mut imports = ImportServiceClient::connect(issuer.endpoint())
        .await
        .unwrap();
    let status = imports
        .list_import_runs(pb::ListImportRunsRequest {
            page_size: 1,
            page_token: token,
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        violations(&status)[0]
            .1
            .starts_with("is not a page token this server issued"),
        "{status:?}"
    );
}
