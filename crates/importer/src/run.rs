//! One import run, all or nothing: the ledger entry, the run lock, the reference kinds, the
//! series, and the single transaction that either commits every row or none.
//!
//! Three connections: the ledger's (autocommit, holds the run lock, survives a rollback), the
//! data connection (one transaction for the whole run; if the process or the server dies, the
//! server rolls it back), and a comparison connection that reads stored rows meanwhile. All
//! three are timed ([`crate::timeouts`]): a server that stops answering ends the run.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use ansinh_model::{
    CatalogError, Indicator, LineageLink, NumberLocale, RegionCode, RegionLevel, Validity,
};
use ansinh_store::import::{self as db, InfileBuffers, RunCounts, StatementTimer, Written};
use ansinh_store::models::{ImportRunStatus, NewImportRunFile, NewImportRunRejection};
use ansinh_store::{AsyncMysqlConnection, StoreError};
use diesel_async::SimpleAsyncConnection;
use serde::Serialize;

use crate::diff::Diff;
use crate::kind::Kind;
use crate::lineage::RunLineage;
use crate::problem::Problem;
use crate::read::source::{self, FileDigest, Source};
use crate::read::{Format, Input};
use crate::reference::{KnownRegion, Reference};
use crate::series::{self, Progress, SeriesFile};
use crate::timeouts::{Timeout, Timeouts};
use crate::validate::{IndicatorRow, LineageRow, MemberRow, RegionRow, Validator};

#[derive(Debug, Clone)]
pub struct LoadOptions {
    pub database_url: String,
    pub files: Vec<PathBuf>,
    pub kind: Option<Kind>,
    pub format: Option<Format>,
    /// How XLSX files of the run are read (see [`crate::mapping`]).
    pub mapping: Option<&'static crate::mapping::Mapping>,
    pub locale: NumberLocale,
    pub dry_run: bool,
    /// Also list the rows that change (see [`crate::diff`]); only with `dry_run`.
    pub diff: bool,
    pub operator: String,
    /// How long to wait for the database.
    pub timeouts: Timeouts,
}

#[derive(Debug, Clone, Serialize)]
pub struct FileSummary {
    pub path: String,
    pub kind: Option<Kind>,
    pub format: Format,
    pub sha256: String,
    pub size_bytes: u64,
    pub rows: u64,
}

/// What a run did, for the terminal, `--summary-json` and the exit code.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub run_id: Option<u64>,
    pub status: &'static str,
    pub dry_run: bool,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub rejected: u64,
    pub files: Vec<FileSummary>,
    pub problems: Vec<Problem>,
    /// The rows a dry run asked for them would change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<Diff>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{0}")]
    Usage(String),
    #[error(
        "another import run into database {database} holds the lock ({}{database}); try again when it has finished",
        db::RUN_LOCK
    )]
    Locked { database: String },
    #[error("{0}")]
    Database(#[from] StoreError),
    /// The database stopped answering: unreachable, as far as the run can tell.
    #[error("{0}")]
    Timeout(#[from] Timeout),
}

struct FileInfo {
    /// `None` when the file could not be read (a problem says why).
    source: Option<Source>,
    label: Arc<str>,
    format: Format,
    kind: Option<Kind>,
    sha256: String,
    size: u64,
}

/// Runs `options` as one import run; `progress` is updated as rows are read.
pub async fn load(options: &LoadOptions, progress: Arc<Progress>) -> Result<Outcome, RunError> {
    if options.files.is_empty() {
        return Err(RunError::Usage("no input files given".to_owned()));
    }
    if options.diff && !options.dry_run {
        // A real run's changes are in the ledger and the history tables already.
        return Err(RunError::Usage(
            "--diff lists what a dry run would change; give --dry-run too".to_owned(),
        ));
    }
    if options.files.len() > usize::from(u16::MAX) {
        return Err(RunError::Usage(
            "too many input files for one run".to_owned(),
        ));
    }
    if options.files.iter().filter(|p| source::is_stdin(p)).count() > 1 {
        return Err(RunError::Usage(
            "FILE - (standard input) is given more than once; it can be read only once".to_owned(),
        ));
    }
    let mut problems = Vec::new();
    let mut files = Vec::new();
    for path in &options.files {
        let label = source::label(path);
        let format = match options.format.or_else(|| Format::from_path(path)) {
            Some(format) => format.with_mapping(options.mapping),
            None if source::is_stdin(path) => {
                return Err(RunError::Usage(
                    "FILE - (standard input) has no extension to tell its format; give --format csv, jsonl or xlsx".to_owned(),
                ));
            }
            None => {
                return Err(RunError::Usage(format!(
                    "{label}: cannot tell the format from the extension; use .csv, .jsonl or .xlsx, or give --format"
                )));
            }
        };
        // Each file is read here once (a pipe whole, into memory), before the run starts.
        let (source, digest) = match Source::open(path) {
            Ok((source, digest)) => (Some(source), digest),
            Err(e) => {
                problems.push(Problem::new(
                    &label,
                    0,
                    "",
                    format!("cannot read: {e}"),
                    None,
                ));
                let none = FileDigest {
                    sha256: String::new(),
                    size: 0,
                };
                (None, none)
            }
        };
        let kind = source.as_ref().and_then(|source| {
            match Input::open_source(source, Arc::clone(&label), format, options.kind) {
                Ok(input) => Some(input.kind()),
                Err(p) => {
                    problems.extend(p);
                    None
                }
            }
        });
        files.push(FileInfo {
            source,
            label,
            format,
            kind,
            sha256: digest.sha256,
            size: digest.size,
        });
    }

    progress.total_bytes.store(
        files
            .iter()
            .filter(|f| matches!(f.kind, Some(Kind::Observations | Kind::Targets)))
            .map(|f| f.size)
            .sum(),
        std::sync::atomic::Ordering::Relaxed,
    );

    // Every statement of the run, on each of its connections, is timed by one timer.
    let timer = StatementTimer::default();
    let mut ledger = options
        .timeouts
        .connect(async { Ok::<_, RunError>(ansinh_store::connect(&options.database_url).await?) })
        .await?;
    timer.attach(&mut ledger);
    let run_id = options
        .timeouts
        .bound(&timer, open_run(&mut ledger, options, &files))
        .await?;
    db_run(
        options,
        &timer,
        &mut ledger,
        run_id,
        &files,
        problems,
        progress,
    )
    .await
}

/// Takes the run lock and opens the run's ledger entry; returns the run's id.
async fn open_run(
    ledger: &mut AsyncMysqlConnection,
    options: &LoadOptions,
    files: &[FileInfo],
) -> Result<u64, RunError> {
    match db::try_run_lock(ledger).await? {
        db::RunLock::Taken => {}
        db::RunLock::Held { database } => return Err(RunError::Locked { database }),
        db::RunLock::NoDatabase => {
            return Err(RunError::Usage(
                "the database URL names no database; write it as mysql://user:password@host:port/DATABASE (DATABASE_URL or --database-url)".to_owned(),
            ));
        }
    }
    let abandoned = db::mark_abandoned_runs(ledger).await?;
    if abandoned > 0 {
        tracing::warn!(
            import.abandoned_runs = abandoned,
            "marked runs that never finished as failed"
        );
    }
    let run_id = db::start_run(ledger, &options.operator, options.dry_run).await?;
    let ledger_files: Vec<NewImportRunFile<'_>> = files
        .iter()
        .enumerate()
        .map(|(i, f)| NewImportRunFile {
            run_id,
            ordinal: i as u32,
            path: &f.label,
            sha256: &f.sha256,
            size_bytes: f.size,
            kind: f.kind.map_or("unknown", Kind::as_str),
            row_count: 0,
        })
        .collect();
    db::add_files(ledger, &ledger_files).await?;
    tracing::info!(
        import.run = run_id,
        import.files = files.len(),
        "import run started"
    );
    Ok(run_id)
}

/// The run proper, once its ledger entry is open: the data transaction, then the entry's end.
async fn db_run(
    options: &LoadOptions,
    timer: &StatementTimer,
    ledger: &mut AsyncMysqlConnection,
    run_id: u64,
    files: &[FileInfo],
    mut problems: Vec<Problem>,
    progress: Arc<Progress>,
) -> Result<Outcome, RunError> {
    let mut file_rows: BTreeMap<u16, u64> = BTreeMap::new();
    let mut sessions = Vec::new();
    let mut diff = None;
    // A statement that outlasts its timeout ends the data transaction: its connections are
    // dropped, and their sessions ended (below), so the server rolls it back.
    let result = options
        .timeouts
        .bound(
            timer,
            run_data(
                options,
                timer,
                files,
                run_id,
                progress,
                &mut problems,
                &mut file_rows,
                &mut sessions,
                &mut diff,
            ),
        )
        .await;
    let rows: Vec<u64> = (0..files.len())
        .map(|i| file_rows.get(&(i as u16)).copied().unwrap_or(0))
        .collect();
    let mut outcome = Outcome {
        run_id: Some(run_id),
        status: ImportRunStatus::Failed.as_str(),
        dry_run: options.dry_run,
        inserted: 0,
        updated: 0,
        unchanged: 0,
        rejected: 0,
        files: files
            .iter()
            .zip(&rows)
            .map(|(f, &rows)| FileSummary {
                path: f.label.to_string(),
                kind: f.kind,
                format: f.format,
                sha256: f.sha256.clone(),
                size_bytes: f.size,
                rows,
            })
            .collect(),
        problems: Vec::new(),
        diff: None,
        message: None,
    };
    let (status, counts) = match &result {
        Ok(_) if !problems.is_empty() => {
            let rejected = problems
                .iter()
                .map(|p| (p.file.clone(), p.line))
                .collect::<std::collections::BTreeSet<_>>()
                .len() as u64;
            // A rejected run changed nothing; report what it found.
            (
                ImportRunStatus::Rejected,
                RunCounts {
                    rejected,
                    ..RunCounts::default()
                },
            )
        }
        Ok(counts) if options.dry_run => (ImportRunStatus::DryRun, *counts),
        Ok(counts) => (ImportRunStatus::Committed, *counts),
        Err(e) => {
            outcome.message = Some(e.to_string());
            (ImportRunStatus::Failed, RunCounts::default())
        }
    };
    outcome.status = status.as_str();
    if status == ImportRunStatus::DryRun {
        outcome.diff = diff;
    }
    outcome.inserted = counts.inserted;
    outcome.updated = counts.updated;
    outcome.unchanged = counts.unchanged;
    outcome.rejected = counts.rejected;
    let rejections: Vec<NewImportRunRejection<'_>> = problems
        .iter()
        .enumerate()
        .map(|(i, p)| NewImportRunRejection {
            run_id,
            ordinal: i as u32,
            file: &p.file,
            line: u32::try_from(p.line).unwrap_or(u32::MAX),
            column_name: (!p.column.is_empty()).then_some(p.column.as_str()),
            value: p.value.as_deref(),
            reason: &p.reason,
        })
        .collect();
    // The ledger must record even a run whose data connection died; a ledger failure is
    // logged and the run's own outcome still decides the exit code. The run is finished even
    // when its rejections could not all be recorded, so that it does not stay `running` until
    // the next run calls it killed.
    let finish = async {
        if matches!(result, Err(RunError::Timeout(_))) {
            // A live server that was only slow would go on with the statement, holding its
            // locks (the ledger's own row among them) until it ended by itself.
            for &id in &sessions {
                if let Err(e) = db::kill_session(ledger, id).await {
                    tracing::debug!(import.run = run_id, session = id, error = %e, "the session had ended already");
                }
            }
        }
        let mut message = outcome.message.clone();
        if let Err(e) = db::add_rejections(ledger, &rejections).await {
            log_ledger_failure(run_id, "could not record the run's rejections", &e);
            message.get_or_insert_with(|| {
                format!(
                    "{} rejection(s) could not all be recorded in the ledger ({e}); the run listed them on stderr (and in --summary-json)",
                    rejections.len()
                )
            });
        }
        let finished =
            db::finish_run(ledger, run_id, status, counts, message.as_deref(), &rows).await;
        if let Err(e) = finished {
            log_ledger_failure(run_id, "could not finish the ledger entry", &e);
        }
        if let Err(e) = db::release_run_lock(ledger).await {
            // The server releases it when the session ends, which is when the process does.
            log_ledger_failure(run_id, "could not release the run lock", &e);
        }
        Ok::<_, Timeout>(())
    };
    if let Err(e) = options.timeouts.bound(timer, finish).await {
        // The statement may still be carried out when the server answers (after rolling the
        // data transaction back, whose locks it waited for); else the next run marks the run.
        tracing::error!(
            import.run = run_id,
            error = %e,
            "could not finish the ledger entry in time; the server may still record it"
        );
    }
    drop(rejections);
    outcome.problems = problems;
    result.map(|_| outcome)
}

/// Logs a failed ledger statement with the server's reason, which [`StoreError`]'s text leaves
/// out (it may quote row data) and an operator needs to act on.
fn log_ledger_failure(run_id: u64, what: &str, e: &StoreError) {
    match std::error::Error::source(e) {
        Some(cause) => tracing::error!(import.run = run_id, error = %e, cause = %cause, "{what}"),
        None => tracing::error!(import.run = run_id, error = %e, "{what}"),
    }
}

/// Everything that happens inside the data transaction, on connections timed by `timer`; the
/// server's ids of those connections go to `sessions`.
#[allow(clippy::too_many_arguments)]
async fn run_data(
    options: &LoadOptions,
    timer: &StatementTimer,
    files: &[FileInfo],
    run_id: u64,
    progress: Arc<Progress>,
    problems: &mut Vec<Problem>,
    file_rows: &mut BTreeMap<u16, u64>,
    sessions: &mut Vec<u64>,
    diff: &mut Option<Diff>,
) -> Result<RunCounts, RunError> {
    let buffers = InfileBuffers::default();
    let url = &options.database_url;
    let timeouts = &options.timeouts;
    let mut data = timeouts
        .connect(async {
            Ok::<_, RunError>(db::connect_watched(url, buffers.clone(), timer).await?)
        })
        .await?;
    let mut compare = timeouts
        .connect(async { Ok::<_, RunError>(ansinh_store::connect(url).await?) })
        .await?;
    timer.attach(&mut compare);
    // Known before anything can take long: a run that gives up on them ends them by id.
    sessions.push(db::session_id(&mut data).await?);
    sessions.push(db::session_id(&mut compare).await?);
    db::set_run_variable(&mut data, run_id).await?;
    let mut reference = load_reference(&mut data).await?;
    let labels: Vec<Arc<str>> = files.iter().map(|f| Arc::clone(&f.label)).collect();

    data.batch_execute("START TRANSACTION")
        .await
        .map_err(StoreError::from)?;
    let result = async {
        let mut counts = RunCounts::default();
        let mut lineage = RunLineage::default();
        for kind in [
            Kind::Indicators,
            Kind::Regions,
            Kind::RegionMembers,
            Kind::Lineage,
        ] {
            for (file_no, file) in files
                .iter()
                .enumerate()
                .filter(|(_, f)| f.kind == Some(kind))
            {
                let rows = apply_reference_file(
                    &mut data,
                    file,
                    file_no as u16,
                    kind,
                    options.locale,
                    &mut reference,
                    &mut lineage,
                    problems,
                    &mut counts,
                )
                .await?;
                file_rows.insert(file_no as u16, rows);
            }
        }
        // Over every lineage file of the run, and the stored edges it leaves as they are.
        problems.extend(lineage.check_weights(&reference));
        let reference = Arc::new(reference);
        for kind in [Kind::Observations, Kind::Targets] {
            let series_files: Vec<SeriesFile> = files
                .iter()
                .enumerate()
                .filter(|(_, f)| f.kind == Some(kind))
                .filter_map(|(i, f)| {
                    Some(SeriesFile {
                        source: f.source.clone()?,
                        label: Arc::clone(&f.label),
                        format: f.format,
                        file_no: i as u16,
                    })
                })
                .collect();
            let c = series::load(
                kind,
                series_files,
                &labels,
                Arc::clone(&reference),
                options.locale,
                &mut data,
                &mut compare,
                &buffers,
                run_id,
                Arc::clone(&progress),
                problems,
                file_rows,
                options.diff,
            )
            .await?;
            if let Some(found) = c.diff {
                diff.get_or_insert_with(Diff::default).absorb(found);
            }
            counts.inserted += c.inserted;
            counts.updated += c.updated;
            counts.unchanged += c.unchanged;
        }
        Ok::<_, StoreError>(counts)
    }
    .await;
    match result {
        Ok(counts) if problems.is_empty() && !options.dry_run => {
            data.batch_execute("COMMIT")
                .await
                .map_err(StoreError::from)?;
            Ok(counts)
        }
        Ok(counts) => {
            data.batch_execute("ROLLBACK")
                .await
                .map_err(StoreError::from)?;
            Ok(counts)
        }
        Err(e) => {
            // Dropping the connection would roll back too; say so explicitly when we can.
            let _ = data.batch_execute("ROLLBACK").await;
            Err(e.into())
        }
    }
}

/// The catalog, region versions (with their names), lineage edges and sources as stored (as
/// seen by `conn`).
pub async fn load_reference(conn: &mut AsyncMysqlConnection) -> Result<Reference, StoreError> {
    let indicators = ansinh_store::queries::indicators::list_indicators(conn).await?;
    let mut reference =
        Reference::with_indicators(indicators.into_iter().map(|r| (r.id, r.indicator)))
            .map_err(|e| StoreError::Corrupt(format!("the indicator catalog: {e}")))?;
    for region in db::load_regions(conn).await? {
        let corrupt = |e: &dyn std::fmt::Display| {
            StoreError::Corrupt(format!("region {} (id {}): {e}", region.code, region.id))
        };
        let code = RegionCode::parse(&region.code).map_err(|e| corrupt(&e))?;
        let level: RegionLevel = region.level.parse().map_err(|e| corrupt(&e))?;
        let validity =
            Validity::new(region.valid_from, region.valid_to).map_err(|e| corrupt(&e))?;
        reference.add_region(KnownRegion {
            id: region.id,
            code,
            level,
            name: region.name.into(),
            validity,
        });
    }
    for link in ansinh_store::queries::lineage_links(conn).await? {
        reference.add_lineage(link);
    }
    for (id, name) in db::load_sources(conn).await? {
        reference.add_source(&name, id);
    }
    Ok(reference)
}

/// The column of an indicators row that breaks `error`, and its value: the part named, or
/// (when the row is a part whose new kind no longer fits a ratio) its kind.
fn catalog_place<'a>(indicator: &'a Indicator, error: &'a CatalogError) -> (&'static str, &'a str) {
    match error {
        CatalogError::UnknownPart { ratio, part, role }
        | CatalogError::PartNotSummable {
            ratio, part, role, ..
        } if *ratio == indicator.code => (role, part.as_str()),
        CatalogError::MixedTiming {
            ratio, denominator, ..
        } if *ratio == indicator.code => ("denominator", denominator.as_str()),
        _ => ("kind", indicator.kind.as_str()),
    }
}

fn count(counts: &mut RunCounts, written: Written) {
    match written {
        Written::Inserted => counts.inserted += 1,
        Written::Updated => counts.updated += 1,
        Written::Unchanged => counts.unchanged += 1,
    }
}

/// Reads, checks and writes one file of reference rows; returns its row count.
#[allow(clippy::too_many_arguments)]
async fn apply_reference_file(
    conn: &mut AsyncMysqlConnection,
    file: &FileInfo,
    file_no: u16,
    kind: Kind,
    locale: NumberLocale,
    reference: &mut Reference,
    run_lineage: &mut RunLineage,
    problems: &mut Vec<Problem>,
    counts: &mut RunCounts,
) -> Result<u64, StoreError> {
    // A file without a source has no kind, so it never comes here.
    let Some(source) = &file.source else {
        return Ok(0);
    };
    let mut input =
        match Input::open_source(source, Arc::clone(&file.label), file.format, Some(kind)) {
            Ok(input) => input,
            Err(p) => {
                problems.extend(p);
                return Ok(0);
            }
        };
    let mut indicators: Vec<IndicatorRow> = Vec::new();
    let mut regions: Vec<RegionRow> = Vec::new();
    let mut members: Vec<MemberRow> = Vec::new();
    let mut lineage: Vec<LineageRow> = Vec::new();
    let mut rows = 0u64;
    {
        let mut validator = Validator::new(reference, locale, Arc::clone(&file.label), file_no);
        let mut found = Vec::new();
        let mut form = Vec::new();
        input.for_each_row(&mut form, |row| {
            rows += 1;
            match kind {
                Kind::Indicators => indicators.extend(validator.indicator(row, &mut found)),
                Kind::Regions => regions.extend(validator.region(row, &mut found)),
                Kind::RegionMembers => members.extend(validator.member(row, &mut found)),
                Kind::Lineage => lineage.extend(validator.lineage(row, &mut found)),
                Kind::Observations | Kind::Targets => {}
            }
        });
        problems.extend(form);
        problems.extend(found);
    }
    let label = &file.label;
    let problem = |line: u64, column: &str, reason: String, value: &str| {
        Problem::new(label, line, column, reason, Some(value))
    };

    // Ratios name their parts, which may come later in the same file: parts first.
    indicators.sort_by_key(|r| r.indicator.numerator.is_some());
    for row in indicators {
        let part = |code: &Option<ansinh_model::IndicatorCode>,
                    column: &str,
                    problems: &mut Vec<Problem>| match code {
            None => Some(None),
            Some(code) => match reference.indicator(code.as_str()) {
                Some(known) => Some(Some(known.id)),
                None => {
                    problems.push(problem(
                        row.origin.line,
                        column,
                        "unknown indicator; list it before the ratio or import it first".to_owned(),
                        code.as_str(),
                    ));
                    None
                }
            },
        };
        let numerator = part(&row.indicator.numerator, "numerator", problems);
        let denominator = part(&row.indicator.denominator, "denominator", problems);
        let (Some(numerator), Some(denominator)) = (numerator, denominator) else {
            continue;
        };
        // The catalog's rules for ratios and their parts, before the row is written: a
        // catalog the server cannot read would fail every question about indicators.
        if let Err(e) = reference.catalog().check(&row.indicator) {
            let (column, value) = catalog_place(&row.indicator, &e);
            problems.push(problem(row.origin.line, column, e.to_string(), value));
            continue;
        }
        let (id, written) =
            db::upsert_indicator(conn, &row.indicator, numerator, denominator).await?;
        count(counts, written);
        reference
            .add_indicator(id, row.indicator)
            .expect("the indicator was checked against the catalog before it was written");
    }

    // Parents before children.
    regions.sort_by_key(|r| (r.region.level as u8, r.region.validity.from));
    for row in regions {
        let region = &row.region;
        let parent_id = match &region.parent {
            None => None,
            Some(parent) => match reference.region_at(parent.as_str(), region.validity.from) {
                Ok(known) => Some(known.id),
                Err(e) => {
                    problems.push(problem(
                        row.origin.line,
                        "parent",
                        format!(
                            "{e}; the parent must be valid on valid_from {}",
                            region.validity.from
                        ),
                        parent.as_str(),
                    ));
                    continue;
                }
            },
        };
        let (id, written) = db::upsert_region(conn, region, parent_id).await?;
        count(counts, written);
        reference.add_region(KnownRegion {
            id,
            code: region.code.clone(),
            level: region.level,
            name: region.name.as_str().into(),
            validity: region.validity,
        });
    }

    for row in members {
        let Some(group) = reference
            .region_versions(row.group.as_str())
            .last()
            .cloned()
        else {
            problems.push(problem(
                row.origin.line,
                "group",
                "unknown group; import it in a regions file first".to_owned(),
                row.group.as_str(),
            ));
            continue;
        };
        let member = reference
            .region_at(row.member.as_str(), group.validity.from)
            .ok()
            .or_else(|| {
                reference
                    .region_versions(row.member.as_str())
                    .iter()
                    .rev()
                    .find(|v| v.validity.overlaps(&group.validity))
            });
        let Some(member) = member else {
            problems.push(problem(
                row.origin.line,
                "member",
                format!(
                    "no version of this region is valid while group {} is ({})",
                    group.code, group.validity
                ),
                row.member.as_str(),
            ));
            continue;
        };
        let written = db::upsert_member(conn, group.id, member.id).await?;
        count(counts, written);
    }

    for row in lineage {
        let from = reference
            .region_version(row.from.0.as_str(), row.from.1)
            .map(|r| r.id);
        let to = reference
            .region_version(row.to.0.as_str(), row.to.1)
            .map(|r| r.id);
        if from.is_none() {
            problems.push(problem(
                row.origin.line,
                "from_code",
                format!("no version of this region starts on {}", row.from.1),
                row.from.0.as_str(),
            ));
        }
        if to.is_none() {
            problems.push(problem(
                row.origin.line,
                "to_code",
                format!("no version of this region starts on {}", row.to.1),
                row.to.0.as_str(),
            ));
        }
        let (Some(from), Some(to)) = (from, to) else {
            continue;
        };
        let written = db::upsert_lineage(conn, from, to, row.kind, row.to.1, row.weight).await?;
        count(counts, written);
        let link = LineageLink {
            from,
            to,
            kind: row.kind,
            weight: row.weight,
        };
        reference.add_lineage(link);
        run_lineage.record(label, row.origin.line, link);
    }
    Ok(rows)
}
