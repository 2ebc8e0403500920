//! Who may call what: bearer tokens with scopes, checked in one tower layer in front of every
//! service. `read` opens the query services (Region, Indicator, Statistics); `admin` opens
//! ImportService, whose ledger names operators, file paths and the values of rejected rows,
//! and implies `read`. Health and reflection stay open unless configured otherwise, because
//! the kubelet's gRPC probe cannot send a token.
//!
//! The server never holds a token, only its SHA-256, so a leaked token file is not a leaked
//! credential. A presented token is hashed and compared with every known hash in constant time,
//! so the time a refusal takes says nothing about how close a guess was. Tokens are never
//! logged; the caller's name is, on the call's span.
//!
//! Without any configured caller, the layer lets everything through (the default, so a
//! development server and the demo need no setup); `serve` logs that once at startup.

use std::{
    fmt,
    path::{Path, PathBuf},
    sync::Arc,
    task::{Context, Poll},
};

use futures_util::future::{Either, Ready, ready};
use http::{HeaderMap, HeaderValue};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tonic::{Status, body::Body, metadata::MetadataValue};
use tower::{Layer, Service};

/// What a caller may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    /// The query services: regions, indicators, statistics.
    Read,
    /// ImportService (the ledger); implies `read`.
    Admin,
}

impl Scope {
    fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Admin => "admin",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One caller allowed in.
struct Caller {
    name: String,
    admin: bool,
    token_sha256: [u8; 32],
}

impl Caller {
    fn has(&self, scope: Scope) -> bool {
        // Every caller has `read`: a line must name at least one scope, and `admin` implies it.
        scope == Scope::Read || self.admin
    }
}

/// The configured callers could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CallersError {
    /// The token file could not be read.
    #[error("cannot read the token file {}: {source}", path.display())]
    Read {
        /// The file named by --token-file.
        path: PathBuf,
        /// Why reading failed.
        source: std::io::Error,
    },
    /// An entry is malformed.
    #[error("{origin}:{entry}: {reason}")]
    Invalid {
        /// The token file's path, or `ANSINH_TOKENS`.
        origin: String,
        /// The line (in the file) or the entry (in ANSINH_TOKENS), from 1.
        entry: usize,
        /// What is wrong and what would be accepted.
        reason: String,
    },
    /// The settings were given but name nobody, which would refuse every call.
    #[error(
        "{0} names no caller; add one (NAME SCOPES SHA256) or remove the setting to turn authentication off"
    )]
    Empty(String),
}

/// Everyone allowed in: from the token file and from `ANSINH_TOKENS`.
pub(crate) struct Callers(Vec<Caller>);

impl Callers {
    /// Reads the callers; `None` when neither setting is given (authentication off).
    pub(crate) fn load(
        file: Option<&Path>,
        inline: Option<&str>,
    ) -> Result<Option<Self>, CallersError> {
        if file.is_none() && inline.is_none() {
            return Ok(None);
        }
        let mut callers = Callers(Vec::new());
        let mut origins = Vec::new();
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|source| CallersError::Read {
                path: path.to_owned(),
                source,
            })?;
            let origin = path.display().to_string();
            callers.add(&origin, text.lines())?;
            origins.push(origin);
        }
        if let Some(text) = inline {
            callers.add("ANSINH_TOKENS", text.split([';', '\n']))?;
            origins.push("ANSINH_TOKENS".to_owned());
        }
        if callers.0.is_empty() {
            return Err(CallersError::Empty(origins.join(" and ")));
        }
        Ok(Some(callers))
    }

    /// The number of callers, for the startup log.
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    fn add<'a>(
        &mut self,
        origin: &str,
        entries: impl Iterator<Item = &'a str>,
    ) -> Result<(), CallersError> {
        for (index, entry) in entries.enumerate() {
            let invalid = |reason: String| CallersError::Invalid {
                origin: origin.to_owned(),
                entry: index + 1,
                reason,
            };
            let entry = entry.split('#').next().unwrap_or_default().trim();
            if entry.is_empty() {
                continue;
            }
            let caller = parse_caller(entry).map_err(invalid)?;
            if self.0.iter().any(|known| known.name == caller.name) {
                return Err(invalid(format!(
                    "caller {} is named twice; give each caller its own name",
                    caller.name
                )));
            }
            if self
                .0
                .iter()
                .any(|known| known.token_sha256 == caller.token_sha256)
            {
                return Err(invalid(format!(
                    "caller {} has the same token as another caller; give each caller its own token",
                    caller.name
                )));
            }
            self.0.push(caller);
        }
        Ok(())
    }

    /// The caller whose token this is. Every known hash is compared, in constant time, whether
    /// or not an earlier one matched.
    fn identify(&self, token: &[u8]) -> Option<&Caller> {
        let presented: [u8; 32] = Sha256::digest(token).into();
        let mut found = None;
        for caller in &self.0 {
            if bool::from(caller.token_sha256.ct_eq(&presented)) {
                found = Some(caller);
            }
        }
        found
    }
}

/// `NAME SCOPES SHA256`, e.g. `dashboard read 9f86d081...`.
fn parse_caller(entry: &str) -> Result<Caller, String> {
    const FORMAT: &str = "expected NAME SCOPES SHA256, e.g. \"dashboard read 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\"";
    let fields: Vec<&str> = entry.split_whitespace().collect();
    let [name, scopes, sha256] = fields[..] else {
        return Err(format!("has {} fields; {FORMAT}", fields.len()));
    };
    let mut admin = false;
    for scope in scopes.split(',') {
        match scope {
            "read" => {}
            "admin" => admin = true,
            other => {
                return Err(format!(
                    "caller {name}: '{other}' is not a scope; use read, admin or read,admin"
                ));
            }
        }
    }
    let token_sha256 = parse_sha256(sha256).ok_or_else(|| {
        format!(
            "caller {name}: the third field must be the SHA-256 of the token as 64 hex digits \
             (printf %s \"$TOKEN\" | sha256sum), not the token itself"
        )
    })?;
    Ok(Caller {
        name: name.to_owned(),
        admin,
        token_sha256,
    })
}

fn parse_sha256(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    let mut digest = [0; 32];
    for (byte, pair) in digest.iter_mut().zip(text.as_bytes().chunks(2)) {
        *byte = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
    }
    Some(digest)
}

/// Which scope a call to `path` (`/package.Service/Method`) needs; `None` when it is open.
fn required_scope(path: &str, protect_health_and_reflection: bool) -> Option<Scope> {
    let service = path
        .strip_prefix('/')
        .and_then(|rest| rest.split_once('/'))
        .map_or("", |(service, _)| service);
    match service {
        ansinh_proto::pb::import_service_server::SERVICE_NAME => Some(Scope::Admin),
        tonic_health::pb::health_server::SERVICE_NAME
        | tonic_reflection::pb::v1::server_reflection_server::SERVICE_NAME
        | tonic_reflection::pb::v1alpha::server_reflection_server::SERVICE_NAME => {
            protect_health_and_reflection.then_some(Scope::Read)
        }
        // The query services, and paths that name no service: refusing those before routing
        // keeps an unauthenticated caller from learning which services exist.
        _ => Some(Scope::Read),
    }
}

/// Why a call is refused; becomes the gRPC status here and nowhere else.
enum Refusal {
    NoToken,
    Malformed,
    UnknownToken,
    MissingScope { caller: String, scope: Scope },
}

impl Refusal {
    fn into_status(self, path: &str) -> Status {
        // RFC 6750's challenges, so a client (or a person reading the metadata) learns how to
        // authenticate and why it failed.
        let (status, challenge) = match self {
            Refusal::NoToken => (
                Status::unauthenticated(
                    "this server needs a bearer token: send the metadata \"authorization: Bearer TOKEN\"",
                ),
                "Bearer realm=\"ansinh\"".to_owned(),
            ),
            Refusal::Malformed => (
                Status::unauthenticated(
                    "the authorization metadata must be \"Bearer TOKEN\" (one space, no quotes)",
                ),
                "Bearer realm=\"ansinh\", error=\"invalid_request\"".to_owned(),
            ),
            Refusal::UnknownToken => (
                Status::unauthenticated("the bearer token is not one this server knows"),
                "Bearer realm=\"ansinh\", error=\"invalid_token\"".to_owned(),
            ),
            Refusal::MissingScope { caller, scope } => (
                Status::permission_denied(format!(
                    "caller {caller} lacks the \"{scope}\" scope that {path} needs"
                )),
                format!("Bearer realm=\"ansinh\", error=\"insufficient_scope\", scope=\"{scope}\""),
            ),
        };
        let mut status = status;
        if let Ok(value) = MetadataValue::try_from(challenge) {
            status.metadata_mut().insert("www-authenticate", value);
        }
        status
    }
}

/// The bearer token of `headers`: `Ok(None)` when there is none.
fn bearer(headers: &HeaderMap<HeaderValue>) -> Result<Option<&[u8]>, Refusal> {
    let Some(value) = headers.get(http::header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.as_bytes();
    match value.split_at_checked(7) {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case(b"bearer ") && !token.is_empty() => {
            Ok(Some(token))
        }
        _ => Err(Refusal::Malformed),
    }
}

/// The policy every connection shares.
struct Policy {
    callers: Option<Callers>,
    protect_health_and_reflection: bool,
}

impl Policy {
    /// `Ok` with the caller's name (if authentication is on) or the reason for refusing.
    fn check(&self, path: &str, headers: &HeaderMap<HeaderValue>) -> Result<Option<&str>, Refusal> {
        let Some(callers) = &self.callers else {
            return Ok(None);
        };
        let Some(scope) = required_scope(path, self.protect_health_and_reflection) else {
            return Ok(None);
        };
        let token = bearer(headers)?.ok_or(Refusal::NoToken)?;
        let caller = callers.identify(token).ok_or(Refusal::UnknownToken)?;
        if caller.has(scope) {
            Ok(Some(&caller.name))
        } else {
            Err(Refusal::MissingScope {
                caller: caller.name.clone(),
                scope,
            })
        }
    }
}

/// Checks every call's token before it reaches a service.
#[derive(Clone)]
pub(crate) struct AuthLayer {
    policy: Arc<Policy>,
}

impl AuthLayer {
    /// `callers: None` lets every call through.
    pub(crate) fn new(callers: Option<Callers>, protect_health_and_reflection: bool) -> Self {
        Self {
            policy: Arc::new(Policy {
                callers,
                protect_health_and_reflection,
            }),
        }
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = Auth<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Auth {
            inner,
            policy: self.policy.clone(),
        }
    }
}

/// The service [`AuthLayer`] wraps around the router.
#[derive(Clone)]
pub(crate) struct Auth<S> {
    inner: S,
    policy: Arc<Policy>,
}

impl<S, B> Service<http::Request<B>> for Auth<S>
where
    S: Service<http::Request<B>, Response = http::Response<Body>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Either<S::Future, Ready<Result<S::Response, S::Error>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let path = request.uri().path();
        match self.policy.check(path, request.headers()) {
            Ok(caller) => {
                if let Some(caller) = caller {
                    tracing::Span::current().record("caller", caller);
                }
                Either::Left(self.inner.call(request))
            }
            Err(refusal) => {
                let status = refusal.into_status(path);
                tracing::debug!(code = ?status.code(), reason = status.message(), "call refused");
                Either::Right(ready(Ok(status.into_http())))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const READ_TOKEN: &str = "read-token";
    const ADMIN_TOKEN: &str = "admin-token";

    fn sha256_hex(token: &str) -> String {
        Sha256::digest(token.as_bytes())
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }

    fn policy(protect: bool) -> Policy {
        let inline = format!(
            "dashboard read {}; ops read,admin {}",
            sha256_hex(READ_TOKEN),
            sha256_hex(ADMIN_TOKEN)
        );
        Policy {
            callers: Callers::load(None, Some(&inline)).unwrap(),
            protect_health_and_reflection: protect,
        }
    }

    fn headers(authorization: Option<&str>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Some(value) = authorization {
            headers.insert(http::header::AUTHORIZATION, value.parse().unwrap());
        }
        headers
    }

    fn code(result: Result<Option<&str>, Refusal>) -> Result<Option<String>, tonic::Code> {
        result
            .map(|caller| caller.map(str::to_owned))
            .map_err(|refusal| refusal.into_status("/x").code())
    }

    #[test]
    fn scopes_open_their_services_and_admin_implies_read() {
        let policy = policy(false);
        let query = "/ansinh.v1.RegionService/GetRegion";
        let ledger = "/ansinh.v1.ImportService/ListImportRuns";
        let read = headers(Some("Bearer read-token"));
        let admin = headers(Some("bearer admin-token"));
        assert_eq!(
            code(policy.check(query, &read)),
            Ok(Some("dashboard".into()))
        );
        assert_eq!(code(policy.check(query, &admin)), Ok(Some("ops".into())));
        assert_eq!(code(policy.check(ledger, &admin)), Ok(Some("ops".into())));
        assert_eq!(
            code(policy.check(ledger, &read)),
            Err(tonic::Code::PermissionDenied)
        );
    }

    #[test]
    fn missing_malformed_and_unknown_tokens_are_unauthenticated() {
        let policy = policy(false);
        let query = "/ansinh.v1.StatisticsService/Aggregate";
        for authorization in [
            None,
            Some("Bearer not-a-known-token"),
            Some("Basic cmVhZC10b2tlbg=="),
            Some("Bearer "),
            Some("read-token"),
        ] {
            assert_eq!(
                code(policy.check(query, &headers(authorization))),
                Err(tonic::Code::Unauthenticated),
                "{authorization:?}"
            );
        }
        // Unknown paths need a token too: the answer must not reveal which services exist.
        assert_eq!(
            code(policy.check("/no.such.Service/Call", &headers(None))),
            Err(tonic::Code::Unauthenticated)
        );
    }

    #[test]
    fn health_and_reflection_are_open_unless_protected() {
        let paths = [
            "/grpc.health.v1.Health/Check",
            "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
            "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
        ];
        for path in paths {
            assert_eq!(code(policy(false).check(path, &headers(None))), Ok(None));
            assert_eq!(
                code(policy(true).check(path, &headers(None))),
                Err(tonic::Code::Unauthenticated)
            );
            assert_eq!(
                code(policy(true).check(path, &headers(Some("Bearer read-token")))),
                Ok(Some("dashboard".into()))
            );
        }
    }

    #[test]
    fn refusals_carry_a_bearer_challenge_and_name_the_missing_scope() {
        let status = Refusal::MissingScope {
            caller: "dashboard".into(),
            scope: Scope::Admin,
        }
        .into_status("/ansinh.v1.ImportService/ListImportRuns");
        assert!(status.message().contains("\"admin\" scope"), "{status:?}");
        assert_eq!(
            status.metadata().get("www-authenticate").unwrap(),
            "Bearer realm=\"ansinh\", error=\"insufficient_scope\", scope=\"admin\""
        );
    }

    #[test]
    fn without_callers_everything_is_open() {
        let policy = Policy {
            callers: None,
            protect_health_and_reflection: true,
        };
        assert_eq!(
            code(policy.check("/ansinh.v1.ImportService/GetImportRun", &headers(None))),
            Ok(None)
        );
    }

    #[test]
    fn bad_entries_are_refused_with_where_and_why() {
        let error = |inline: &str| {
            Callers::load(None, Some(inline))
                .err()
                .expect("refused")
                .to_string()
        };
        let hash = sha256_hex("t");
        assert!(
            error("dashboard read s3cret")
                .contains("ANSINH_TOKENS:1: caller dashboard: the third field must be the SHA-256"),
            "{}",
            error("dashboard read s3cret")
        );
        assert!(error(&format!("a read {hash}; b write {hash}")).contains("ANSINH_TOKENS:2"));
        assert!(
            error(&format!("a read {hash}; b write {hash}")).contains("'write' is not a scope")
        );
        assert!(
            error(&format!("a read {hash}; a admin {}", sha256_hex("u"))).contains("named twice")
        );
        assert!(error(&format!("a read {hash}; b admin {hash}")).contains("same token"));
        assert!(error("a read").contains("has 2 fields"));
        assert!(error(" # only a comment ").contains("names no caller"));
        let secret = "s3cret-token-value";
        assert!(!error(&format!("a read {secret}")).contains(secret));
    }
}
