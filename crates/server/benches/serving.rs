//! `serving`: GetTimeSeries throughput and latency against the framework's limit and against
//! MySQL, in one run, on loopback, with a store of ten million observations.
//!
//! Phases, each the same client (a tonic channel whose codec counts response bytes instead of
//! decoding them) with the same number of concurrent streams, a warm-up, then a timed window:
//!
//! 1. **echo** — a bare tonic service in this process that returns the request: the
//!    framework's limit on this machine (the baseline of the hot path);
//! 2. **hot** — GetTimeSeries over a repeated set of series, cache warm (every call a hit);
//! 3. **cold** — GetTimeSeries over series never asked before (every call a miss; catalog and
//!    regions are cached, as they are between import runs);
//! 4. **direct SQL** — what a cold call runs against MySQL (`queries::figures` for one region
//!    version and indicator) over a pool of the server's size, no gRPC (the cold baseline);
//! 5. **hot, checked per call** — as hot, with the server asking MySQL for the latest
//!    committed run on every call (`--cache-check-interval 0ms`) instead of every 250 ms;
//! 6. **uncached** — GetTimeSeries with `--cache false` (catalog, region versions and figures
//!    read per call, as before the cache), and 7. its **direct SQL** (the same three queries).
//!
//! The store: the 10,035 communes valid before 2025-07-01 × 20 indicators (stocks and flows)
//! × 50 months (2021-05 to 2025-06) = 10,035,000 observations, generated and loaded with
//! `LOAD DATA LOCAL INFILE` into the database `ansinh_server_bench`, under a committed run
//! whose operator is the marker below. A later run finds the marker and reuses the data.
//!
//! Each phase reports calls/s, p50 and p99 latency, errors, and the CPU time this process
//! (the load generator, and the server but for the direct SQL phases) and the MySQL server
//! (when exactly one runs on this machine) spent per call: with MySQL on the same two cores,
//! those columns say how much of a call's cost is ours, and what the best cold / direct SQL
//! ratio here would be if the server's own work between query and answer cost nothing.
//!
//! Usage: `cargo bench -p ansinh-server --bench serving -- [--seconds S] [--streams N]
//! [--connections C]` (defaults 10, 64, 2). Environment: `ANSINH_BENCH_SERVER_URL`, the MySQL
//! server without a database (default `mysql://root@127.0.0.1:3306`). Timings are printed,
//! never asserted; the figures and the command are recorded in docs/benchmarks.md.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use ansinh_model::{IndicatorKind, NaiveDate, RegionLevel, Unit};
use ansinh_proto::pb;
use ansinh_server::{Cache, CacheCounters};
use ansinh_store::import::{InfileBuffers, RunCounts};
use ansinh_store::models::ImportRunStatus;
use ansinh_store::queries::{self, EndWindow, RegionCursor, RegionFilter};
use anyhow::{Context, bail};
use bytes::Buf;
use clap::Parser;
use diesel_async::SimpleAsyncConnection;
use tonic::codec::{Codec, DecodeBuf, Decoder};
use tonic::codegen::{BoxFuture, Service, http};
use tonic::transport::{Channel, Endpoint};

mod support;
use support::{Running, spawn_server};

/// The ledger entry that says the generated observations are all there.
const MARKER: &str = "ansinh-server bench: 10035 communes x 20 indicators x 50 months, v1";
const DATABASE: &str = "ansinh_server_bench";
const INDICATORS: usize = 20;
const MONTHS: usize = 50;
/// Communes per LOAD DATA statement (1,000,000 rows).
const COMMUNES_PER_LOAD: usize = 1000;
/// Series of the hot phase.
const HOT_SERIES: usize = 1000;
/// The server's default pool size, used for the direct SQL pool too.
const POOL_SIZE: usize = 16;
const WARM_UP: Duration = Duration::from_secs(2);

/// GetTimeSeries against the framework's limit and against MySQL.
#[derive(Debug, Parser)]
struct Args {
    /// Seconds measured per phase (after a 2 s warm-up).
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Concurrent streams (calls in flight at any time).
    #[arg(long, default_value_t = 64)]
    streams: usize,
    /// HTTP/2 connections the streams share.
    #[arg(long, default_value_t = 2)]
    connections: usize,
    /// Run only these phases: echo, cached (hot and cold), sql, checked, uncached; for
    /// profiling one of them. The comparison needs them all.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

impl Args {
    fn runs(&self, phase: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|p| p == phase)
    }
}

/// One series: the commune's region version and code, the indicator's id and code.
#[derive(Debug, Clone)]
struct Series {
    region_id: u32,
    region_code: String,
    indicator_id: u32,
    indicator_code: String,
}

impl Series {
    fn request(&self) -> pb::GetTimeSeriesRequest {
        pb::GetTimeSeriesRequest {
            region_code: self.region_code.clone(),
            indicator_code: self.indicator_code.clone(),
            ..Default::default()
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let server = std::env::var("ANSINH_BENCH_SERVER_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".to_owned());
    let url = format!("{}/{DATABASE}", server.trim_end_matches('/'));
    let started = Instant::now();
    println!("load average before: {}", load_average());

    let series = prepare_store(&server, &url).await?;
    println!(
        "store ready in {:.1}s: {} series of {MONTHS} months",
        started.elapsed().as_secs_f64(),
        series.len()
    );
    let series = Arc::new(shuffled(series));
    let hot: Arc<Vec<Series>> = Arc::new(series[..HOT_SERIES].to_vec());
    // Every cold phase takes series nobody asked for yet, from this shared cursor.
    let fresh = Arc::new(Fresh {
        series: Arc::clone(&series),
        next: AtomicUsize::new(HOT_SERIES),
    });
    let window = Duration::from_secs(args.seconds);
    let mut results = Vec::new();

    if args.runs("echo") {
        // 1. echo
        let echo = spawn_echo().await?;
        let channels = connect_channels(echo.address, args.connections).await?;
        let requests = Arc::clone(&hot);
        results.push(
            load(
                "echo (bare tonic, same client)",
                &channels,
                args.streams,
                window,
                ECHO_PATH,
                move |i| requests[i % requests.len()].request(),
            )
            .await?,
        );
        echo.stop().await;
    }

    let mut hot_counts = CacheCounters::default();
    let mut cold_counts = CacheCounters::default();
    if args.runs("cached") {
        // 2. hot and 3. cold, one server with the default cache.
        let running = spawn_server(&url, &[]).await?;
        check_answer(running.address, &hot[0]).await?;
        let channels = connect_channels(running.address, args.connections).await?;
        // Warm every hot series once.
        let requests = Arc::clone(&hot);
        load_count(
            &channels,
            args.streams,
            HOT_SERIES,
            TIME_SERIES_PATH,
            move |i| requests[i].request(),
        )
        .await?;
        let before = running.cache.counters();
        let requests = Arc::clone(&hot);
        let hot_result = load(
            "GetTimeSeries hot (cache warm)",
            &channels,
            args.streams,
            window,
            TIME_SERIES_PATH,
            move |i| requests[i % requests.len()].request(),
        )
        .await?;
        hot_counts = delta(before, running.cache.counters());
        results.push(hot_result);

        let before = running.cache.counters();
        let cold_series = Arc::clone(&fresh);
        let cold_result = load(
            "GetTimeSeries cold (series not asked before)",
            &channels,
            args.streams,
            window,
            TIME_SERIES_PATH,
            move |_| cold_series.take().request(),
        )
        .await?;
        cold_counts = delta(before, running.cache.counters());
        results.push(cold_result);
        running.stop().await;
    }

    let pool = ansinh_store::pool(&url, POOL_SIZE, ansinh_store::POOL_TIMEOUT)?;
    if args.runs("sql") {
        // 4. the direct SQL of a cold call.
        let cold_sql = Arc::clone(&fresh);
        results.push(
            load_sql(
                "direct SQL: figures of one series (a cold call's query)",
                &pool,
                args.streams,
                window,
                move |mut conn| {
                    let series = cold_sql.take();
                    async move {
                        queries::figures(
                            &mut conn,
                            &[series.region_id],
                            Some(&[series.indicator_id]),
                            EndWindow::default(),
                        )
                        .await
                        .map(|figures| figures.len())
                    }
                },
            )
            .await?,
        );
    }

    if args.runs("checked") {
        // 5. hot with a check of the latest run on every call.
        let running = spawn_server(&url, &["--cache-check-interval", "0ms"]).await?;
        let channels = connect_channels(running.address, args.connections).await?;
        let requests = Arc::clone(&hot);
        load_count(
            &channels,
            args.streams,
            HOT_SERIES,
            TIME_SERIES_PATH,
            move |i| requests[i].request(),
        )
        .await?;
        let requests = Arc::clone(&hot);
        results.push(
            load(
                "GetTimeSeries hot, latest run checked per call",
                &channels,
                args.streams,
                window,
                TIME_SERIES_PATH,
                move |i| requests[i % requests.len()].request(),
            )
            .await?,
        );
        running.stop().await;
    }

    if args.runs("uncached") {
        // 6. no cache, and 7. the same three queries directly.
        let running = spawn_server(&url, &["--cache", "false"]).await?;
        let channels = connect_channels(running.address, args.connections).await?;
        let uncached_series = Arc::clone(&fresh);
        results.push(
            load(
                "GetTimeSeries, cache off (as before the cache)",
                &channels,
                args.streams,
                window,
                TIME_SERIES_PATH,
                move |_| uncached_series.take().request(),
            )
            .await?,
        );
        running.stop().await;
        let uncached_sql = Arc::clone(&fresh);
        results.push(
            load_sql(
                "direct SQL: catalog, region versions, figures",
                &pool,
                args.streams,
                window,
                move |mut conn| {
                    let series = uncached_sql.take();
                    async move {
                        let catalog = queries::list_indicators(&mut conn).await?;
                        let versions =
                            queries::region_versions(&mut conn, &[&series.region_code]).await?;
                        let ids: Vec<u32> = versions.iter().map(|v| v.id).collect();
                        let figures = queries::figures(
                            &mut conn,
                            &ids,
                            Some(&[series.indicator_id]),
                            EndWindow::default(),
                        )
                        .await?;
                        Ok(catalog.len() + figures.len())
                    }
                },
            )
            .await?,
        );
    }

    report(&args, &results, hot_counts, cold_counts, fresh.used());
    println!("total time: {:.0}s", started.elapsed().as_secs_f64());
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The store.

/// Migrates the database, and generates and loads the observations unless the marker says
/// they are there; returns every series.
async fn prepare_store(server: &str, url: &str) -> anyhow::Result<Vec<Series>> {
    ansinh_store::run_pending_migrations(url)
        .await
        .context("migrating the bench database")?;
    let mut conn = ansinh_store::connect(url).await?;
    let runs = queries::list_import_runs(&mut conn, None, 100).await?;
    let marked = runs.iter().any(|record| {
        record.run.operator == MARKER && record.run.status == ImportRunStatus::Committed.as_str()
    });
    if !marked && !runs.is_empty() {
        // A load that did not finish: start again from an empty database.
        println!("{DATABASE} holds an unfinished load; recreating it");
        drop(conn);
        let mut admin = ansinh_store::connect(server).await?;
        admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {DATABASE}"))
            .await?;
        ansinh_store::run_pending_migrations(url).await?;
        conn = ansinh_store::connect(url).await?;
    }
    if !marked {
        ansinh_store::install_reference_data(&mut conn).await?;
    }
    let series = all_series(&mut conn).await?;
    if marked {
        return Ok(series);
    }
    load_observations(url, &mut conn, &series).await?;
    Ok(series)
}

/// The communes valid before 2025-07-01 × the first 20 stock and flow indicators.
async fn all_series(conn: &mut ansinh_store::AsyncMysqlConnection) -> anyhow::Result<Vec<Series>> {
    let last_day = NaiveDate::from_ymd_opt(2025, 6, 30).expect("a date");
    let filter = RegionFilter {
        level: Some(RegionLevel::Commune),
        valid_on: Some(last_day),
        ..RegionFilter::default()
    };
    let mut communes = Vec::new();
    let mut after: Option<RegionCursor> = None;
    loop {
        let page = queries::list_regions(conn, &filter, after.as_ref(), 5000).await?;
        after = page.last().map(RegionCursor::after);
        let done = page.len() < 5000;
        communes.extend(page);
        if done {
            break;
        }
    }
    communes.sort_by_key(|record| record.id);
    let indicators: Vec<_> = queries::list_indicators(conn)
        .await?
        .into_iter()
        .filter(|record| {
            matches!(
                record.indicator.kind,
                IndicatorKind::Stock | IndicatorKind::Flow
            ) && record.indicator.unit != Unit::Percent
        })
        .take(INDICATORS)
        .collect();
    if communes.len() != 10_035 || indicators.len() != INDICATORS {
        bail!(
            "expected 10,035 communes and {INDICATORS} indicators, found {} and {}",
            communes.len(),
            indicators.len()
        );
    }
    let mut series = Vec::with_capacity(communes.len() * INDICATORS);
    for commune in &communes {
        for indicator in &indicators {
            series.push(Series {
                region_id: commune.id,
                region_code: commune.region.code.to_string(),
                indicator_id: indicator.id,
                indicator_code: indicator.indicator.code.to_string(),
            });
        }
    }
    Ok(series)
}

/// The 50 months ending June 2025, as (first day, last day).
fn months() -> Vec<(NaiveDate, NaiveDate)> {
    let mut months = Vec::with_capacity(MONTHS);
    let mut first = NaiveDate::from_ymd_opt(2021, 5, 1).expect("a date");
    for _ in 0..MONTHS {
        let next = first
            .checked_add_months(chrono::Months::new(1))
            .expect("a month later");
        months.push((first, next.pred_opt().expect("a day earlier")));
        first = next;
    }
    months
}

/// Generates the observations of `series` under a new run and loads them in primary-key
/// order, a million rows per `LOAD DATA LOCAL INFILE`; commits the run (the marker) last.
async fn load_observations(
    url: &str,
    conn: &mut ansinh_store::AsyncMysqlConnection,
    series: &[Series],
) -> anyhow::Result<()> {
    let run_id = ansinh_store::import::start_run(conn, MARKER, false).await?;
    let stocks: HashMap<u32, bool> = queries::list_indicators(conn)
        .await?
        .into_iter()
        .map(|record| (record.id, record.indicator.kind == IndicatorKind::Stock))
        .collect();
    let buffers = InfileBuffers::default();
    let mut loader = ansinh_store::import::connect(url, buffers.clone()).await?;
    // The generated rows are valid by construction; checking each against the foreign and
    // unique keys would only slow the load.
    loader
        .batch_execute("SET SESSION foreign_key_checks = 0, unique_checks = 0")
        .await?;
    let months = months();
    let started = Instant::now();
    let mut rows = 0u64;
    for (chunk_no, chunk) in series.chunks(COMMUNES_PER_LOAD * INDICATORS).enumerate() {
        let mut tsv = Vec::with_capacity(chunk.len() * MONTHS * 48);
        for one in chunk {
            let stock = stocks.get(&one.indicator_id).copied().unwrap_or(true);
            for (m, (first, last)) in months.iter().enumerate() {
                // Deterministic, varied values: persons, counts or VND as the indicator says.
                let value = (u64::from(one.region_id) * 7919
                    + u64::from(one.indicator_id) * 104_729
                    + m as u64 * 1_299_709)
                    % 1_000_000
                    + 1;
                // A stock is stored at the instant its period ends.
                let start = if stock { last } else { first };
                use std::io::Write as _;
                writeln!(
                    tsv,
                    "{}\t{}\t{last}\t{start}\t{value}\t0\t\\N\t\\N\t{run_id}",
                    one.region_id, one.indicator_id
                )?;
                rows += 1;
            }
        }
        let name = format!("bench-{chunk_no}");
        buffers.put(&name, tsv.into());
        loader
            .batch_execute(&format!(
                "LOAD DATA LOCAL INFILE '{name}' INTO TABLE observations CHARACTER SET utf8mb4 \
                 (region_id, indicator_id, period_end, period_start, value, qualifier, \
                 source_id, note, import_run_id)"
            ))
            .await
            .with_context(|| format!("loading {name}"))?;
        println!(
            "loaded {rows} rows in {:.0}s",
            started.elapsed().as_secs_f64()
        );
    }
    loader.batch_execute("ANALYZE TABLE observations").await?;
    let counts = RunCounts {
        inserted: rows,
        ..RunCounts::default()
    };
    ansinh_store::import::finish_run(conn, run_id, ImportRunStatus::Committed, counts, None, &[])
        .await?;
    Ok(())
}

/// A fixed shuffle (xorshift), so hot and cold series are spread over the whole table.
fn shuffled(mut series: Vec<Series>) -> Vec<Series> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in (1..series.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let j = (state % (i as u64 + 1)) as usize;
        series.swap(i, j);
    }
    series
}

/// Series handed out once each, in shuffled order, to the cold phases.
struct Fresh {
    series: Arc<Vec<Series>>,
    next: AtomicUsize,
}

impl Fresh {
    fn take(&self) -> Series {
        let i = self.next.fetch_add(1, Ordering::Relaxed);
        // Past the end the series come round again (and are no longer cold): reported.
        self.series[i % self.series.len()].clone()
    }

    fn used(&self) -> usize {
        self.next.load(Ordering::Relaxed)
    }
}

// ---------------------------------------------------------------------------------------------
// The servers.

const ECHO_PATH: &str = "/ansinh.bench.Echo/Echo";
const TIME_SERIES_PATH: &str = "/ansinh.v1.StatisticsService/GetTimeSeries";

/// The bare tonic service of the echo phase: returns the request it was sent, through the
/// same server builder, codec and HTTP/2 stack as ansinh-server.
#[derive(Clone)]
struct Echo;

impl tonic::server::NamedService for Echo {
    const NAME: &'static str = "ansinh.bench.Echo";
}

struct EchoMethod;

impl tonic::server::UnaryService<pb::GetTimeSeriesRequest> for EchoMethod {
    type Response = pb::GetTimeSeriesRequest;
    type Future = BoxFuture<tonic::Response<Self::Response>, tonic::Status>;

    fn call(&mut self, request: tonic::Request<pb::GetTimeSeriesRequest>) -> Self::Future {
        Box::pin(async move { Ok(tonic::Response::new(request.into_inner())) })
    }
}

impl Service<http::Request<tonic::body::Body>> for Echo {
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<tonic::body::Body>) -> Self::Future {
        Box::pin(async move {
            let codec = tonic_prost::ProstCodec::<pb::GetTimeSeriesRequest, _>::default();
            Ok(tonic::server::Grpc::new(codec)
                .unary(EchoMethod, request)
                .await)
        })
    }
}

async fn spawn_echo() -> anyhow::Result<Running> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    // The same socket options as ansinh-server's.
    let incoming = tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));
    let task = tokio::spawn(async move {
        let shutdown = async move {
            let _ = stopped.await;
        };
        if let Err(error) = tonic::transport::Server::builder()
            .add_service(Echo)
            .serve_with_incoming_shutdown(incoming, shutdown)
            .await
        {
            eprintln!("echo server failed: {error}");
        }
    });
    Ok(Running {
        address,
        cache: Cache::new(ansinh_server::CacheSettings {
            enabled: false,
            check_interval: Duration::ZERO,
            max_bytes: 0,
            check_timeout: Duration::ZERO,
        }),
        stop,
        task,
    })
}

/// One decoded answer through the generated client, to be sure the measured calls return a
/// whole series.
async fn check_answer(address: SocketAddr, series: &Series) -> anyhow::Result<()> {
    let mut client = pb::statistics_service_client::StatisticsServiceClient::connect(format!(
        "http://{address}"
    ))
    .await?;
    let answer = client.get_time_series(series.request()).await?.into_inner();
    if answer.points.len() != MONTHS {
        bail!(
            "GetTimeSeries {} {} returned {} points, expected {MONTHS}",
            series.region_code,
            series.indicator_code,
            answer.points.len()
        );
    }
    println!(
        "GetTimeSeries answer: {} points, {} bytes encoded",
        answer.points.len(),
        prost::Message::encoded_len(&answer)
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The load generator.

/// Encodes requests with prost and reads responses as a byte count: the load generator does
/// the same small work for every service, so the server's cost is what differs.
struct CountingCodec;

struct CountingDecoder;

impl Decoder for CountingDecoder {
    type Item = usize;
    type Error = tonic::Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<usize>, tonic::Status> {
        let length = buf.remaining();
        buf.advance(length);
        Ok(Some(length))
    }
}

impl Codec for CountingCodec {
    type Encode = pb::GetTimeSeriesRequest;
    type Decode = usize;
    type Encoder = tonic_prost::ProstEncoder<pb::GetTimeSeriesRequest>;
    type Decoder = CountingDecoder;

    fn encoder(&mut self) -> Self::Encoder {
        tonic_prost::ProstEncoder::default()
    }

    fn decoder(&mut self) -> Self::Decoder {
        CountingDecoder
    }
}

async fn connect_channels(address: SocketAddr, count: usize) -> anyhow::Result<Vec<Channel>> {
    let mut channels = Vec::with_capacity(count);
    for _ in 0..count.max(1) {
        channels.push(
            Endpoint::from_shared(format!("http://{address}"))?
                .tcp_nodelay(true)
                .connect()
                .await?,
        );
    }
    Ok(channels)
}

/// What one phase measured.
struct Measured {
    name: &'static str,
    calls: usize,
    errors: usize,
    seconds: f64,
    p50: Duration,
    p99: Duration,
    /// CPU seconds of this process per call in the window.
    cpu_per_call: Option<f64>,
    /// CPU seconds of the MySQL server per call in the window, when it runs on this machine.
    mysql_cpu_per_call: Option<f64>,
}

impl Measured {
    fn rate(&self) -> f64 {
        self.calls as f64 / self.seconds
    }

    fn of(name: &'static str, mut latencies: Vec<Duration>, errors: usize, seconds: f64) -> Self {
        latencies.sort_unstable();
        let at = |q: f64| {
            latencies
                .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
                .copied()
                .unwrap_or_default()
        };
        Self {
            name,
            calls: latencies.len(),
            errors,
            seconds,
            p50: at(0.50),
            p99: at(0.99),
            cpu_per_call: None,
            mysql_cpu_per_call: None,
        }
    }
}

/// `streams` concurrent callers of `path` for a warm-up and then `window`; the `i`-th call of
/// a caller sends `request(i)`. Calls that end inside the window are counted.
async fn load(
    name: &'static str,
    channels: &[Channel],
    streams: usize,
    window: Duration,
    path: &'static str,
    request: impl Fn(usize) -> pb::GetTimeSeriesRequest + Send + Sync + 'static,
) -> anyhow::Result<Measured> {
    let request = Arc::new(request);
    let start = Instant::now() + WARM_UP;
    let end = start + window;
    let mut tasks = Vec::with_capacity(streams);
    for stream in 0..streams {
        let mut client = tonic::client::Grpc::new(channels[stream % channels.len()].clone());
        let request = Arc::clone(&request);
        tasks.push(tokio::spawn(async move {
            let mut tally = Tally::new(start, end);
            let mut i = stream;
            while let Some(sent) = tally.next_call() {
                let message = request(i);
                i += streams;
                let outcome = async {
                    client
                        .ready()
                        .await
                        .map_err(|e| tonic::Status::unknown(e.to_string()))?;
                    client
                        .unary(
                            tonic::Request::new(message),
                            http::uri::PathAndQuery::from_static(path),
                            CountingCodec,
                        )
                        .await
                }
                .await;
                tally.record(sent, outcome.is_ok());
            }
            tally
        }));
    }
    collect(name, tasks, start, window).await
}

/// `calls` calls of `path` with `request(0..calls)`, `streams` at a time; to warm a cache.
async fn load_count(
    channels: &[Channel],
    streams: usize,
    calls: usize,
    path: &'static str,
    request: impl Fn(usize) -> pb::GetTimeSeriesRequest + Send + Sync + 'static,
) -> anyhow::Result<()> {
    let request = Arc::new(request);
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for stream in 0..streams {
        let mut client = tonic::client::Grpc::new(channels[stream % channels.len()].clone());
        let (request, next) = (Arc::clone(&request), Arc::clone(&next));
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= calls {
                    return Ok::<_, tonic::Status>(());
                }
                client
                    .ready()
                    .await
                    .map_err(|e| tonic::Status::unknown(e.to_string()))?;
                client
                    .unary(
                        tonic::Request::new(request(i)),
                        http::uri::PathAndQuery::from_static(path),
                        CountingCodec,
                    )
                    .await?;
            }
        }));
    }
    for task in tasks {
        task.await??;
    }
    Ok(())
}

/// As [`load`], each call a query on a pooled connection instead of a gRPC call.
async fn load_sql<F, Fut>(
    name: &'static str,
    pool: &ansinh_store::Pool,
    streams: usize,
    window: Duration,
    query: F,
) -> anyhow::Result<Measured>
where
    F: Fn(ansinh_store::PooledConnection) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<usize, ansinh_store::StoreError>> + Send,
{
    let query = Arc::new(query);
    let start = Instant::now() + WARM_UP;
    let end = start + window;
    let mut tasks = Vec::with_capacity(streams);
    for _ in 0..streams {
        let (pool, query) = (pool.clone(), Arc::clone(&query));
        tasks.push(tokio::spawn(async move {
            let mut tally = Tally::new(start, end);
            while let Some(sent) = tally.next_call() {
                let answered = match pool.get().await {
                    Ok(conn) => query(conn).await.is_ok(),
                    Err(_) => false,
                };
                tally.record(sent, answered);
            }
            tally
        }));
    }
    collect(name, tasks, start, window).await
}

/// One stream's calls in a timed window: it calls until the window ends, and counts the
/// calls sent after the warm-up that ended inside the window.
struct Tally {
    start: Instant,
    end: Instant,
    latencies: Vec<Duration>,
    errors: usize,
}

impl Tally {
    fn new(start: Instant, end: Instant) -> Self {
        Self {
            start,
            end,
            latencies: Vec::new(),
            errors: 0,
        }
    }

    /// When the next call is sent, or `None` once the window is over.
    fn next_call(&self) -> Option<Instant> {
        let now = Instant::now();
        (now < self.end).then_some(now)
    }

    /// A call sent at `sent` has just ended, answered or not.
    fn record(&mut self, sent: Instant, answered: bool) {
        let done = Instant::now();
        if sent >= self.start && done <= self.end {
            if answered {
                self.latencies.push(done - sent);
            } else {
                self.errors += 1;
            }
        }
    }
}

async fn collect(
    name: &'static str,
    tasks: Vec<tokio::task::JoinHandle<Tally>>,
    start: Instant,
    window: Duration,
) -> anyhow::Result<Measured> {
    // The CPU this process (load generator and, but for the SQL phases, the server) spends in
    // the window: where a call's time goes beside MySQL's.
    tokio::time::sleep_until(start.into()).await;
    let mysql = mysql_pid();
    let cpu_before = (cpu_seconds("self"), mysql.and_then(cpu_seconds));
    tokio::time::sleep_until((start + window).into()).await;
    let cpu_after = (cpu_seconds("self"), mysql.and_then(cpu_seconds));
    let spent = |after: Option<f64>, before: Option<f64>| after.zip(before).map(|(a, b)| a - b);
    let mut latencies = Vec::new();
    let mut errors = 0;
    for task in tasks {
        let mut tally = task.await?;
        latencies.append(&mut tally.latencies);
        errors += tally.errors;
    }
    let mut measured = Measured::of(name, latencies, errors, window.as_secs_f64());
    let per_call = |cpu: Option<f64>| cpu.map(|cpu| cpu / measured.calls.max(1) as f64);
    measured.cpu_per_call = per_call(spent(cpu_after.0, cpu_before.0));
    measured.mysql_cpu_per_call = per_call(spent(cpu_after.1, cpu_before.1));
    println!(
        "{name}: {:.0} calls/s, p50 {:.2} ms, p99 {:.2} ms, {} errors, {} us CPU per call here, \
         {} us in MySQL",
        measured.rate(),
        ms(measured.p50),
        ms(measured.p99),
        measured.errors,
        micros(measured.cpu_per_call),
        micros(measured.mysql_cpu_per_call)
    );
    Ok(measured)
}

/// The user and system CPU time of process `pid` ("self" for this one) in seconds, from /proc
/// (Linux); `None` elsewhere.
fn cpu_seconds(pid: impl std::fmt::Display) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The fields after the command name, which is in parentheses and may contain spaces.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    // USER_HZ is 100 on every Linux this runs on (sysconf is not reachable without libc).
    Some(ticks / 100.0)
}

/// The MySQL server's process when exactly one runs on this machine (`mariadbd` or `mysqld`):
/// its CPU time is the other half of a call's cost. `None` when there is none or several (the
/// column then says `?`), e.g. a server elsewhere or throwaway test servers beside it.
fn mysql_pid() -> Option<u32> {
    let mut found = std::fs::read_dir("/proc").ok()?.filter_map(|entry| {
        let pid: u32 = entry.ok()?.file_name().to_str()?.parse().ok()?;
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
        matches!(comm.trim_end(), "mariadbd" | "mysqld").then_some(pid)
    });
    let pid = found.next()?;
    found.next().is_none().then_some(pid)
}

fn micros(seconds: Option<f64>) -> String {
    seconds.map_or_else(|| "?".to_owned(), |seconds| format!("{:.0}", seconds * 1e6))
}

fn delta(before: CacheCounters, after: CacheCounters) -> CacheCounters {
    CacheCounters {
        hits: after.hits - before.hits,
        misses: after.misses - before.misses,
        evictions: after.evictions - before.evictions,
        generations: after.generations - before.generations,
        failed_checks: after.failed_checks - before.failed_checks,
        ..after
    }
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn report(
    args: &Args,
    results: &[Measured],
    hot: CacheCounters,
    cold: CacheCounters,
    fresh_used: usize,
) {
    println!();
    println!(
        "{} streams over {} connections, {} s per phase after {} s warm-up; {} cores; load average {}",
        args.streams,
        args.connections,
        args.seconds,
        WARM_UP.as_secs(),
        std::thread::available_parallelism().map_or(0, usize::from),
        load_average()
    );
    println!();
    println!(
        "| phase | calls/s | p50 ms | p99 ms | errors | CPU us/call, this process | CPU us/call, MySQL |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for r in results {
        println!(
            "| {} | {:.0} | {:.2} | {:.2} | {} | {} | {} |",
            r.name,
            r.rate(),
            ms(r.p50),
            ms(r.p99),
            r.errors,
            micros(r.cpu_per_call),
            micros(r.mysql_cpu_per_call)
        );
    }
    println!();
    println!(
        "cache during hot: {} hits, {} misses; during cold: {} hits, {} misses, {} evictions",
        hot.hits, hot.misses, cold.hits, cold.misses, cold.evictions
    );
    if fresh_used > 10_035 * INDICATORS {
        println!("note: the cold phases ran out of fresh series and asked some twice");
    }
    let find = |prefix: &str| results.iter().find(|r| r.name.starts_with(prefix));
    let (Some(echo), Some(hot), Some(cold), Some(sql)) = (
        find("echo"),
        find("GetTimeSeries hot (cache"),
        find("GetTimeSeries cold"),
        find("direct SQL: figures"),
    ) else {
        return;
    };
    println!();
    let verdict = |met: bool| if met { "met" } else { "MISSED" };
    let hot_ratio = hot.rate() / echo.rate();
    let cold_ratio = cold.rate() / sql.rate();
    println!("| goal | measured | |");
    println!("| --- | ---: | --- |");
    println!(
        "| hot / echo ≥ 0.5 | {hot_ratio:.2} | {} |",
        verdict(hot_ratio >= 0.5)
    );
    println!(
        "| cold / direct SQL ≥ 0.8 | {cold_ratio:.2} | {} |",
        verdict(cold_ratio >= 0.8)
    );
    println!(
        "| p99 hot ≤ 5 ms | {:.2} ms | {} |",
        ms(hot.p99),
        verdict(hot.p99 <= Duration::from_millis(5))
    );
    println!(
        "| p99 cold ≤ 20 ms | {:.2} ms | {} |",
        ms(cold.p99),
        verdict(cold.p99 <= Duration::from_millis(20))
    );
    cold_ceiling(hot, cold, sql);
}

/// The best cold / direct SQL ratio this machine allows, when every phase is bound by the two
/// cores it shares with MySQL: a cold call costs at least MySQL's share of it, what a hot call
/// costs this process (the same answer through the same gRPC client and server) and what the
/// direct SQL costs its client (the same query, its rows decoded); only the server's own work
/// between the query and the answer could go.
fn cold_ceiling(hot: &Measured, cold: &Measured, sql: &Measured) {
    let (Some(h), Some(s), Some(m_cold), Some(m_sql)) = (
        hot.cpu_per_call,
        sql.cpu_per_call,
        cold.mysql_cpu_per_call,
        sql.mysql_cpu_per_call,
    ) else {
        return;
    };
    let cold_cpu = cold.cpu_per_call.unwrap_or(f64::NAN);
    println!();
    println!(
        "a cold call's floor in this process: hot call {:.0} + direct SQL's client {:.0} = {:.0} us \
         (measured {:.0} us); with MySQL's {:.0} us a cold call (direct SQL {:.0} us), \
         cold / direct SQL at that floor: {:.2}",
        h * 1e6,
        s * 1e6,
        (h + s) * 1e6,
        cold_cpu * 1e6,
        m_cold * 1e6,
        m_sql * 1e6,
        (m_sql + s) / (m_cold + h + s)
    );
}

/// The 1, 5 and 15 minute load averages: other work on the machine shows here.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|_| "unknown".to_owned())
}
