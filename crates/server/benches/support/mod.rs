//! What the benchmarks share: ansinh-server started in the benchmark's own process, so that
//! its CPU time is measured with the load generator's. Each benchmark uses part of it.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use ansinh_server::{Cache, Config};
use clap::Parser;

/// A server running in this process until stopped.
pub struct Running {
    pub address: SocketAddr,
    pub cache: Cache,
    pub stop: tokio::sync::oneshot::Sender<()>,
    pub task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Stops the server and waits until it has.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

/// Starts ansinh-server in this process on a loopback port, on the database at `url`, with
/// `flags` added to its command line.
pub async fn spawn_server(url: &str, flags: &[&str]) -> anyhow::Result<Running> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let mut argv = vec![
        "ansinh-server",
        "--database-url",
        url,
        "--shutdown-grace",
        "1s",
    ];
    argv.extend_from_slice(flags);
    let config = Config::try_parse_from(argv)?;
    let cache = Cache::new(config.cache_settings());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn({
        let cache = cache.clone();
        async move {
            let shutdown = async move {
                let _ = stopped.await;
            };
            if let Err(error) =
                ansinh_server::serve_with_cache(listener, config, cache, shutdown).await
            {
                eprintln!("ansinh-server failed: {error}");
            }
        }
    });
    // The cache serves once its first check of the latest run succeeded.
    tokio::time::sleep(Duration::from_millis(300)).await;
    Ok(Running {
        address,
        cache,
        stop,
        task,
    })
}
