//! The server's configuration: every setting is a command-line flag with a matching environment
//! variable, so the same binary runs from a shell, a compose file or a Kubernetes manifest.

use std::{net::SocketAddr, time::Duration};

use clap::Parser;

/// ansinh-server: the gRPC query service for social, health and unemployment insurance figures.
///
/// Examples:
///   DATABASE_URL=mysql://ansinh_ro:secret@db:3306/ansinh ansinh-server
///   ansinh-server --listen 0.0.0.0:50051 --database-url mysql://root@127.0.0.1:3306/ansinh
///
/// Logs go to stderr; RUST_LOG filters them (default "info") and RUST_LOG_FORMAT=json makes
/// them JSON lines. SIGTERM or SIGINT stops the server after in-flight calls finish.
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
}

/// Parses "250ms", "2s" or "5m".
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("'{text}' has no unit: write e.g. 250ms, 2s or 5m"))?;
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("'{text}' does not start with a whole number"))?;
    match unit {
        "ms" => Ok(Duration::from_millis(number)),
        "s" => Ok(Duration::from_secs(number)),
        "m" => Ok(Duration::from_secs(number * 60)),
        _ => Err(format!("'{unit}' is not a unit: use ms, s or m")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_their_unit() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert!(parse_duration("5").unwrap_err().contains("no unit"));
        assert!(parse_duration("5h").unwrap_err().contains("not a unit"));
        assert!(parse_duration("ms").is_err());
    }
}
