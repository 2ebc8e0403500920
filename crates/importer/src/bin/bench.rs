//! `ansinh-import-bench`: measures `ansinh-import load` against MySQL's own bulk load.
//!
//! In one run, on a fresh database: generates N commune-month observations (default
//! 1,000,000, from the 10,035 communes valid before 2025-07-01), times `LOAD DATA LOCAL
//! INFILE` of the same rows into a plain table of the same columns and primary key (the
//! baseline) and, for reference, into a copy of `observations` itself (its digest column and
//! checks, no foreign keys), then the first import and the re-import of the unchanged file by the real
//! binary as a child process, and prints rows/s, ratios to the baseline and the child's peak
//! RSS (VmHWM). Results and the command are recorded in docs/benchmarks.md.
//!
//! Usage: `cargo run --release -p ansinh-importer --bin ansinh-import-bench -- [ROWS [ROUNDS]]`
//! With ROUNDS > 1 (default 1) the three steps are measured that many times, each round on a
//! freshly migrated database, and the median of each column is reported as well: on a shared
//! machine one round says little.
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

/// Drops and recreates the bench database and migrates it with the import binary.
async fn fresh_database(server: &str, url: &str, binary: &Path) -> anyhow::Result<()> {
    let mut admin = ansinh_store::connect(server).await?;
    admin.batch_execute("DROP DATABASE IF EXISTS ansinh_bench; CREATE DATABASE ansinh_bench CHARACTER SET utf8mb4").await?;
    let (t, _, _) = run_import(binary, url, &["migrate"])?;
    println!("migrate: {:.1}s", t.as_secs_f64());
    Ok(())
}

/// The communes and the indicators the generated rows use, as stored.
async fn reference_ids(url: &str) -> anyhow::Result<(Vec<IdCode>, Vec<IndicatorIdCode>)> {
    let mut conn = ansinh_store::connect(url).await?;
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
    Ok((communes, indicators))
}

/// One round's measurements.
struct Round {
    baseline: Duration,
    /// LOAD DATA into a copy of `observations` itself: the floor the importer stands on.
    shaped: Duration,
    first: Duration,
    first_rss: u64,
    again: Duration,
    again_rss: u64,
}

fn median<T: Copy + PartialOrd>(mut values: Vec<T>) -> T {
    values.sort_by(|a, b| a.partial_cmp(b).expect("comparable"));
    values[values.len() / 2]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let rows: usize = args
        .next()
        .map(|a| a.replace('_', "").parse())
        .transpose()?
        .unwrap_or(1_000_000);
    let rounds: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(1);
    if rounds == 0 {
        bail!("ROUNDS must be at least 1");
    }
    let server = std::env::var("ANSINH_BENCH_SERVER_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".to_owned());
    let url = format!("{}/ansinh_bench", server.trim_end_matches('/'));
    let binary = import_binary()?;
    let dir = std::env::temp_dir().join("ansinh-bench");
    std::fs::create_dir_all(&dir)?;

    fresh_database(&server, &url, &binary).await?;
    let (communes, indicators) = reference_ids(&url).await?;
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

    let ids = |(communes, indicators): &(Vec<IdCode>, Vec<IndicatorIdCode>)| {
        (
            communes.iter().map(|c| c.id).collect::<Vec<_>>(),
            indicators.iter().map(|i| i.id).collect::<Vec<_>>(),
        )
    };
    let generated_ids = ids(&(communes, indicators));
    let tsv = std::fs::read(&tsv_path)?;
    let _ = std::fs::remove_file(&tsv_path);
    let csv_arg = csv_path.to_str().context("path")?;
    let rate = |d: Duration| n as f64 / d.as_secs_f64();
    let mut results = Vec::new();
    for round in 0..rounds {
        if round > 0 {
            fresh_database(&server, &url, &binary).await?;
            if ids(&reference_ids(&url).await?) != generated_ids {
                bail!("a fresh database numbered the reference rows differently");
            }
        }
        quiesce(&server).await?;
        let baseline = load_baseline(&url, tsv.clone(), PLAIN_TABLE).await?;
        quiesce(&server).await?;
        let shaped = load_baseline(&url, tsv.clone(), SHAPED_TABLE).await?;
        quiesce(&server).await?;
        let (first, first_rss, first_out) = run_import(&binary, &url, &["load", csv_arg])?;
        quiesce(&server).await?;
        let (again, again_rss, again_out) = run_import(&binary, &url, &["load", csv_arg])?;
        println!("\n{first_out}\n{again_out}\n");
        let r = Round {
            baseline,
            shaped,
            first,
            first_rss,
            again,
            again_rss,
        };
        print_table(&format!("round {}", round + 1), n, &r);
        results.push(r);
    }
    if rounds > 1 {
        println!("\nper round (x = rows/s over the same round's LOAD DATA rows/s):");
        for (i, r) in results.iter().enumerate() {
            println!(
                "round {}: baseline {:.2}s, copy of observations {:.2}s, first {:.2}s = {:.2}x ({:.2}x of the copy's), re-import {:.2}s = {:.2}x",
                i + 1,
                r.baseline.as_secs_f64(),
                r.shaped.as_secs_f64(),
                r.first.as_secs_f64(),
                r.baseline.as_secs_f64() / r.first.as_secs_f64(),
                r.shaped.as_secs_f64() / r.first.as_secs_f64(),
                r.again.as_secs_f64(),
                r.baseline.as_secs_f64() / r.again.as_secs_f64(),
            );
        }
        let first_ratio = median(
            results
                .iter()
                .map(|r| r.baseline.as_secs_f64() / r.first.as_secs_f64())
                .collect(),
        );
        let again_ratio = median(
            results
                .iter()
                .map(|r| r.baseline.as_secs_f64() / r.again.as_secs_f64())
                .collect(),
        );
        let shaped_ratio = median(
            results
                .iter()
                .map(|r| r.baseline.as_secs_f64() / r.shaped.as_secs_f64())
                .collect(),
        );
        let baseline = median(results.iter().map(|r| r.baseline).collect());
        let shaped = median(results.iter().map(|r| r.shaped).collect());
        let first = median(results.iter().map(|r| r.first).collect());
        let again = median(results.iter().map(|r| r.again).collect());
        println!("\nmedian of {rounds} rounds (ratios: median of the per-round ratios):\n");
        println!("| step | time | rows/s | vs LOAD DATA | peak RSS |");
        println!("| --- | --- | --- | --- | --- |");
        println!(
            "| LOAD DATA LOCAL INFILE, plain table (baseline) | {:.2}s | {:.0} | 1.00x | - |",
            baseline.as_secs_f64(),
            rate(baseline)
        );
        println!(
            "| LOAD DATA LOCAL INFILE, copy of observations (reference) | {:.2}s | {:.0} | {shaped_ratio:.2}x | - |",
            shaped.as_secs_f64(),
            rate(shaped)
        );
        println!(
            "| first import | {:.2}s | {:.0} | {first_ratio:.2}x | {} MB |",
            first.as_secs_f64(),
            rate(first),
            results.iter().map(|r| r.first_rss).max().unwrap_or(0) / 1024
        );
        println!(
            "| re-import, unchanged | {:.2}s | {:.0} | {again_ratio:.2}x | {} MB |",
            again.as_secs_f64(),
            rate(again),
            results.iter().map(|r| r.again_rss).max().unwrap_or(0) / 1024
        );
    }
    Ok(())
}

#[derive(diesel::QueryableByName)]
struct Dirty {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pages: i64,
}

/// Waits until InnoDB has written out the pages the previous step dirtied, so that every
/// timed step starts from the same state: otherwise a step pays for the flushing (and redo
/// log checkpoints) of the loads before it, and the order of the steps decides the ratios.
/// Asks the server to flush everything meanwhile (`innodb_max_dirty_pages_pct = 0`) and puts
/// the setting back; without the privilege to change it, only waits (at most a minute).
async fn quiesce(server: &str) -> anyhow::Result<()> {
    let mut admin = ansinh_store::connect(server).await?;
    #[derive(diesel::QueryableByName)]
    struct Setting {
        #[diesel(sql_type = diesel::sql_types::Double)]
        value: f64,
    }
    let before: Setting = diesel::sql_query("SELECT @@GLOBAL.innodb_max_dirty_pages_pct AS value")
        .get_result(&mut admin)
        .await?;
    let forced = admin
        .batch_execute("SET GLOBAL innodb_max_dirty_pages_pct = 0")
        .await
        .is_ok();
    let started = Instant::now();
    let waited = async {
        loop {
            let dirty: Dirty = diesel::sql_query(
                "SELECT CAST(variable_value AS SIGNED) AS pages FROM information_schema.global_status \
                 WHERE variable_name = 'INNODB_BUFFER_POOL_PAGES_DIRTY'",
            )
            .get_result(&mut admin)
            .await?;
            if dirty.pages == 0 || started.elapsed() > Duration::from_secs(60) {
                return anyhow::Ok(dirty.pages);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    .await;
    if forced {
        admin
            .batch_execute(&format!(
                "SET GLOBAL innodb_max_dirty_pages_pct = {}",
                before.value
            ))
            .await?;
    }
    let pages = waited?;
    println!(
        "quiesce: {:.1}s, {pages} dirty pages left",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The baseline: a plain table with the columns and primary key of `observations` and
/// nothing else (no secondary index, no foreign key, no digest column).
const PLAIN_TABLE: &str = "CREATE TABLE bench_load (region_id INT UNSIGNED NOT NULL, indicator_id INT UNSIGNED NOT NULL, period_end DATE NOT NULL, period_start DATE NOT NULL, value DECIMAL(24,6) NOT NULL, qualifier TINYINT UNSIGNED NOT NULL DEFAULT 0, source_id INT UNSIGNED NULL, note VARCHAR(1024) NULL, import_run_id BIGINT UNSIGNED NOT NULL, PRIMARY KEY (region_id, indicator_id, period_end, period_start)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4";

/// For reference: a copy of `observations` as the migrations made it (its digest column and
/// checks; `LIKE` copies no foreign keys), which is what the importer's rows go into.
const SHAPED_TABLE: &str = "CREATE TABLE bench_load LIKE observations";

/// `LOAD DATA LOCAL INFILE` of `tsv` into a new table made by `create`; returns its time.
async fn load_baseline(url: &str, tsv: Vec<u8>, create: &str) -> anyhow::Result<Duration> {
    let buffers = ansinh_store::import::InfileBuffers::default();
    let mut loader = ansinh_store::import::connect(url, buffers.clone()).await?;
    loader.batch_execute(create).await?;
    buffers.put("bench-load", tsv.into());
    let started = Instant::now();
    loader
        .batch_execute(
            "LOAD DATA LOCAL INFILE 'bench-load' INTO TABLE bench_load CHARACTER SET utf8mb4 \
             (region_id, indicator_id, period_end, period_start, value, qualifier, source_id, note, import_run_id)",
        )
        .await?;
    let baseline = started.elapsed();
    loader.batch_execute("DROP TABLE bench_load").await?;
    Ok(baseline)
}

fn print_table(title: &str, n: usize, r: &Round) {
    let rate = |d: Duration| n as f64 / d.as_secs_f64();
    let base_rate = rate(r.baseline);
    println!("{title}:\n");
    println!("| step | time | rows/s | vs LOAD DATA | peak RSS |");
    println!("| --- | --- | --- | --- | --- |");
    println!(
        "| LOAD DATA LOCAL INFILE, plain table (baseline) | {:.2}s | {:.0} | 1.00x | - |",
        r.baseline.as_secs_f64(),
        base_rate
    );
    println!(
        "| LOAD DATA LOCAL INFILE, copy of observations (reference) | {:.2}s | {:.0} | {:.2}x | - |",
        r.shaped.as_secs_f64(),
        rate(r.shaped),
        rate(r.shaped) / base_rate
    );
    println!(
        "| first import | {:.2}s | {:.0} | {:.2}x | {} MB |",
        r.first.as_secs_f64(),
        rate(r.first),
        rate(r.first) / base_rate,
        r.first_rss / 1024
    );
    println!(
        "| re-import, unchanged | {:.2}s | {:.0} | {:.2}x | {} MB |",
        r.again.as_secs_f64(),
        rate(r.again),
        rate(r.again) / base_rate,
        r.again_rss / 1024
    );
}
