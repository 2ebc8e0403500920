//! ansinh-server: the gRPC query service. This crate wires the store (MySQL) to the generated
//! `ansinh.v1` services; the domain rules live in the model crate, the queries in the store.
//! It owns the transport concerns: configuration, TLS, callers and their scopes, message and
//! concurrency limits, health, reflection, deadlines, error mapping, request ids, metrics and
//! graceful shutdown.

mod auth;
/// mimalloc instead of the system allocator: a GetTimeSeries call allocates a few thousand
/// small strings and frees them across threads, and glibc's malloc spent a quarter of a cold
/// call's server time in its arenas (docs/benchmarks.md). Declared here rather than in
/// main.rs so the benchmark, which serves in-process, measures the same allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod cache;
mod catalog;
mod config;
mod db;
mod error;
mod health;
mod metrics;
mod observe;
mod request;
mod services;
mod tls;

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use ansinh_proto::pb;
use tonic::transport::Server;

pub use auth::CallersError;
pub use cache::{Cache, CacheCounters, CacheSettings};
pub use config::{Config, ConfigError};
pub use db::Db;
pub use tls::TlsError;

use crate::{
    auth::{AuthLayer, Callers},
    metrics::Metrics,
    observe::{KnownMethods, ObserveLayer},
    services::{MessageLimits, limited},
};

/// Errors that stop the server.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A setting cannot be used; `ansinh-server` reports these before serving, with exit code 2.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// No random page token key could be drawn.
    #[error(
        "cannot draw a random page token key from the operating system; set ANSINH_PAGE_TOKEN_KEY"
    )]
    RandomKey,
    /// The database URL could not be used to build a pool.
    #[error("cannot use the database URL: {0}")]
    Database(#[from] ansinh_store::StoreError),
    /// The listener or the HTTP/2 transport failed.
    #[error("the gRPC transport failed: {0}")]
    Transport(#[from] tonic::transport::Error),
    /// The reflection service could not be built from the descriptor sets.
    #[error("cannot build the reflection service: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    /// The listen address could not be bound.
    #[error("cannot listen on {address}: {source}")]
    Bind {
        /// The address asked for.
        address: SocketAddr,
        /// Why binding failed.
        source: std::io::Error,
    },
    /// The metrics address could not be bound.
    #[error("cannot serve metrics on {address}: {source}")]
    MetricsBind {
        /// The address asked for.
        address: SocketAddr,
        /// Why binding failed.
        source: std::io::Error,
    },
    /// The TLS certificate, key or client CA cannot be used.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The token file or ANSINH_TOKENS cannot be used.
    #[error(transparent)]
    Callers(#[from] CallersError),
}

/// Serves until `shutdown` completes, then finishes in-flight calls (up to the configured grace).
pub async fn serve(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServeError::Bind {
            address: config.listen,
            source,
        })?;
    serve_on(listener, config, shutdown).await
}

/// Like [`serve`], on a listener the caller bound (tests bind `127.0.0.1:0`).
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let cache = Cache::new(config.cache_settings());
    serve_with_cache(listener, config, cache, shutdown).await
}

/// Like [`serve_on`], with a cache the caller made, so that it can read the cache's counters.
pub async fn serve_with_cache(
    listener: tokio::net::TcpListener,
    config: Config,
    cache: Cache,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    // Everything that can be wrong with the configuration fails here, before any call is served.
    config.check()?;
    let page_tokens = match &config.page_token_key {
        Some(secret) => request::page_token::Key::from_secret(secret.expose().as_bytes()),
        None => request::page_token::Key::random().map_err(|_| ServeError::RandomKey)?,
    };
    let tls = match (&config.tls_cert, &config.tls_key) {
        (Some(cert), Some(key)) => Some(tls::server_config(&tls::TlsFiles {
            cert,
            key,
            client_ca: config.tls_client_ca.as_deref(),
        })?),
        _ => None,
    };
    let callers = Callers::load(config.token_file.as_deref(), config.tokens.as_deref())?;
    let metrics_listener = match config.metrics_listen {
        Some(address) => Some(
            tokio::net::TcpListener::bind(address)
                .await
                .map_err(|source| ServeError::MetricsBind { address, source })?,
        ),
        None => None,
    };
    let db = Db::new(&config.database_url, config.db_pool_size, config.db_timeout)?;
    let cache_task = tokio::spawn(cache.clone().watch(db.clone()));
    let metrics = Arc::new(Metrics::new(cache.clone()));

    let limits = MessageLimits {
        request: config.max_request_size,
        response: config.max_response_size,
    };
    let (reporter, health_service) = tonic_health::server::health_reporter();
    let health_task = tokio::spawn(health::watch(
        db.clone(),
        reporter,
        config.health_interval,
        metrics.database_up.clone(),
    ));
    let metrics_task = metrics_listener
        .map(|listener| tokio::spawn(metrics::serve(listener, metrics.clone(), db.clone())));

    let reflection_v1 = limited!(reflection().build_v1()?, limits);
    let reflection_v1alpha = limited!(reflection().build_v1alpha()?, limits);

    let address = listener.local_addr().ok();
    log_security(&config, address, tls.is_some(), callers.as_ref());
    if config.page_token_key.is_none() {
        tracing::info!(
            "page tokens are signed with a key drawn at startup: they stop working when the server restarts, and other replicas refuse them; set ANSINH_PAGE_TOKEN_KEY to keep them"
        );
    }

    // In-flight calls get `shutdown_grace` to finish once the signal arrives; a call that is
    // still running after that is cut off so that a stuck client cannot block a deploy.
    let grace = config.shutdown_grace;
    let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
    let signal = async move {
        shutdown.await;
        tracing::info!("shutdown requested; finishing in-flight calls");
        let _ = stopping_tx.send(());
    };

    let routes = services::routes(db.clone(), cache, limits, &page_tokens)
        .add_service(limited!(health_service, limits))
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha);
    let mut server = Server::builder()
        .max_concurrent_streams(config.max_concurrent_streams)
        .concurrency_limit_per_connection(config.concurrency_limit_per_connection);
    if let Some(tls) = tls {
        server = server
            .tls_config(tls)
            .map_err(|error| TlsError::Rejected(tls::describe_chain(&error)))?;
    }
    // Observe first, so that calls auth refuses are counted, logged and given a request id.
    let router = server
        .layer(ObserveLayer::new(
            metrics,
            KnownMethods::from_descriptor_sets(&[
                pb::FILE_DESCRIPTOR_SET,
                tonic_health::pb::FILE_DESCRIPTOR_SET,
                tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET,
                tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET,
            ]),
        ))
        .layer(AuthLayer::new(
            callers,
            config.protect_health_and_reflection,
        ))
        .add_routes(routes);
    // Answers go out as soon as they are written: with Nagle's algorithm on, the trailers of
    // one answer wait for the peer's acknowledgement of its data, which a client may delay by
    // tens of milliseconds. Keepalive finds peers that vanished without closing.
    let incoming = tonic::transport::server::TcpIncoming::from(listener)
        .with_nodelay(Some(true))
        .with_keepalive(Some(TCP_KEEPALIVE));
    let serving = router.serve_with_incoming_shutdown(incoming, signal);
    tokio::pin!(serving);

    let result = tokio::select! {
        result = &mut serving => result,
        () = grace_expired(stopping_rx, grace) => {
            tracing::warn!(grace = ?grace, "in-flight calls did not finish within the grace period");
            Ok(())
        }
    };
    health_task.abort();
    cache_task.abort();
    if let Some(task) = metrics_task {
        task.abort();
    }
    tracing::info!("ansinh-server stopped");
    Ok(result?)
}

/// One line on how the port is protected, so an operator sees at startup what callers face.
/// Serving every caller on a non-loopback address is worth a warning; on loopback it is the
/// development default.
fn log_security(
    config: &Config,
    address: Option<SocketAddr>,
    tls: bool,
    callers: Option<&Callers>,
) {
    let transport = match (tls, config.tls_client_ca.is_some()) {
        (false, _) => "plaintext",
        (true, false) => "tls",
        (true, true) => "mutual tls",
    };
    match callers {
        Some(callers) => tracing::info!(
            listen = address.map(tracing::field::display),
            transport,
            auth.callers = callers.len(),
            auth.health_and_reflection = if config.protect_health_and_reflection {
                "token"
            } else {
                "open"
            },
            "ansinh-server serving; bearer tokens required"
        ),
        None if address.is_some_and(|address| !address.ip().is_loopback()) => tracing::warn!(
            listen = address.map(tracing::field::display),
            transport,
            "ansinh-server serving; authentication is off (no --token-file or ANSINH_TOKENS): every caller may call every service"
        ),
        None => tracing::info!(
            listen = address.map(tracing::field::display),
            transport,
            "ansinh-server serving; authentication is off (no --token-file or ANSINH_TOKENS)"
        ),
    }
}

/// How long a connection may be idle before TCP asks whether the peer is still there.
const TCP_KEEPALIVE: Duration = Duration::from_secs(60);

/// Reflection over ansinh.v1 and grpc.health.v1, so `buf curl` and grpcurl need no .proto files.
fn reflection() -> tonic_reflection::server::Builder<'static> {
    tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
}

async fn grace_expired(stopping: tokio::sync::oneshot::Receiver<()>, grace: Duration) {
    if stopping.await.is_ok() {
        tokio::time::sleep(grace).await;
    } else {
        std::future::pending::<()>().await;
    }
}

/// Completes on SIGTERM or SIGINT (Ctrl-C).
pub async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .expect("installing a SIGTERM handler");
        tokio::select! {
            _ = interrupt => {},
            _ = terminate.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}
