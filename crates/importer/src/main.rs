//! `ansinh-import`: the command line of the batch importer (see docs/contract/cli.md).
//!
//! Exit codes: 0 success (including nothing changed), 1 input rejected, 2 usage error,
//! 3 database unreachable (also: it stopped answering within --connect-timeout or
//! --statement-timeout) or failed mid-run, 4 another run holds the lock.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use ansinh_importer::kind::Kind;
use ansinh_importer::mapping::Mapping;
use ansinh_importer::read::Format;
use ansinh_importer::run::{self, LoadOptions, Outcome, RunError};
use ansinh_importer::series::Progress;
use ansinh_importer::textfile;
use ansinh_importer::timeouts::{self, Timeouts};
use ansinh_model::NumberLocale;
use ansinh_store::import::StatementTimer;
use ansinh_store::models::ImportRunStatus;
use anyhow::Context;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "ansinh-import",
    version,
    about = "Imports insurance statistics into ansinh: all or nothing, idempotent, every bad row named.",
    after_help = "Examples:\n  \
        ansinh-import migrate\n  \
        ansinh-import load observations.csv\n  \
        ansinh-import load --number-locale vi --dry-run bao-cao-lam-dong.csv\n  \
        ansinh-import load --summary-json /tmp/run.json indicators.csv regions.csv observations.jsonl\n  \
        ansinh-import load --metrics-textfile /var/lib/node_exporter/textfile/ansinh_import.prom incoming/*.csv\n  \
        ansinh-import load --mapping examples/xlsx/lam-dong-2025-05.mapping.json examples/xlsx/lam-dong-2025-05.xlsx\n  \
        ansinh-import runs --limit 5\n\n\
        Exit codes: 0 success (also when nothing changed), 1 input rejected (nothing landed),\n\
        2 usage error, 3 database unreachable, not answering within the timeouts, or failed\n\
        mid-run (nothing landed),\n\
        4 another import run holds the lock."
)]
struct Cli {
    /// The database: mysql://user:password@host:port/database
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    database_url: Option<String>,

    /// How long to wait for a connection to the database to open (250ms, 10s, 1m; 0 waits as
    /// long as it takes). A server that does not answer in time ends the command with exit 3.
    #[arg(
        long,
        env = "ANSINH_IMPORT_CONNECT_TIMEOUT",
        global = true,
        value_name = "DURATION",
        default_value = "10s",
        value_parser = parse_limit
    )]
    connect_timeout: Limit,

    /// How long the database may keep a statement unanswered (a streamed load: the next piece
    /// of rows) before the command gives up with exit 3; nothing of the run lands. 0 waits as
    /// long as it takes. Raise it for runs that change millions of stored rows.
    #[arg(
        long,
        env = "ANSINH_IMPORT_STATEMENT_TIMEOUT",
        global = true,
        value_name = "DURATION",
        default_value = "5m",
        value_parser = parse_limit
    )]
    statement_timeout: Limit,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Applies the schema migrations and installs or updates the bundled reference data.
    Migrate,
    /// Imports FILEs as one all-or-nothing run.
    Load(LoadArgs),
    /// Lists past import runs (the ledger), newest first.
    Runs {
        /// How many runs to show.
        #[arg(long, env = "ANSINH_IMPORT_RUNS_LIMIT", default_value_t = 20)]
        limit: u32,
    },
}

#[derive(clap::Args)]
struct LoadArgs {
    /// Input files (.csv, .jsonl, or .xlsx with --mapping); one run, all or nothing. `-` reads
    /// standard input (give --format); a pipe or FIFO is read into memory whole.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Validate and report what would change; write nothing but the ledger entry.
    #[arg(long, env = "ANSINH_IMPORT_DRY_RUN")]
    dry_run: bool,
    /// With --dry-run: list the rows that would change — up to 20 updates (stored figure ->
    /// new one) and 20 inserts, and how many more — on stdout and in --summary-json.
    #[arg(long, env = "ANSINH_IMPORT_DIFF", requires = "dry_run")]
    diff: bool,
    /// How numbers are written: plain (1229935, 94.56), en (1,229,935) or vi (1.229.935, 94,56).
    #[arg(long, env = "ANSINH_IMPORT_NUMBER_LOCALE", default_value = "plain")]
    number_locale: NumberLocale,
    /// The kind of every file, instead of detecting it from the header.
    #[arg(long, env = "ANSINH_IMPORT_KIND")]
    kind: Option<Kind>,
    /// The format of every file, instead of its extension: csv, jsonl or xlsx.
    #[arg(long, env = "ANSINH_IMPORT_FORMAT")]
    format: Option<Format>,
    /// The mapping (JSON) that says how to read the XLSX report sheets of the run: the sheet,
    /// the header row, the region column and which column holds which indicator, unit and
    /// period (see docs/import.md).
    #[arg(long, env = "ANSINH_IMPORT_MAPPING", value_name = "MAP.json")]
    mapping: Option<PathBuf>,
    /// Write a JSON summary of the run (counts, files, problems) to PATH.
    #[arg(long, env = "ANSINH_IMPORT_SUMMARY_JSON", value_name = "PATH")]
    summary_json: Option<PathBuf>,
    /// After the run, rewrite PATH (a .prom file in the node exporter's textfile directory)
    /// with the run's outcome, rows and duration, and counters carried over from earlier runs.
    #[arg(long, env = "ANSINH_IMPORT_METRICS_TEXTFILE", value_name = "PATH")]
    metrics_textfile: Option<PathBuf>,
    /// Who runs the import, for the ledger [default: $USER].
    #[arg(long, env = "ANSINH_IMPORT_OPERATOR")]
    operator: Option<String>,
}

/// A limit of `--connect-timeout` or `--statement-timeout`; `None` is no limit.
#[derive(Debug, Clone, Copy)]
struct Limit(Option<Duration>);

fn parse_limit(text: &str) -> Result<Limit, String> {
    timeouts::parse_limit(text).map(Limit)
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, never into a file or a log collector.
        .with_ansi(std::io::stderr().is_terminal());
    if std::env::var("RUST_LOG_FORMAT").is_ok_and(|f| f == "json") {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    init_tracing();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start: {e}");
            return ExitCode::from(3);
        }
    };
    match runtime.block_on(run_command(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(3)
        }
    }
}

async fn run_command(cli: Cli) -> anyhow::Result<u8> {
    let Some(url) = cli.database_url else {
        eprintln!("error: no database given: set DATABASE_URL or pass --database-url");
        return Ok(2);
    };
    let timeouts = Timeouts {
        connect: cli.connect_timeout.0,
        statement: cli.statement_timeout.0,
    };
    match cli.command {
        Command::Migrate => migrate(&url, timeouts).await,
        Command::Runs { limit } => runs(&url, limit, timeouts).await,
        Command::Load(args) => load(url, args, timeouts).await,
    }
}

/// A connection to `url` within the connect timeout, its statements timed by `timer`.
async fn connect(
    url: &str,
    timeouts: Timeouts,
    timer: &StatementTimer,
) -> anyhow::Result<ansinh_store::AsyncMysqlConnection> {
    let mut conn = timeouts
        .connect(async { ansinh_store::connect(url).await.context("connecting") })
        .await?;
    timer.attach(&mut conn);
    Ok(conn)
}

/// Applies the migrations, then installs the reference data within the timeouts. The
/// migrations run on a connection of the store's own, without them: a migration may rewrite a
/// big table.
async fn migrate(url: &str, timeouts: Timeouts) -> anyhow::Result<u8> {
    let applied = ansinh_store::run_pending_migrations(url)
        .await
        .context("applying migrations")?;
    if applied.is_empty() {
        println!("migrations: none pending");
    }
    for name in applied {
        println!("migration applied: {name}");
    }
    let timer = StatementTimer::default();
    let mut conn = connect(url, timeouts, &timer).await?;
    let report = timeouts
        .bound(&timer, async {
            ansinh_store::install_reference_data(&mut conn)
                .await
                .context("installing reference data")
        })
        .await?;
    for (table, c) in [
        ("regions", report.regions),
        ("lineage", report.lineage),
        ("indicators", report.indicators),
    ] {
        println!(
            "reference {table}: {} inserted, {} updated, {} unchanged",
            c.inserted, c.updated, c.unchanged
        );
    }
    Ok(0)
}

async fn runs(url: &str, limit: u32, timeouts: Timeouts) -> anyhow::Result<u8> {
    let timer = StatementTimer::default();
    let mut conn = connect(url, timeouts, &timer).await?;
    let runs = timeouts
        .bound(&timer, async {
            ansinh_store::queries::import_runs::list_import_runs(&mut conn, None, limit)
                .await
                .context("reading the ledger")
        })
        .await?;
    println!(
        "{:>6}  {:<19}  {:<19}  {:<10}  {:<12}  {:>9} {:>9} {:>9} {:>9}  files",
        "run",
        "started (UTC)",
        "finished (UTC)",
        "status",
        "operator",
        "inserted",
        "updated",
        "unchanged",
        "rejected"
    );
    for record in runs {
        let run = &record.run;
        let files: Vec<String> = record
            .files
            .iter()
            .map(|f| {
                format!(
                    "{} ({} rows, sha256 {}…)",
                    f.path,
                    f.row_count,
                    &f.sha256.get(..12).unwrap_or("")
                )
            })
            .collect();
        println!(
            "{:>6}  {:<19}  {:<19}  {:<10}  {:<12}  {:>9} {:>9} {:>9} {:>9}  {}",
            run.id,
            run.started_at.format("%Y-%m-%d %H:%M:%S"),
            run.finished_at.map_or_else(
                || "-".to_owned(),
                |t| t.format("%Y-%m-%d %H:%M:%S").to_string()
            ),
            run.status,
            run.operator,
            run.inserted,
            run.updated,
            run.unchanged,
            run.rejected,
            files.join(", ")
        );
        if let Some(message) = &run.message {
            println!("        {message}");
        }
    }
    Ok(0)
}

async fn load(url: String, args: LoadArgs, timeouts: Timeouts) -> anyhow::Result<u8> {
    let mapping = match xlsx_mapping(&args) {
        Ok(mapping) => mapping,
        Err(message) => {
            eprintln!("error: {message}");
            return Ok(2);
        }
    };
    let operator = args
        .operator
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "unknown".to_owned());
    let options = LoadOptions {
        database_url: url,
        files: args.files,
        kind: args.kind,
        format: args.format,
        mapping,
        locale: args.number_locale,
        dry_run: args.dry_run,
        diff: args.diff,
        operator,
        timeouts,
    };
    let progress = Arc::new(Progress::default());
    let display = tokio::spawn(show_progress(Arc::clone(&progress)));
    let started = Instant::now();
    let result = run::load(&options, progress).await;
    display.abort();
    let _ = display.await;
    let elapsed = started.elapsed();
    let (code, status, outcome) = match result {
        Ok(outcome) => {
            for problem in &outcome.problems {
                eprintln!("{problem}");
            }
            let code = if outcome.problems.is_empty() { 0 } else { 1 };
            (code, outcome.status, Some(outcome))
        }
        Err(RunError::Usage(message)) => {
            eprintln!("error: {message}");
            (2, textfile::USAGE_ERROR, None)
        }
        Err(e @ RunError::Locked { .. }) => {
            eprintln!("error: {e}");
            (4, textfile::LOCKED, None)
        }
        Err(RunError::Timeout(e)) => {
            eprintln!("error: {e}; nothing of this run landed");
            (3, ImportRunStatus::Failed.as_str(), None)
        }
        Err(RunError::Database(e)) => {
            eprintln!("error: {e}; nothing of this run landed");
            if let Some(source) = std::error::Error::source(&e) {
                tracing::error!(error = %source, "database failure");
            }
            (3, ImportRunStatus::Failed.as_str(), None)
        }
    };
    if let Some(outcome) = &outcome {
        print_summary(outcome, elapsed);
    }
    if let Some(path) = &args.metrics_textfile {
        let figures = run_figures(code, status, outcome.as_ref(), elapsed);
        // The run's outcome stands either way; a file that cannot be written shows on the
        // monitoring side as a last run that grows old.
        if let Err(e) = textfile::write(path, &figures) {
            eprintln!(
                "error: writing the metrics textfile {}: {e}",
                path.display()
            );
        }
    }
    if let Some(path) = args.summary_json {
        let json = match &outcome {
            Some(outcome) => serde_json::to_string_pretty(outcome)?,
            None => serde_json::json!({ "status": "failed", "exit_code": code }).to_string(),
        };
        std::fs::write(&path, json).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(code)
}

/// The run as the metrics textfile reports it.
fn run_figures(
    exit_code: u8,
    status: &'static str,
    outcome: Option<&Outcome>,
    elapsed: Duration,
) -> textfile::RunFigures {
    let finished_unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |since| since.as_secs_f64());
    textfile::RunFigures {
        status,
        exit_code,
        finished_unix,
        duration_seconds: elapsed.as_secs_f64(),
        rows_read: outcome.map_or(0, |o| o.files.iter().map(|f| f.rows).sum()),
        rows: outcome.map_or([0; 4], |o| [o.inserted, o.updated, o.unchanged, o.rejected]),
    }
}

/// The mapping of the run's XLSX files, read and checked before anything else: an XLSX file
/// without a mapping, a mapping without an XLSX file, or a mapping with problems is a usage
/// error.
fn xlsx_mapping(args: &LoadArgs) -> Result<Option<&'static Mapping>, String> {
    let sheets: Vec<&PathBuf> = args
        .files
        .iter()
        .filter(|path| {
            matches!(
                args.format.or_else(|| Format::from_path(path)),
                Some(Format::Xlsx(_))
            )
        })
        .collect();
    match (&args.mapping, sheets.first()) {
        (None, None) => Ok(None),
        (None, Some(sheet)) => Err(format!(
            "{} is an XLSX report sheet; add --mapping MAP.json (or set ANSINH_IMPORT_MAPPING) naming \
             the mapping that says which sheet, header row, region column and indicator columns to \
             read (an example: examples/xlsx/lam-dong-2025-05.mapping.json; see docs/import.md)",
            sheet.display()
        )),
        (Some(path), None) => Err(format!(
            "--mapping {} (ANSINH_IMPORT_MAPPING) reads XLSX report sheets, and none of the files is one (.xlsx, or --format xlsx)",
            path.display()
        )),
        (Some(path), Some(_)) => Mapping::load(path)
            .map(|mapping| Some(mapping.leak()))
            .map_err(|e| format!("the mapping has problems:\n{e}")),
    }
}

fn print_summary(outcome: &Outcome, elapsed: Duration) {
    if let Some(diff) = &outcome.diff {
        print!("{diff}");
    }
    let rows: u64 = outcome.files.iter().map(|f| f.rows).sum();
    let verb = if outcome.dry_run { "would be " } else { "" };
    println!(
        "run {}: {} — {rows} rows in {:.1}s: {} {verb}inserted, {} {verb}updated, {} unchanged, {} rejected",
        outcome
            .run_id
            .map_or_else(|| "-".to_owned(), |id| id.to_string()),
        outcome.status,
        elapsed.as_secs_f64(),
        outcome.inserted,
        outcome.updated,
        outcome.unchanged,
        outcome.rejected,
    );
    if !outcome.problems.is_empty() {
        println!(
            "nothing landed: {} problem(s), listed above as FILE:LINE:COLUMN: reason (value)",
            outcome.problems.len()
        );
    }
}

/// A bar on a terminal, a line every few seconds otherwise: the bytes of the observations and
/// targets files read, of their size, and the rows read (the other kinds are small and go
/// first).
async fn show_progress(progress: Arc<Progress>) {
    let started = Instant::now();
    let read = || {
        let total = progress.total_bytes.load(Ordering::Relaxed);
        (
            progress.rows.load(Ordering::Relaxed),
            progress.bytes.load(Ordering::Relaxed).min(total),
            total,
        )
    };
    if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {elapsed_precise} [{bar:30}] {bytes}/{total_bytes} {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        loop {
            let (rows, bytes, total) = read();
            bar.set_length(total);
            bar.set_position(bytes);
            bar.set_message(format!("{rows} rows read"));
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    } else {
        loop {
            tokio::time::sleep(Duration::from_secs(5)).await;
            let (rows, bytes, total) = read();
            eprintln!(
                "progress: {rows} rows read, {} of {} MB ({:.0}%), in {:.0}s",
                bytes >> 20,
                total >> 20,
                percent(bytes, total),
                started.elapsed().as_secs_f64()
            );
        }
    }
}

/// `part` of `whole` in percent; 100 for an empty whole.
fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        100.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}
