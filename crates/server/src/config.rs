//! The server's configuration: every setting is a command-line flag with a matching environment
//! variable, so the same binary runs from a shell, a compose file or a Kubernetes manifest.
//! What clap cannot check without printing a value it should not (the database URL holds a
//! password, the page token key is a secret) is checked by [`Config::check`].

use std::{fmt, net::SocketAddr, path::PathBuf, time::Duration};

use ansinh_store::duration::parse_duration;
use clap::Parser;

/// ansinh-server: the gRPC query service for social, health and unemployment insurance figures.
///
/// Examples:
///   DATABASE_URL=mysql://ansinh_ro:secret@db:3306/ansinh ansinh-server
///   ansinh-server --listen 0.0.0.0:50051 --database-url mysql://root@127.0.0.1:3306/ansinh
///
/// Logs go to stderr; RUST_LOG filters them (default "info") and RUST_LOG_FORMAT=json makes
/// them JSON lines. SIGTERM or SIGINT stops the server after in-flight calls finish.
///
/// Plaintext and open to every caller unless configured: --tls-cert/--tls-key turn on TLS,
/// --tls-client-ca mutual TLS, and --token-file or ANSINH_TOKENS bearer tokens with scopes
/// ("read" for queries, "admin" for ImportService). docs/operations.md has the details.
#[derive(Debug, Clone, Parser)]
#[command(name = "ansinh-server", version, verbatim_doc_comment)]
pub struct Config {
    /// Address to listen on for gRPC.
    #[arg(long, env = "ANSINH_LISTEN", default_value = "127.0.0.1:50051")]
    pub listen: SocketAddr,

    /// MySQL URL, mysql://user:password@host:port/database. A read-only user is enough.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: String,

    /// Maximum number of pooled MySQL connections.
    #[arg(long, env = "ANSINH_DB_POOL_SIZE", default_value_t = 16)]
    pub db_pool_size: usize,

    /// How long a call may wait for a MySQL connection before it fails with UNAVAILABLE.
    #[arg(long, env = "ANSINH_DB_TIMEOUT", default_value = "2s", value_parser = parse_duration)]
    pub db_timeout: Duration,

    /// How often the health check asks MySQL whether it answers.
    #[arg(long, env = "ANSINH_HEALTH_INTERVAL", default_value = "1s", value_parser = parse_duration)]
    pub health_interval: Duration,

    /// How long shutdown waits for in-flight calls before it gives up.
    #[arg(long, env = "ANSINH_SHUTDOWN_GRACE", default_value = "30s", value_parser = parse_duration)]
    pub shutdown_grace: Duration,

    /// Whether to cache the catalog, region versions and GetTimeSeries answers between import
    /// runs ("true" or "false").
    #[arg(long, env = "ANSINH_CACHE", default_value_t = true, action = clap::ArgAction::Set)]
    pub cache: bool,

    /// How often the cache asks MySQL whether a new import run committed; cached answers
    /// older than a commit are served for at most this long. "0ms" asks on every call.
    #[arg(long, env = "ANSINH_CACHE_CHECK_INTERVAL", default_value = "250ms", value_parser = parse_duration)]
    pub cache_check_interval: Duration,

    /// The most memory cached GetTimeSeries answers may take (they are kept encoded):
    /// "64MiB", "512KiB" or a number of bytes; "0" caches no answers (the catalog and
    /// regions still are).
    #[arg(long, env = "ANSINH_CACHE_MAX_BYTES", default_value = "64MiB", value_parser = parse_bytes::<u64>)]
    pub cache_max_bytes: u64,

    /// PEM certificate chain (leaf first) to serve TLS with; needs --tls-key. Without it the
    /// server speaks plaintext HTTP/2.
    #[arg(
        long,
        env = "ANSINH_TLS_CERT",
        value_name = "PEM",
        requires = "tls_key"
    )]
    pub tls_cert: Option<PathBuf>,

    /// PEM private key (PKCS#8, PKCS#1 or SEC1) of --tls-cert.
    #[arg(
        long,
        env = "ANSINH_TLS_KEY",
        value_name = "PEM",
        requires = "tls_cert"
    )]
    pub tls_key: Option<PathBuf>,

    /// PEM CA certificate(s): with it, every client must present a certificate signed by one of
    /// them (mutual TLS). Needs --tls-cert and --tls-key.
    #[arg(
        long,
        env = "ANSINH_TLS_CLIENT_CA",
        value_name = "PEM",
        requires = "tls_cert"
    )]
    pub tls_client_ca: Option<PathBuf>,

    /// File of the callers allowed in, one per line: NAME SCOPES SHA256, e.g.
    /// "dashboard read 9f86d08...", where SCOPES is "read", "admin" or "read,admin" and SHA256
    /// is the hex SHA-256 of the caller's token (printf %s "$TOKEN" | sha256sum). Callers send
    /// "authorization: Bearer TOKEN". Without this and ANSINH_TOKENS, every caller may call
    /// everything.
    #[arg(long, env = "ANSINH_TOKEN_FILE", value_name = "FILE")]
    pub token_file: Option<PathBuf>,

    /// Callers in the token file's format, separated by ';' or newlines; added to those of
    /// --token-file.
    #[arg(
        long,
        env = "ANSINH_TOKENS",
        value_name = "CALLERS",
        hide_env_values = true
    )]
    pub tokens: Option<String>,

    /// Require a token with the "read" scope for grpc.health.v1 and server reflection too.
    /// Off by default: the kubelet's gRPC probe cannot send a token.
    #[arg(long, env = "ANSINH_PROTECT_HEALTH_AND_REFLECTION")]
    pub protect_health_and_reflection: bool,

    /// Largest request message accepted; larger ones fail with OUT_OF_RANGE. Requests are
    /// filters, a few kilobytes at most. Written 512KiB, 1MiB or in bytes.
    #[arg(long, env = "ANSINH_MAX_REQUEST_SIZE", default_value = "1MiB", value_parser = parse_message_size)]
    pub max_request_size: usize,

    /// Largest response message sent (one observation of ExportObservations counts as one
    /// message); a larger answer fails with OUT_OF_RANGE instead of being sent.
    #[arg(long, env = "ANSINH_MAX_RESPONSE_SIZE", default_value = "16MiB", value_parser = parse_message_size)]
    pub max_response_size: usize,

    /// Most calls a client may have open at once on one HTTP/2 connection (advertised to the
    /// client as SETTINGS_MAX_CONCURRENT_STREAMS, so it waits before sending more).
    #[arg(
        long,
        env = "ANSINH_MAX_CONCURRENT_STREAMS",
        default_value_t = 100,
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    pub max_concurrent_streams: u32,

    /// Most calls of one connection executed at once; further calls wait their turn. Twice the
    /// default pool size: more than that would only queue for a database connection.
    #[arg(
        long,
        env = "ANSINH_CONCURRENCY_LIMIT_PER_CONNECTION",
        default_value_t = 32,
        value_parser = parse_at_least_one
    )]
    pub concurrency_limit_per_connection: usize,

    /// Address to serve Prometheus metrics on, over HTTP at /metrics (e.g. 0.0.0.0:9090).
    /// Off when not given.
    #[arg(long, env = "ANSINH_METRICS_LISTEN", value_name = "ADDR")]
    pub metrics_listen: Option<SocketAddr>,

    /// Secret that signs page tokens: any text of at least 32 bytes, such as the output of
    /// `openssl rand -hex 32` (leading and trailing whitespace is ignored). Replicas behind one
    /// load balancer need the same key. Without it a random key is drawn at every start, and
    /// next_page_tokens stop working when the server restarts.
    #[arg(
        long,
        env = "ANSINH_PAGE_TOKEN_KEY",
        value_name = "SECRET",
        hide_env_values = true
    )]
    pub page_token_key: Option<Secret>,
}

/// The shortest page token key accepted: HMAC-SHA256 is only as strong as its key, up to the
/// hash's 32 bytes.
pub const MIN_PAGE_TOKEN_KEY: usize = 32;

/// A setting that must never be logged; its `Debug` shows only its length.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// The secret itself, without surrounding whitespace (a key read from a file often ends in
    /// a newline).
    pub fn expose(&self) -> &str {
        self.0.trim()
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(Self(text.to_owned()))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({} bytes)", self.expose().len())
    }
}

/// A setting clap accepted that the server cannot use. The messages never include the value:
/// it may hold a password or a key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// DATABASE_URL is not a URL a MySQL connection can be opened with.
    #[error(
        "DATABASE_URL (--database-url) is not a MySQL URL ({reason}); give mysql://USER:PASSWORD@HOST:PORT/DATABASE, e.g. mysql://ansinh_ro:secret@db:3306/ansinh, with special characters in the password percent-encoded (@ as %40)"
    )]
    DatabaseUrl {
        /// Why it cannot be read, in the driver's words.
        reason: String,
    },
    /// The page token key is too short to be a key.
    #[error(
        "ANSINH_PAGE_TOKEN_KEY (--page-token-key) is {length} bytes long; it needs at least {MIN_PAGE_TOKEN_KEY}, e.g. the 64 hex digits `openssl rand -hex 32` prints"
    )]
    PageTokenKeyTooShort {
        /// Its length without surrounding whitespace.
        length: usize,
    },
}

impl Config {
    /// Whether the settings can be used. The database URL is read here the way every
    /// connection will read it: the pool opens connections lazily, so a URL it cannot read
    /// would otherwise leave a server that listens, fails every call and logs the same parse
    /// error forever.
    pub fn check(&self) -> Result<(), ConfigError> {
        mysql_async::Opts::from_url(&self.database_url).map_err(|error| {
            ConfigError::DatabaseUrl {
                reason: error.to_string(),
            }
        })?;
        if let Some(key) = &self.page_token_key
            && key.expose().len() < MIN_PAGE_TOKEN_KEY
        {
            return Err(ConfigError::PageTokenKeyTooShort {
                length: key.expose().len(),
            });
        }
        Ok(())
    }

    /// The cache's part of the configuration.
    pub fn cache_settings(&self) -> crate::CacheSettings {
        crate::CacheSettings {
            enabled: self.cache,
            check_interval: self.cache_check_interval,
            max_bytes: self.cache_max_bytes,
            check_timeout: self.db_timeout,
        }
    }
}

/// Parses "64MiB", "512KiB", "1GiB" or a plain number of bytes, as a `u64` (memory bounds) or a
/// `usize` (message sizes).
fn parse_bytes<T: TryFrom<u64>>(text: &str) -> Result<T, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("'{text}' does not start with a whole number"))?;
    let factor: u64 = match unit.trim() {
        "" | "B" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        unit => return Err(format!("'{unit}' is not a unit: use KiB, MiB, GiB or none")),
    };
    number
        .checked_mul(factor)
        .and_then(|bytes| T::try_from(bytes).ok())
        .ok_or_else(|| format!("'{text}' is too large"))
}

/// A message size limit: 0 would refuse every message, so it is refused itself.
fn parse_message_size(text: &str) -> Result<usize, String> {
    match parse_bytes::<usize>(text)? {
        0 => Err("0 would refuse every message; give at least 1 (e.g. 1MiB)".to_owned()),
        bytes => Ok(bytes),
    }
}

/// A count of calls at once: 0 would leave every call waiting for ever.
fn parse_at_least_one(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(0) => Err("0 would leave every call waiting; give at least 1".to_owned()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("'{text}' is not a whole number")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_key_and_client_ca_need_a_certificate() {
        let base = ["ansinh-server", "--database-url", "mysql://u@h/d"];
        let parse = |extra: &[&str]| Config::try_parse_from(base.iter().chain(extra));
        assert!(parse(&[]).is_ok());
        assert!(parse(&["--tls-cert", "c.pem"]).is_err());
        assert!(parse(&["--tls-key", "k.pem"]).is_err());
        assert!(parse(&["--tls-client-ca", "ca.pem"]).is_err());
        assert!(parse(&["--tls-cert", "c.pem", "--tls-key", "k.pem"]).is_ok());
    }

    #[test]
    fn database_urls_are_checked_without_showing_them() {
        let check = |url: &str| {
            Config::try_parse_from(["ansinh-server", "--database-url", url])
                .unwrap()
                .check()
        };
        assert!(check("mysql://ansinh_ro:secret@db:3306/ansinh").is_ok());
        assert!(check("mysql://root@127.0.0.1:3306").is_ok());
        for url in [
            "not a url",
            "mysql://root:s3cret@127.0.0.1:notaport/x",
            "postgres://root:s3cret@127.0.0.1/x",
            "mysql://root:s3cret@127.0.0.1/x?pool_max=many",
        ] {
            let message = check(url).unwrap_err().to_string();
            assert!(
                message.starts_with("DATABASE_URL (--database-url) is not a MySQL URL ("),
                "{url}: {message}"
            );
            assert!(message.contains("mysql://USER:PASSWORD@HOST:PORT/DATABASE"));
            assert!(!message.contains("s3cret"), "{url}: {message}");
        }
        assert!(
            check("mysql://root@127.0.0.1:notaport/x")
                .unwrap_err()
                .to_string()
                .contains("invalid port number")
        );
    }

    #[test]
    fn page_token_keys_must_be_long_enough_and_are_never_shown() {
        let parse = |key: &str| {
            Config::try_parse_from([
                "ansinh-server",
                "--database-url",
                "mysql://u@h/d",
                "--page-token-key",
                key,
            ])
            .unwrap()
        };
        let long = "k".repeat(MIN_PAGE_TOKEN_KEY);
        let config = parse(&format!("{long}\n"));
        assert!(config.check().is_ok());
        assert_eq!(config.page_token_key.as_ref().unwrap().expose(), long);
        assert!(!format!("{config:?}").contains(&long));

        let short = parse(" short-secret \n");
        let message = short.check().unwrap_err().to_string();
        assert!(message.contains("ANSINH_PAGE_TOKEN_KEY"), "{message}");
        assert!(message.contains("is 12 bytes long"), "{message}");
        assert!(!message.contains("short-secret"), "{message}");
    }

    #[test]
    fn sizes_parse_with_binary_units() {
        assert_eq!(parse_bytes::<u64>("64MiB"), Ok(64 << 20));
        assert!(parse_message_size("0").is_err());
        assert_eq!(parse_message_size("1KiB"), Ok(1024));
        assert!(parse_at_least_one("0").is_err());
        assert_eq!(parse_at_least_one("32"), Ok(32));
        assert_eq!(parse_bytes::<u64>("512KiB"), Ok(512 << 10));
        assert_eq!(parse_bytes::<u64>("0"), Ok(0));
        assert_eq!(parse_bytes::<u64>("1000"), Ok(1000));
        assert_eq!(parse_bytes::<usize>("16MiB"), Ok(16 << 20));
        assert!(
            parse_bytes::<u64>("5MB")
                .unwrap_err()
                .contains("not a unit")
        );
        assert!(parse_bytes::<u64>("MiB").is_err());
        assert!(
            parse_bytes::<u32>("4GiB")
                .unwrap_err()
                .contains("too large")
        );
    }
}
