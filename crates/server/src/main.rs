//! The `ansinh-server` binary: parses the configuration, initialises logging once, and serves
//! until SIGTERM or SIGINT.

use std::io::IsTerminal as _;

use anyhow::Context;
use clap::Parser;

use ansinh_server::{Config, serve, shutdown_signal};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    init_logging();
    serve(config, shutdown_signal())
        .await
        .context("ansinh-server stopped with an error")
}

/// `RUST_LOG` filters (default `info`); `RUST_LOG_FORMAT=json` writes JSON lines for machines.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, never into a file or a log collector.
        .with_ansi(std::io::stderr().is_terminal());
    if std::env::var("RUST_LOG_FORMAT").is_ok_and(|format| format == "json") {
        builder.json().init();
    } else {
        builder.init();
    }
}
