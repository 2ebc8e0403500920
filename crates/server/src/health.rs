//! `grpc.health.v1`: the server is SERVING only while MySQL answers. A background task asks
//! MySQL at a fixed interval and flips the overall status and every ansinh.v1 service's status
//! together, so a load balancer stops sending calls while the database is away and resumes
//! when it returns, without a restart.

use std::time::Duration;

use prometheus_client::metrics::gauge::Gauge;
use tonic_health::{ServingStatus, server::HealthReporter};

use crate::db::Db;

/// Runs until aborted, keeping the reported status (and `database_up`, its metric) in line with
/// MySQL's.
pub(crate) async fn watch(
    db: Db,
    reporter: HealthReporter,
    interval: Duration,
    database_up: Gauge,
) {
    let mut serving = None;
    loop {
        let answers = db.ping().await.is_ok();
        database_up.set(i64::from(answers));
        if serving != Some(answers) {
            let status = if answers {
                ServingStatus::Serving
            } else {
                ServingStatus::NotServing
            };
            for name in std::iter::once("").chain(crate::services::NAMES.iter().copied()) {
                reporter.set_service_status(name, status).await;
            }
            if answers {
                tracing::info!("database answers; health is SERVING");
            } else {
                tracing::warn!("database does not answer; health is NOT_SERVING");
            }
            serving = Some(answers);
        }
        tokio::time::sleep(interval).await;
    }
}
