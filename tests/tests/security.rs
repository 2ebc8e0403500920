//! Transport security of the real `ansinh-server`: TLS and mutual TLS handshakes against
//! certificates made at test time (a throwaway CA per test, never a real one), bearer tokens and
//! their scopes, message-size limits, and the startup errors of unusable settings.

use std::{process::Command, time::Duration};

use ansinh_proto::pb::{
    self, import_service_client::ImportServiceClient,
    indicator_service_client::IndicatorServiceClient, region_service_client::RegionServiceClient,
    statistics_service_client::StatisticsServiceClient,
};
use ansinh_tests::{
    ScratchDir, ServerProcess, binary, migrated_database, output_within, sample_database, within,
};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use sha2::{Digest, Sha256};
use tonic::{
    Code, Request,
    metadata::MetadataValue,
    transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity},
};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};
use tonic_reflection::pb::v1::{
    ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
    server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
};

const CALL_LIMIT: Duration = Duration::from_secs(20);

/// A certificate authority made for one test.
struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl TestCa {
    fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        params
            .distinguished_name
            .push(DnType::CommonName, format!("ansinh test CA {name}"));
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().expect("a CA key");
        Self {
            issuer: CertifiedIssuer::self_signed(params, key).expect("a self-signed CA"),
        }
    }

    fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// A certificate for `name` signed by this CA, and its key, both PEM.
    fn issue(&self, name: &str, usage: ExtendedKeyUsagePurpose) -> (String, String) {
        let mut params = CertificateParams::new(vec![name.to_owned()]).expect("leaf parameters");
        params.distinguished_name.push(DnType::CommonName, name);
        params.extended_key_usages = vec![usage];
        let key = KeyPair::generate().expect("a leaf key");
        let certificate = params
            .signed_by(&key, &self.issuer)
            .expect("signing a leaf certificate");
        (certificate.pem(), key.serialize_pem())
    }
}

/// A server speaking TLS with a certificate for "localhost" from `ca`, and the extra settings.
fn tls_server(
    database_url: &str,
    files: &ScratchDir,
    ca: &TestCa,
    extra_env: &[(&str, &str)],
) -> ServerProcess {
    let (cert, key) = ca.issue("localhost", ExtendedKeyUsagePurpose::ServerAuth);
    let cert = files.write("server.pem", &cert);
    let key = files.write("server.key", &key);
    let mut env = vec![
        ("ANSINH_TLS_CERT", cert.as_str()),
        ("ANSINH_TLS_KEY", key.as_str()),
    ];
    env.extend_from_slice(extra_env);
    ServerProcess::start(database_url, &env)
}

/// A TLS channel to `server` that trusts `trusted` and presents `identity` (cert, key) if any.
async fn tls_channel(
    server: &ServerProcess,
    trusted: &TestCa,
    identity: Option<&(String, String)>,
) -> Result<Channel, tonic::transport::Error> {
    let mut tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(trusted.pem()))
        .domain_name("localhost");
    if let Some((cert, key)) = identity {
        tls = tls.identity(Identity::from_pem(cert, key));
    }
    Endpoint::from_shared(format!("https://{}", server.address()))
        .expect("an endpoint")
        .tls_config(tls)?
        .connect_timeout(Duration::from_secs(5))
        .connect()
        .await
}

/// GetRegion over `channel`, or the reason it failed (a refused handshake surfaces as an error
/// of the first call in TLS 1.3, when the client has already sent its certificate).
async fn get_region(channel: Result<Channel, tonic::transport::Error>) -> Result<String, String> {
    let channel = channel.map_err(|e| format!("connect: {e:?}"))?;
    within(
        CALL_LIMIT,
        "GetRegion over TLS",
        RegionServiceClient::new(channel).get_region(pb::GetRegionRequest {
            code: "68".into(),
            as_of: "2024-06-01".into(),
        }),
    )
    .await
    .map(|response| response.into_inner().name)
    .map_err(|status| format!("call: {status:?}"))
}

#[tokio::test]
async fn tls_clients_that_trust_the_ca_are_served_and_others_are_not() {
    let database = migrated_database().await;
    let files = ScratchDir::new("security-tls");
    let ca = TestCa::new("server");
    let server = tls_server(database.url(), &files, &ca, &[]);

    let answer = get_region(tls_channel(&server, &ca, None).await).await;
    assert_eq!(
        answer.as_deref(),
        Ok("Lâm Đồng"),
        "a client trusting the CA"
    );

    let stranger = TestCa::new("stranger");
    let refused = get_region(tls_channel(&server, &stranger, None).await).await;
    assert!(
        refused.is_err(),
        "a client trusting another CA must not get an answer: {refused:?}"
    );

    let plaintext = get_region(
        Endpoint::from_shared(server.endpoint())
            .unwrap()
            .connect_timeout(Duration::from_secs(5))
            .connect()
            .await,
    )
    .await;
    assert!(
        plaintext.is_err(),
        "a plaintext client must not get an answer from a TLS server: {plaintext:?}"
    );
}

#[tokio::test]
async fn mutual_tls_serves_only_clients_with_a_certificate_from_the_client_ca() {
    let database = migrated_database().await;
    let files = ScratchDir::new("security-mtls");
    let server_ca = TestCa::new("server");
    let client_ca = TestCa::new("clients");
    let client_ca_path = files.write("clients-ca.pem", &client_ca.pem());
    let server = tls_server(
        database.url(),
        &files,
        &server_ca,
        &[("ANSINH_TLS_CLIENT_CA", &client_ca_path)],
    );

    let without = get_region(tls_channel(&server, &server_ca, None).await).await;
    assert!(
        without.is_err(),
        "a client without a certificate must be refused: {without:?}"
    );

    let stranger = TestCa::new("stranger").issue("dashboard", ExtendedKeyUsagePurpose::ClientAuth);
    let foreign = get_region(tls_channel(&server, &server_ca, Some(&stranger)).await).await;
    assert!(
        foreign.is_err(),
        "a client certificate from another CA must be refused: {foreign:?}"
    );

    let admitted = client_ca.issue("dashboard", ExtendedKeyUsagePurpose::ClientAuth);
    let answer = get_region(tls_channel(&server, &server_ca, Some(&admitted)).await).await;
    assert_eq!(
        answer.as_deref(),
        Ok("Lâm Đồng"),
        "a client certificate from the client CA"
    );
}

fn sha256_hex(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// `request` with `authorization: Bearer token`.
fn bearer<T>(token: &str, message: T) -> Request<T> {
    let mut request = Request::new(message);
    request.metadata_mut().insert(
        "authorization",
        MetadataValue::try_from(format!("Bearer {token}")).unwrap(),
    );
    request
}

async fn list_import_runs(
    channel: &Channel,
    token: Option<&str>,
) -> Result<pb::ListImportRunsResponse, tonic::Status> {
    let message = pb::ListImportRunsRequest::default();
    let request = match token {
        Some(token) => bearer(token, message),
        None => Request::new(message),
    };
    within(
        CALL_LIMIT,
        "ListImportRuns",
        ImportServiceClient::new(channel.clone()).list_import_runs(request),
    )
    .await
    .map(tonic::Response::into_inner)
}

async fn get_region_as(
    channel: &Channel,
    token: Option<&str>,
) -> Result<pb::Region, tonic::Status> {
    let message = pb::GetRegionRequest {
        code: "68".into(),
        as_of: "2024-06-01".into(),
    };
    let request = match token {
        Some(token) => bearer(token, message),
        None => Request::new(message),
    };
    within(
        CALL_LIMIT,
        "GetRegion",
        RegionServiceClient::new(channel.clone()).get_region(request),
    )
    .await
    .map(tonic::Response::into_inner)
}

async fn health(channel: &Channel, token: Option<&str>) -> Result<i32, tonic::Status> {
    let message = HealthCheckRequest {
        service: String::new(),
    };
    let request = match token {
        Some(token) => bearer(token, message),
        None => Request::new(message),
    };
    within(
        CALL_LIMIT,
        "Health.Check",
        HealthClient::new(channel.clone()).check(request),
    )
    .await
    .map(|response| response.into_inner().status)
}

/// The services reflection lists, asked without a token.
async fn reflected_services(channel: &Channel) -> Result<Vec<String>, tonic::Status> {
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = within(
        CALL_LIMIT,
        "ServerReflectionInfo",
        ServerReflectionClient::new(channel.clone())
            .server_reflection_info(tokio_stream::iter([request])),
    )
    .await?
    .into_inner();
    let response = within(CALL_LIMIT, "the reflection answer", responses.message())
        .await?
        .expect("one answer");
    match response.message_response {
        Some(MessageResponse::ListServicesResponse(list)) => Ok(list
            .service
            .into_iter()
            .map(|service| service.name)
            .collect()),
        other => panic!("reflection answered {other:?}"),
    }
}

async fn plaintext_channel(server: &ServerProcess) -> Channel {
    Endpoint::from_shared(server.endpoint())
        .unwrap()
        .connect()
        .await
        .expect("connecting to ansinh-server")
}

#[tokio::test]
async fn tokens_open_exactly_the_services_of_their_scopes_and_are_never_logged() {
    let database = migrated_database().await;
    let files = ScratchDir::new("security-tokens");
    let (read_token, admin_token) = ("r3ad-t0ken-for-the-dashboard", "adm1n-t0ken-for-operations");
    let token_file = files.write(
        "tokens",
        &format!(
            "# name      scopes  sha256 of the token\n\
             dashboard   read    {}\n\
             operations  admin   {}\n",
            sha256_hex(read_token),
            sha256_hex(admin_token)
        ),
    );
    let log_path = files.0.join("server.log");
    let log = std::fs::File::create(&log_path).expect("creating the log file");
    let server = ServerProcess::start_with_stderr(
        database.url(),
        &[
            ("ANSINH_TOKEN_FILE", &token_file),
            ("RUST_LOG", "debug"),
            ("RUST_LOG_FORMAT", "json"),
        ],
        log,
    );
    let channel = plaintext_channel(&server).await;

    // No token, or one the server does not know: UNAUTHENTICATED, with a Bearer challenge.
    let missing = get_region_as(&channel, None).await.unwrap_err();
    assert_eq!(missing.code(), Code::Unauthenticated, "{missing:?}");
    assert!(missing.message().contains("Bearer"), "{missing:?}");
    assert_eq!(
        missing.metadata().get("www-authenticate").unwrap(),
        "Bearer realm=\"ansinh\""
    );
    let wrong = get_region_as(&channel, Some("not-a-token-of-this-server"))
        .await
        .unwrap_err();
    assert_eq!(wrong.code(), Code::Unauthenticated, "{wrong:?}");
    assert_eq!(
        wrong.metadata().get("www-authenticate").unwrap(),
        "Bearer realm=\"ansinh\", error=\"invalid_token\""
    );
    // The hash in the file is not a token: knowing it does not let anyone in.
    let hash = get_region_as(&channel, Some(&sha256_hex(read_token)))
        .await
        .unwrap_err();
    assert_eq!(hash.code(), Code::Unauthenticated, "{hash:?}");
    let missing_admin = list_import_runs(&channel, None).await.unwrap_err();
    assert_eq!(missing_admin.code(), Code::Unauthenticated);

    // `read` opens the queries, not the ledger.
    let region = get_region_as(&channel, Some(read_token)).await.unwrap();
    assert_eq!(region.name, "Lâm Đồng");
    let catalog = within(
        CALL_LIMIT,
        "ListIndicators",
        IndicatorServiceClient::new(channel.clone())
            .list_indicators(bearer(read_token, pb::ListIndicatorsRequest::default())),
    )
    .await
    .expect("ListIndicators with the read token")
    .into_inner();
    assert!(!catalog.indicators.is_empty());
    let denied = list_import_runs(&channel, Some(read_token))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied, "{denied:?}");
    assert!(
        denied.message().contains("dashboard") && denied.message().contains("\"admin\""),
        "PERMISSION_DENIED names the caller and the scope it lacks: {denied:?}"
    );

    // `admin` opens the ledger, and implies `read`.
    list_import_runs(&channel, Some(admin_token))
        .await
        .expect("ListImportRuns with the admin token");
    get_region_as(&channel, Some(admin_token))
        .await
        .expect("GetRegion with the admin token");

    // Health and reflection stay open: the kubelet's probe and grpcurl need no token.
    assert_eq!(
        health(&channel, None).await.unwrap(),
        ServingStatus::Serving as i32
    );
    let services = reflected_services(&channel).await.unwrap();
    assert!(
        services
            .iter()
            .any(|name| name == "ansinh.v1.RegionService"),
        "{services:?}"
    );

    // Every call above was logged at debug level; no token appears in the log, the callers'
    // names do.
    drop(server);
    let log = std::fs::read_to_string(&log_path).expect("reading the server's log");
    for secret in [read_token, admin_token, "not-a-token-of-this-server"] {
        assert!(!log.contains(secret), "the log holds a token: {secret}");
    }
    assert!(
        log.contains("\"caller\":\"dashboard\"") && log.contains("\"caller\":\"operations\""),
        "the log names the callers"
    );
}

#[tokio::test]
async fn protected_health_and_reflection_need_a_read_token() {
    let database = migrated_database().await;
    let token = "pr0be-t0ken";
    let callers = format!("probe read {}", sha256_hex(token));
    let server = ServerProcess::start(
        database.url(),
        &[
            ("ANSINH_TOKENS", &callers),
            ("ANSINH_PROTECT_HEALTH_AND_REFLECTION", "true"),
        ],
    );
    let channel = plaintext_channel(&server).await;

    let refused = health(&channel, None).await.unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated, "{refused:?}");
    let refused = reflected_services(&channel).await.unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated, "{refused:?}");
    // The server may still be waiting for its first database check.
    let status = health(&channel, Some(token)).await.unwrap();
    assert!(
        [
            ServingStatus::Serving as i32,
            ServingStatus::NotServing as i32
        ]
        .contains(&status),
        "{status}"
    );
}

#[tokio::test]
async fn requests_over_the_size_limit_are_refused() {
    let database = migrated_database().await;
    let server = ServerProcess::start(database.url(), &[("ANSINH_MAX_REQUEST_SIZE", "1KiB")]);
    let mut statistics = StatisticsServiceClient::connect(server.endpoint())
        .await
        .expect("connecting to ansinh-server");
    let attainment = |regions: usize| pb::GetTargetAttainmentRequest {
        region_codes: (0..regions).map(|_| "68".to_owned()).collect(),
        indicator_code: "hi_coverage_rate".into(),
        period: "2024".into(),
    };

    within(
        CALL_LIMIT,
        "a small GetTargetAttainment",
        statistics.get_target_attainment(attainment(10)),
    )
    .await
    .expect("a request under the limit is served");
    let refused = within(
        CALL_LIMIT,
        "a large GetTargetAttainment",
        statistics.get_target_attainment(attainment(500)),
    )
    .await
    .unwrap_err();
    assert_eq!(refused.code(), Code::OutOfRange, "{refused:?}");
    assert!(refused.message().contains("limit"), "{refused:?}");

    // GetTimeSeries is answered by a service of its own (from encoded bytes); the limit holds
    // there too, before the request is read.
    let refused = within(
        CALL_LIMIT,
        "a large GetTimeSeries",
        statistics.get_time_series(pb::GetTimeSeriesRequest {
            region_code: "6".repeat(2048),
            indicator_code: "hi_participants".into(),
            ..Default::default()
        }),
    )
    .await
    .unwrap_err();
    assert_eq!(refused.code(), Code::OutOfRange, "{refused:?}");
}

#[tokio::test]
async fn answers_over_the_size_limit_are_refused_cached_or_not() {
    let database = sample_database().await;
    let server = ServerProcess::start(database.url(), &[("ANSINH_MAX_RESPONSE_SIZE", "256")]);
    let mut statistics = StatisticsServiceClient::connect(server.endpoint())
        .await
        .expect("connecting to ansinh-server");
    let question = pb::GetTimeSeriesRequest {
        region_code: "68".into(),
        indicator_code: "hi_participants".into(),
        geography_as_of: "2025-08-01".into(),
        ..Default::default()
    };
    // The first answer is computed (and cached), later ones come from the cache as bytes
    // already encoded: neither is sent when it is larger than the limit.
    for attempt in ["computed", "cached"] {
        let refused = within(
            CALL_LIMIT,
            "GetTimeSeries",
            statistics.get_time_series(question.clone()),
        )
        .await
        .unwrap_err();
        assert_eq!(refused.code(), Code::OutOfRange, "{attempt}: {refused:?}");
    }
}

/// Runs the server with `env` and expects it to stop at once, returning its stderr.
fn failed_start(env: &[(&str, &str)]) -> String {
    let mut command = Command::new(binary("ansinh-server"));
    command
        .env("ANSINH_LISTEN", "127.0.0.1:0")
        // Never reached: the settings are checked before the database is.
        .env("DATABASE_URL", "mysql://nobody@127.0.0.1:1/none")
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied());
    let output = output_within(&mut command, Duration::from_secs(30));
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        !output.status.success(),
        "ansinh-server started with {env:?}: {stderr}"
    );
    stderr
}

#[test]
fn unusable_settings_stop_the_server_with_a_message_naming_the_file() {
    let files = ScratchDir::new("security-startup");
    let ca = TestCa::new("startup");
    let (cert, key) = ca.issue("localhost", ExtendedKeyUsagePurpose::ServerAuth);
    let cert = files.write("server.pem", &cert);
    let key = files.write("server.key", &key);
    let missing = files.0.join("missing.pem");
    let missing = missing.to_str().unwrap();

    let stderr = failed_start(&[("ANSINH_TLS_CERT", missing), ("ANSINH_TLS_KEY", &key)]);
    assert!(
        stderr.contains(&format!("cannot read the TLS certificate {missing}")),
        "{stderr}"
    );

    let stderr = failed_start(&[("ANSINH_TLS_CERT", &cert), ("ANSINH_TLS_KEY", &cert)]);
    assert!(
        stderr.contains(&format!("the TLS private key {key_path}", key_path = cert))
            && stderr.contains("PRIVATE KEY"),
        "a certificate given as the key: {stderr}"
    );

    let other_key = files.write("other.key", &KeyPair::generate().unwrap().serialize_pem());
    let stderr = failed_start(&[("ANSINH_TLS_CERT", &cert), ("ANSINH_TLS_KEY", &other_key)]);
    assert!(
        stderr.contains("is the key the certificate's?"),
        "a key of another certificate: {stderr}"
    );

    let stderr = failed_start(&[("ANSINH_TLS_CERT", &cert)]);
    assert!(
        stderr.contains("--tls-key"),
        "a certificate without its key: {stderr}"
    );

    let tokens = files.write("tokens", "dashboard read s3cret-token\n");
    let stderr = failed_start(&[("ANSINH_TOKEN_FILE", &tokens)]);
    assert!(
        stderr.contains(&format!("{tokens}:1: caller dashboard"))
            && stderr.contains("sha256sum")
            && !stderr.contains("s3cret-token"),
        "a token file with a token in place of its hash: {stderr}"
    );
}

/// Runs the server with `database_url` and `env`, expecting it to refuse to start as a usage
/// error (exit code 2) instead of serving (bounded by 30 s, a hang); returns its stderr.
fn usage_error(database_url: &str, env: &[(&str, &str)]) -> String {
    let mut command = Command::new(binary("ansinh-server"));
    command
        .env("ANSINH_LISTEN", "127.0.0.1:0")
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "info")
        .envs(env.iter().copied());
    let output = output_within(&mut command, Duration::from_secs(30));
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(
        output.status.code(),
        Some(2),
        "DATABASE_URL={database_url:?} {env:?}: {stderr}"
    );
    assert!(!stderr.contains("serving"), "{stderr}");
    stderr
}

#[test]
fn an_unreadable_database_url_or_a_short_page_token_key_is_a_usage_error() {
    for url in [
        "not a url",
        "mysql://root@127.0.0.1:notaport/x",
        "mysql://ansinh_ro:s3cret-pw@127.0.0.1:notaport/x",
    ] {
        let stderr = usage_error(url, &[]);
        assert!(
            stderr.contains("DATABASE_URL (--database-url) is not a MySQL URL")
                && stderr.contains("mysql://USER:PASSWORD@HOST:PORT/DATABASE"),
            "{url}: {stderr}"
        );
        assert!(
            !stderr.contains("s3cret-pw"),
            "the password is shown: {stderr}"
        );
    }
    let stderr = usage_error("mysql://root@127.0.0.1:notaport/x", &[]);
    assert!(stderr.contains("invalid port number"), "{stderr}");

    let stderr = usage_error(
        "mysql://nobody@127.0.0.1:1/none",
        &[("ANSINH_PAGE_TOKEN_KEY", "too-short-key")],
    );
    assert!(
        stderr.contains("ANSINH_PAGE_TOKEN_KEY") && stderr.contains("at least 32"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("too-short-key"),
        "the key is shown: {stderr}"
    );
}
