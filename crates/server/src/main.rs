//! The `ansinh-server` binary: parses the configuration, initialises logging once, and serves
//! until SIGTERM or SIGINT.

use std::io::IsTerminal as _;

use anyhow::Context;
use clap::{CommandFactory, Parser, error::ErrorKind};

use ansinh_server::{Config, serve, shutdown_signal};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    // A setting clap accepted but the server cannot use is a usage error too: reported the
    // way clap reports its own, with exit code 2, before anything is logged or bound.
    if let Err(error) = config.check() {
        Config::command()
            .error(ErrorKind::ValueValidation, error)
            .exit();
    }
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
