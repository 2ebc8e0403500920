//! `ansinh-import-bench`: measures `ansinh-import load` against MySQL's own bulk load.
//!
//! In one run, on a fresh database: generates N commune-month observations (default
//! 1,000,000, from the 10,035 communes valid before 2025-07-01), times `LOAD DATA LOCAL
//! INFILE` of the same rows into a plain table of the same columns and primary key (the
//! baseline), then the first import and the re-import of the unchanged file by the real
//! binary as a child process, and prints rows/s, ratios to the baseline and the child's peak
//! RSS (VmHWM). Results and the command are recorded in docs/benchmarks.md.
//!
//! Usage: `cargo run --release -p ansinh-importer --bin ansinh-import-bench -- [ROWS]`
//! Environment: `ANSINH_BENCH_SERVER_URL` (default `mysql://root@127.0.0.1:3306`); the
//! database `ansinh_bench` on it is dropped and recreated.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::{Datelike, NaiveDate};
use diesel::sql_types::{Integer, Text, Unsigned};
use diesel_async::{RunQueryDsl, SimpleAsyncConnection};

#[derive(diesel::QueryableByName)]
struct IdCode {
    #[diesel(sql_type = Unsigned<Integer>)]
    id: u32,
    #[diesel(sql_type = Text)]
    code: String,
}

#[derive(diesel::QueryableByName)]
struct IndicatorIdCode {
    #[diesel(sql_type = Unsigned<Integer>)]
    id: u32,
    #[diesel(sql_type = Text)]
    code: String,
    #[diesel(sql_type = Text)]
    kind: String,
}

fn months() -> Vec<(NaiveDate, NaiveDate)> {
    // 100 months ending June 2025: every commune of the old generation is valid throughout.
    let mut out = Vec::new();
    let (mut y, mut m) = (2017, 3);
    for _ in 0..100 {
        let start = NaiveDate::from_ymd_opt(y, m, 1).expect("valid month");
        let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
        let end = NaiveDate::from_ymd_opt(ny, nm, 1)
            .expect("valid month")
            .pred_opt()
            .expect("a day before");
        out.push((start, end));
        (y, m) = (ny, nm);
    }
    out
}

fn import_binary() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let path = exe.with_file_name("ansinh-import");
    if !path.exists() {
        bail!(
            "{} not found; build it with `cargo build --release -p ansinh-importer`",
            path.display()
        );
    }
    Ok(path)
}

/// Runs the import binary, returning wall time and peak RSS in KiB (polled VmHWM).
fn run_import(binary: &Path, url: &str, args: &[&str]) -> anyhow::Result<(Duration, u64, String)> {
    let started = Instant::now();
    let mut child = Command::new(binary)
        .args(args)
        .env("DATABASE_URL", url)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()?;
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak = 0u64;
    let status = loop {
        if let Ok(text) = std::fs::read_to_string(&status_path)
            && let Some(kb) = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        {
            peak = peak.max(kb);
        }
        if let Some(status) = child.try_wait()? {
            break status;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let elapsed = started.elapsed();
    let mut out = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().context("stdout")?, &mut out)?;
    if !status.success() {
        bail!("ansinh-import {args:?} failed ({status}): {out}");
    }
    Ok((elapsed, peak, out.trim().to_owned()))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let rows: usize = std::env::args()
        .nth(1)
        .map(|a| a.replace('_', "").parse())
        .transpose()?
        .unwrap_or(1_000_000);
    let server = std::env::var("ANSINH_BENCH_SERVER_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".to_owned());
    let url = format!("{}/ansinh_bench", server.trim_end_matches('/'));
    let binary = import_binary()?;
    let dir = std::env::temp_dir().join("ansinh-bench");
    std::fs::create_dir_all(&dir)?;

    let mut admin = ansinh_store::connect(&server).await?;
    admin.batch_execute("DROP DATABASE IF EXISTS ansinh_bench; CREATE DATABASE ansinh_bench CHARACTER SET utf8mb4").await?;
    let (t, _, _) = run_import(&binary, &url, &["migrate"])?;
    println!("migrate: {:.1}s", t.as_secs_f64());

    let mut conn = ansinh_store::connect(&url).await?;
    let communes: Vec<IdCode> = diesel::sql_query(
        "SELECT id, code FROM regions WHERE level = 'commune' AND valid_to = '2025-06-30' ORDER BY id",
    )
    .load(&mut conn)
    .await?;
    let indicators: Vec<IndicatorIdCode> = diesel::sql_query(
        "SELECT id, code, kind FROM indicators WHERE unit IN ('persons', 'count', 'vnd') AND kind IN ('stock', 'flow') ORDER BY id",
    )
    .load(&mut conn)
    .await?;
    let months = months();
    let per_commune = rows.div_ceil(communes.len());
    let indicator_count = per_commune.div_ceil(months.len());
    if indicator_count > indicators.len() {
        bail!("{rows} rows need more indicators than the catalog has");
    }
    println!(
        "communes: {}, indicators: {indicator_count}, months: {}",
        communes.len(),
        months.len()
    );

    // The same rows twice: CSV for the importer, resolved TSV for LOAD DATA.
    let csv_path = dir.join("observations.csv");
    let tsv_path = dir.join("observations.tsv");
    let mut csv = std::io::BufWriter::new(std::fs::File::create(&csv_path)?);
    let mut tsv = std::io::BufWriter::new(std::fs::File::create(&tsv_path)?);
    writeln!(csv, "region,indicator,period,value")?;
    let mut n = 0usize;
    'outer: for (c, commune) in communes.iter().enumerate() {
        for indicator in &indicators[..indicator_count] {
            for (m, (start, end)) in months.iter().enumerate() {
                if n == rows {
                    break 'outer;
                }
                let value = (c * 7919 + m * 104_729) % 100_000 + 1;
                writeln!(
                    csv,
                    "{},{},{}-{:02},{value}",
                    commune.code,
                    indicator.code,
                    end.year(),
                    end.month()
                )?;
                // A stock is stored at the instant its period ends.
                let start = if indicator.kind == "stock" {
                    end
                } else {
                    start
                };
                writeln!(
                    tsv,
                    "{}\t{}\t{end}\t{start}\t{value}\t0\t\\N\t\\N\t1",
                    commune.id, indicator.id
                )?;
                n += 1;
            }
        }
    }
    csv.flush()?;
    tsv.flush()?;
    drop((csv, tsv));
    println!(
        "rows: {n} ({} MB CSV)",
        std::fs::metadata(&csv_path)?.len() >> 20
    );

    // Baseline: LOAD DATA into a plain table of the same shape (columns and primary key).
    let buffers = ansinh_store::import::InfileBuffers::default();
    let mut loader = ansinh_store::import::connect(&url, buffers.clone()).await?;
    loader.batch_execute(
        "CREATE TABLE bench_plain (region_id INT UNSIGNED NOT NULL, indicator_id INT UNSIGNED NOT NULL, period_end DATE NOT NULL, period_start DATE NOT NULL, value DECIMAL(24,6) NOT NULL, qualifier TINYINT UNSIGNED NOT NULL DEFAULT 0, source_id INT UNSIGNED NULL, note VARCHAR(1024) NULL, import_run_id BIGINT UNSIGNED NOT NULL, PRIMARY KEY (region_id, indicator_id, period_end, period_start)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
    ).await?;
    let data = std::fs::read(&tsv_path)?;
    buffers.put("bench-plain", data.into());
    let started = Instant::now();
    loader
        .batch_execute(
            "LOAD DATA LOCAL INFILE 'bench-plain' INTO TABLE bench_plain CHARACTER SET utf8mb4",
        )
        .await?;
    let baseline = started.elapsed();
    loader.batch_execute("DROP TABLE bench_plain").await?;
    drop(loader);
    let base_rate = n as f64 / baseline.as_secs_f64();

    let csv_arg = csv_path.to_str().context("path")?;
    let (first, first_rss, first_out) = run_import(&binary, &url, &["load", csv_arg])?;
    let (again, again_rss, again_out) = run_import(&binary, &url, &["load", csv_arg])?;
    let rate = |d: Duration| n as f64 / d.as_secs_f64();

    println!("\n{first_out}\n{again_out}\n");
    println!("| step | time | rows/s | vs LOAD DATA | peak RSS |");
    println!("| --- | --- | --- | --- | --- |");
    println!(
        "| LOAD DATA LOCAL INFILE, plain table (baseline) | {:.2}s | {:.0} | 1.00x | - |",
        baseline.as_secs_f64(),
        base_rate
    );
    println!(
        "| first import | {:.2}s | {:.0} | {:.2}x | {} MB |",
        first.as_secs_f64(),
        rate(first),
        rate(first) / base_rate,
        first_rss / 1024
    );
    println!(
        "| re-import, unchanged | {:.2}s | {:.0} | {:.2}x | {} MB |",
        again.as_secs_f64(),
        rate(again),
        rate(again) / base_rate,
        again_rss / 1024
    );
    let _ = std::fs::remove_file(&tsv_path);
    Ok(())
}
