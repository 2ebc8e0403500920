//! `lineage`: ConvertRegionCodes of every old commune (10,035 codes and the 5 island districts)
//! into 2025-08-01's boundaries, against the same mapping read by one SQL statement, in one
//! run, on loopback.
//!
//! 1. **convert** — ConvertRegionCodes with all 10,040 codes, one call at a time, through the
//!    generated client (the answer decoded): regions and lineage come from the server's cache;
//! 2. **direct SQL** — the one-step mapping the call answers (each old version, its lineage
//!    edges and the versions at their far end, with the names the answer carries) as one
//!    statement over one connection, rows decoded: the baseline.
//!
//! The database `ansinh_lineage_bench` is made anew with the schema and the bundled reference
//! data (no observations). Usage: `cargo bench -p ansinh-server --bench lineage --
//! [--calls N]` (default 20). Environment: `ANSINH_BENCH_SERVER_URL`, the MySQL server without
//! a database (default `mysql://root@127.0.0.1:3306`). Timings are printed, never asserted;
//! the figures and the command are in docs/benchmarks.md.

use std::time::{Duration, Instant};

use ansinh_proto::pb::{self, region_service_client::RegionServiceClient};
use anyhow::Context;
use clap::Parser;
use diesel::QueryableByName;
use diesel::sql_types::{Bool, Text};
use diesel_async::{RunQueryDsl, SimpleAsyncConnection};

mod support;

const DATABASE: &str = "ansinh_lineage_bench";

/// ConvertRegionCodes of every old commune against one SQL statement.
#[derive(Debug, Parser)]
struct Args {
    /// Timed calls per phase (after two untimed ones).
    #[arg(long, default_value_t = 20)]
    calls: usize,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

#[derive(QueryableByName)]
#[allow(dead_code)] // Read to decode every column, as the answer's client does.
struct Mapped {
    #[diesel(sql_type = Text)]
    from_code: String,
    #[diesel(sql_type = Text)]
    from_name: String,
    #[diesel(sql_type = Text)]
    to_code: String,
    #[diesel(sql_type = Text)]
    to_name: String,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Bool)]
    approximate: bool,
}

const DIRECT_SQL: &str = "\
    SELECT o.code AS from_code, o.name AS from_name, n.code AS to_code, n.name AS to_name, \
           l.kind, l.approximate \
    FROM regions o \
    JOIN region_lineage l ON l.from_region_id = o.id \
    JOIN regions n ON n.id = l.to_region_id \
    WHERE o.level IN ('commune', 'district') AND o.valid_to = '2025-06-30' \
      AND n.level = 'commune' \
    ORDER BY o.code, n.code";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let server = std::env::var("ANSINH_BENCH_SERVER_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".into());
    let url = format!("{}/{DATABASE}", server.trim_end_matches('/'));
    {
        let mut admin = ansinh_store::connect(&format!("{}/mysql", server.trim_end_matches('/')))
            .await
            .context("connecting to the MySQL server")?;
        admin
            .batch_execute(&format!(
                "DROP DATABASE IF EXISTS {DATABASE}; CREATE DATABASE {DATABASE} CHARACTER SET utf8mb4"
            ))
            .await?;
    }
    ansinh_store::run_pending_migrations(&url).await?;
    let mut conn = ansinh_store::connect(&url).await?;
    ansinh_store::install_reference_data(&mut conn).await?;

    let codes = old_codes(&mut conn).await?;
    println!(
        "lineage bench: {} codes per call, {} calls per phase",
        codes.len(),
        args.calls
    );

    let running = support::spawn_server(&url, &[]).await?;
    let mut client = RegionServiceClient::connect(format!("http://{}", running.address))
        .await?
        .max_decoding_message_size(64 << 20);
    let request = pb::ConvertRegionCodesRequest {
        codes,
        from_date: "2024-06-01".into(),
        to_date: "2025-08-01".into(),
    };
    let convert = time(args.calls, async || {
        let answer = client
            .convert_region_codes(request.clone())
            .await?
            .into_inner();
        Ok(answer.conversions.iter().map(|c| c.results.len()).sum())
    })
    .await?;
    let direct = time(args.calls, async || {
        let rows = diesel::sql_query(DIRECT_SQL)
            .load::<Mapped>(&mut conn)
            .await?;
        Ok(rows.len())
    })
    .await?;
    running.stop().await;

    report("convert", &convert);
    report("direct SQL", &direct);
    println!(
        "convert / direct SQL: {:.2} (throughput, p50); mappings per call {} vs {}",
        p50(&direct.1) / p50(&convert.1),
        convert.0,
        direct.0
    );
    Ok(())
}

/// The codes of every version that ended with the reform and had lineage: the old communes
/// and the island districts.
async fn old_codes(conn: &mut ansinh_store::AsyncMysqlConnection) -> anyhow::Result<Vec<String>> {
    #[derive(QueryableByName)]
    struct Code {
        #[diesel(sql_type = Text)]
        code: String,
    }
    let rows = diesel::sql_query(
        "SELECT DISTINCT o.code FROM regions o JOIN region_lineage l ON l.from_region_id = o.id \
         WHERE o.level IN ('commune', 'district') AND o.valid_to = '2025-06-30' ORDER BY o.code",
    )
    .load::<Code>(conn)
    .await?;
    Ok(rows.into_iter().map(|row| row.code).collect())
}

/// Runs `call` twice untimed, then `calls` times timed: what one call returned (its count of
/// mappings) and each timed call's latency.
async fn time(
    calls: usize,
    mut call: impl AsyncFnMut() -> anyhow::Result<usize>,
) -> anyhow::Result<(usize, Vec<Duration>)> {
    let mut returned = 0;
    for _ in 0..2 {
        returned = call().await?;
    }
    let mut latencies = Vec::with_capacity(calls);
    for _ in 0..calls {
        let started = Instant::now();
        returned = call().await?;
        latencies.push(started.elapsed());
    }
    latencies.sort();
    Ok((returned, latencies))
}

fn p50(latencies: &[Duration]) -> f64 {
    latencies[latencies.len() / 2].as_secs_f64()
}

fn report(phase: &str, (mappings, latencies): &(usize, Vec<Duration>)) {
    let p99 = latencies[(latencies.len() * 99 / 100).min(latencies.len() - 1)];
    println!(
        "{phase:>12}: p50 {:>8.2} ms  p99 {:>8.2} ms  ({mappings} mappings)",
        p50(latencies) * 1e3,
        p99.as_secs_f64() * 1e3
    );
}
