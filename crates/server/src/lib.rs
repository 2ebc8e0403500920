//! ansinh-server: the gRPC query service. This crate wires the store (MySQL) to the generated
//! `ansinh.v1` services; the domain rules live in the model crate, the queries in the store.
//! It owns the transport concerns: configuration, health, reflection, deadlines, error mapping
//! and graceful shutdown.

mod config;
mod db;
mod error;
mod health;
mod request;
mod services;

use std::{future::Future, time::Duration};

use ansinh_proto::pb;
use tonic::transport::Server;

pub use config::Config;
pub use db::Db;

/// Errors that stop the server.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
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
        address: std::net::SocketAddr,
        /// Why binding failed.
        source: std::io::Error,
    },
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
    let db = Db::new(&config.database_url, config.db_pool_size, config.db_timeout)?;
    let (reporter, health_service) = tonic_health::server::health_reporter();
    let health_task = tokio::spawn(health::watch(db.clone(), reporter, config.health_interval));

    let reflection_v1 = reflection().build_v1()?;
    let reflection_v1alpha = reflection().build_v1alpha()?;

    let address = listener.local_addr().ok();
    tracing::info!(listen = ?address, "ansinh-server serving");

    // In-flight calls get `shutdown_grace` to finish once the signal arrives; a call that is
    // still running after that is cut off so that a stuck client cannot block a deploy.
    let grace = config.shutdown_grace;
    let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
    let signal = async move {
        shutdown.await;
        tracing::info!("shutdown requested; finishing in-flight calls");
        let _ = stopping_tx.send(());
    };

    let routes = services::routes(db.clone())
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha);
    let router = Server::builder().add_routes(routes);
    let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener);
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
    tracing::info!("ansinh-server stopped");
    Ok(result?)
}

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
