//! Prometheus metrics, served over plain HTTP at `/metrics` on their own port
//! (`--metrics-listen`), apart from the gRPC port so that TLS and tokens there do not stand in
//! a scraper's way and the numbers are never exposed to the service's callers.
//!
//! This module owns every series the server exports: what [`crate::observe`] records per call,
//! the database pool and health, the cache and the newest committed run it has seen, the
//! import ledger, and the build. Values that
//! belong to something else (the pool, the cache, the ledger) are read when Prometheus scrapes,
//! so they are never older than the scrape. The exposition format is OpenMetrics text (prometheus-client), which
//! Prometheus negotiates by content type.

use std::{fmt, sync::Arc, time::Duration};

use ansinh_store::{models::ImportRunStatus, queries};
use axum::{Router, extract::State, http::header, response::IntoResponse, routing::get};
use prometheus_client::{
    collector::Collector,
    encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric},
    metrics::{
        MetricType,
        counter::{ConstCounter, Counter},
        family::Family,
        gauge::{ConstGauge, Gauge},
        histogram::Histogram,
    },
    registry::{Metric, Registry},
};

use crate::{cache::Cache, db::Db, error::ApiError};

/// How long a scrape waits for the ledger before it answers with the last values read.
const LEDGER_TIMEOUT: Duration = Duration::from_secs(2);

/// Call latency buckets, in seconds: from a cached catalog read to a long export.
const LATENCY_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// A finished call: its method and gRPC status code.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct CallLabels {
    pub(crate) service: &'static str,
    pub(crate) method: &'static str,
    pub(crate) code: &'static str,
}

/// A method, for its latency.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct MethodLabels {
    pub(crate) service: &'static str,
    pub(crate) method: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    status: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: &'static str,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

/// Every series the server exports, registered once at startup.
pub(crate) struct Metrics {
    registry: Registry,
    pub(crate) calls: Family<CallLabels, Counter>,
    pub(crate) call_duration: HistogramFamily<MethodLabels>,
    pub(crate) calls_in_flight: Gauge,
    pub(crate) database_up: Gauge,
    pool_connections: Family<StateLabels, Gauge>,
    pool_max: Gauge,
    pool_waiting: Gauge,
    import_runs: Family<StatusLabels, Gauge>,
    import_last_finished: Family<StatusLabels, Gauge>,
    cache: Cache,
}

/// Registers `metric` under `name` and hands it back for the server to update.
fn registered<M: Metric + Clone>(registry: &mut Registry, name: &str, help: &str, metric: M) -> M {
    registry.register(name, help, metric.clone());
    metric
}

impl Metrics {
    /// Every series, the cache's read from `cache` at each scrape.
    pub(crate) fn new(cache: Cache) -> Self {
        let mut registry = Registry::default();
        let calls = registered(
            &mut registry,
            "ansinh_grpc_requests",
            "Finished gRPC calls by service, method and status code",
            Family::<CallLabels, Counter>::default(),
        );
        let call_duration: HistogramFamily<MethodLabels> = registered(
            &mut registry,
            "ansinh_grpc_request_duration_seconds",
            "Time from the start of a call's execution to its last response byte, by service and method",
            Family::new_with_constructor(|| Histogram::new(LATENCY_BUCKETS)),
        );
        let calls_in_flight = registered(
            &mut registry,
            "ansinh_grpc_requests_in_flight",
            "gRPC calls started and not yet finished",
            Gauge::default(),
        );
        let database_up = registered(
            &mut registry,
            "ansinh_database_up",
            "1 while MySQL answers the health check, else 0 (the server then reports NOT_SERVING)",
            Gauge::default(),
        );
        let pool_connections = registered(
            &mut registry,
            "ansinh_db_pool_connections",
            "Open MySQL connections of the pool: in_use by a call, or idle",
            Family::<StateLabels, Gauge>::default(),
        );
        let pool_max = registered(
            &mut registry,
            "ansinh_db_pool_max_connections",
            "Most MySQL connections the pool opens (--db-pool-size)",
            Gauge::default(),
        );
        let pool_waiting = registered(
            &mut registry,
            "ansinh_db_pool_waiting_calls",
            "Calls waiting for a MySQL connection because every one is in use",
            Gauge::default(),
        );
        let import_runs = registered(
            &mut registry,
            "ansinh_import_runs",
            "Runs recorded in the import ledger, by status (read from MySQL at each scrape)",
            Family::<StatusLabels, Gauge>::default(),
        );
        let import_last_finished = registered(
            &mut registry,
            "ansinh_import_last_finished_timestamp_seconds",
            "When the newest run of each status finished, in Unix seconds (read from the ledger at each scrape)",
            Family::<StatusLabels, Gauge>::default(),
        );
        let build_info = Family::<BuildLabels, Gauge>::default();
        build_info
            .get_or_create(&BuildLabels {
                version: env!("CARGO_PKG_VERSION"),
            })
            .set(1);
        registry.register(
            "ansinh_build_info",
            "Always 1; the version of ansinh-server is in the label",
            build_info,
        );
        registry.register_collector(Box::new(CacheCollector(cache.clone())));
        Self {
            registry,
            calls,
            call_duration,
            calls_in_flight,
            database_up,
            pool_connections,
            pool_max,
            pool_waiting,
            import_runs,
            import_last_finished,
            cache,
        }
    }

    /// The newest committed import run the server has seen (see [`Cache::latest_run_seen`]),
    /// which it exports as `ansinh_latest_run_seen` and [`crate::observe`] sends with answers.
    pub(crate) fn latest_run_seen(&self) -> Option<u64> {
        self.cache.latest_run_seen()
    }

    /// Reads the pool's and the ledger's current state into their series. When the ledger does
    /// not answer, its series keep the last values read: the time since the last committed run
    /// keeps growing through a database outage, so an alert on it still fires.
    async fn refresh(&self, db: &Db) {
        let pool = db.pool_status();
        self.pool_max.set(gauge_value(pool.max));
        self.pool_connections
            .get_or_create(&StateLabels { state: "in_use" })
            .set(gauge_value(pool.in_use));
        self.pool_connections
            .get_or_create(&StateLabels { state: "idle" })
            .set(gauge_value(pool.idle));
        self.pool_waiting.set(gauge_value(pool.waiting));

        let ledger = async {
            let mut conn = db.control_conn().await?;
            Ok::<_, ApiError>(queries::import_runs::ledger_summary(&mut conn).await?)
        };
        match tokio::time::timeout(LEDGER_TIMEOUT, ledger).await {
            Ok(Ok(summary)) => {
                for status in ImportRunStatus::ALL {
                    let entry = summary.iter().find(|entry| entry.status == status.as_str());
                    let labels = StatusLabels {
                        status: status.as_str(),
                    };
                    self.import_runs
                        .get_or_create(&labels)
                        .set(entry.map_or(0, |entry| entry.runs));
                    if let Some(finished) = entry.and_then(|entry| entry.last_finished_at) {
                        self.import_last_finished
                            .get_or_create(&labels)
                            .set(finished.and_utc().timestamp());
                    }
                }
            }
            Ok(Err(error)) => {
                tracing::debug!(%error, "cannot read the import ledger for metrics");
            }
            Err(_) => {
                tracing::debug!(timeout = ?LEDGER_TIMEOUT, "the import ledger did not answer in time for metrics");
            }
        }
    }

    fn encode(&self) -> String {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .expect("writing to a String cannot fail");
        text
    }
}

/// The cache's series, read from [`Cache::counters`] when Prometheus scrapes: the cache counts
/// in its own atomics on the serving path, and only a scrape turns them into series.
struct CacheCollector(Cache);

impl fmt::Debug for CacheCollector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CacheCollector")
            .field(&self.0.counters())
            .finish()
    }
}

impl Collector for CacheCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> fmt::Result {
        let counters = self.0.counters();
        // Counters are written without "_total", which the encoder appends.
        let totals = [
            (
                "ansinh_cache_hits",
                "GetTimeSeries answers served from the cache",
                counters.hits,
            ),
            (
                "ansinh_cache_misses",
                "GetTimeSeries answers computed from MySQL while the cache was serving (then cached)",
                counters.misses,
            ),
            (
                "ansinh_cache_evictions",
                "Cached answers dropped to stay within --cache-max-bytes",
                counters.evictions,
            ),
            (
                "ansinh_cache_generations",
                "Cache generations started: the first, then one per committed import run seen",
                counters.generations,
            ),
            (
                "ansinh_cache_failed_checks",
                "Checks for a newly committed import run that MySQL did not answer in time",
                counters.failed_checks,
            ),
        ];
        for (name, help, value) in totals {
            let counter = ConstCounter::new(value);
            counter.encode(encoder.encode_descriptor(name, help, None, MetricType::Counter)?)?;
        }
        let levels = [
            (
                "ansinh_cache_entries",
                "GetTimeSeries answers held in the current cache generation",
                counters.entries,
            ),
            (
                "ansinh_cache_bytes",
                "Memory of the cached answers of the current generation, in bytes (bounded by --cache-max-bytes)",
                counters.bytes,
            ),
        ];
        for (name, help, value) in levels {
            let gauge = ConstGauge::new(value);
            gauge.encode(encoder.encode_descriptor(name, help, None, MetricType::Gauge)?)?;
        }
        // Absent rather than 0 until a run has been seen: 0 would read as a run id.
        if let Some(run) = self.0.latest_run_seen() {
            ConstGauge::new(run).encode(encoder.encode_descriptor(
                "ansinh_latest_run_seen",
                "Id of the newest committed import run in the ledger of the database this server reads, as of the cache's last check; a replica that lags shows an older run than the primary",
                None,
                MetricType::Gauge,
            )?)?;
        }
        Ok(())
    }
}

fn gauge_value(count: usize) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}

/// Serves `GET /metrics` on `listener` until the task is aborted.
pub(crate) async fn serve(listener: tokio::net::TcpListener, metrics: Arc<Metrics>, db: Db) {
    let address = listener.local_addr().ok();
    let app = Router::new()
        .route("/metrics", get(scrape))
        .with_state((metrics, db));
    tracing::info!(
        listen = address.map(tracing::field::display),
        "metrics served at /metrics"
    );
    if let Err(error) = axum::serve(listener, app).await {
        tracing::error!(%error, "the metrics endpoint failed");
    }
}

async fn scrape(State((metrics, db)): State<(Arc<Metrics>, Db)>) -> impl IntoResponse {
    metrics.refresh(&db).await;
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        metrics.encode(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_names_every_series_once_with_help_and_type() {
        let cache = Cache::new(crate::CacheSettings {
            enabled: true,
            check_interval: Duration::from_millis(250),
            max_bytes: 1 << 20,
            check_timeout: Duration::from_secs(2),
        });
        let metrics = Metrics::new(cache.clone());
        assert!(
            !metrics.encode().contains("ansinh_latest_run_seen"),
            "no run seen yet, so no run id (0 would look like one)"
        );
        cache.saw_run(42);
        metrics
            .calls
            .get_or_create(&CallLabels {
                service: "ansinh.v1.RegionService",
                method: "GetRegion",
                code: "NOT_FOUND",
            })
            .inc();
        let text = metrics.encode();
        assert!(
            text.contains("# TYPE ansinh_grpc_requests counter\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "ansinh_grpc_requests_total{service=\"ansinh.v1.RegionService\",method=\"GetRegion\",code=\"NOT_FOUND\"} 1\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("ansinh_build_info{version=\"") && text.ends_with("# EOF\n"),
            "{text}"
        );
        for counter in [
            "hits",
            "misses",
            "evictions",
            "generations",
            "failed_checks",
        ] {
            assert!(
                text.contains(&format!(
                    "# TYPE ansinh_cache_{counter} counter\nansinh_cache_{counter}_total 0\n"
                )),
                "{text}"
            );
        }
        assert!(
            text.contains("# TYPE ansinh_latest_run_seen gauge\nansinh_latest_run_seen 42\n"),
            "{text}"
        );
        for gauge in ["entries", "bytes"] {
            assert!(
                text.contains(&format!(
                    "# TYPE ansinh_cache_{gauge} gauge\nansinh_cache_{gauge} 0\n"
                )),
                "{text}"
            );
        }
    }
}
