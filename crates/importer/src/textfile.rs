//! The run's figures for the node exporter's textfile collector (`--metrics-textfile`).
//!
//! A CronJob or cron process lives too briefly to be scraped, so each run rewrites one `.prom`
//! file that the node exporter on the same host serves. Counters and the time of the last
//! success must survive the runs in between, so they are read back from the previous file and
//! carried forward; everything else describes the last run alone.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use ansinh_store::models::ImportRunStatus;

/// How a run ended, as the `status` label says it: the ledger's statuses, plus the ends
/// that leave no ledger entry of their own.
pub const STATUSES: [&str; 6] = [
    ImportRunStatus::Committed.as_str(),
    ImportRunStatus::DryRun.as_str(),
    ImportRunStatus::Rejected.as_str(),
    ImportRunStatus::Failed.as_str(),
    LOCKED,
    USAGE_ERROR,
];

/// Another run held the lock (exit code 4).
pub const LOCKED: &str = "locked";
/// The command line or the mapping was unusable (exit code 2).
pub const USAGE_ERROR: &str = "usage_error";

/// Row outcomes, as the `outcome` label says them.
pub const OUTCOMES: [&str; 4] = ["inserted", "updated", "unchanged", "rejected"];

/// What one run did, as the textfile reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct RunFigures {
    /// One of [`STATUSES`].
    pub status: &'static str,
    pub exit_code: u8,
    /// When the run finished, in Unix seconds.
    pub finished_unix: f64,
    pub duration_seconds: f64,
    /// Rows read from the run's files.
    pub rows_read: u64,
    /// Rows by outcome, in the order of [`OUTCOMES`].
    pub rows: [u64; 4],
}

const RUNS: &str = "ansinh_import_runs_total";
const ROWS: &str = "ansinh_import_rows_total";
const LAST_SUCCESS: &str = "ansinh_import_last_success_timestamp_seconds";

/// The values of the previous file that carry over: counters by label set, and the time of
/// the last success. Lines that are not ours, or not readable, are ignored: a damaged file
/// restarts the counters, which Prometheus reads as a counter reset.
fn carried(previous: &str) -> (BTreeMap<String, u64>, Option<f64>) {
    let mut counters = BTreeMap::new();
    let mut last_success = None;
    for line in previous.lines().filter(|line| !line.starts_with('#')) {
        let Some((series, value)) = line.rsplit_once(' ') else {
            continue;
        };
        if series == LAST_SUCCESS {
            last_success = value.parse::<f64>().ok().filter(|v| v.is_finite());
        } else if (series.starts_with(RUNS) || series.starts_with(ROWS))
            && let Ok(value) = value.parse::<u64>()
        {
            counters.insert(series.to_owned(), value);
        }
    }
    (counters, last_success)
}

/// A labelled series' name as the file writes it: `name{label="value"}`.
fn labelled(name: &str, label: &str, value: &str) -> String {
    format!("{name}{{{label}=\"{value}\"}}")
}

/// Writes one metric family: its HELP and TYPE lines, then each series with its value.
fn family<V: std::fmt::Display>(
    text: &mut String,
    name: &str,
    kind: &str,
    help: &str,
    series: impl IntoIterator<Item = (String, V)>,
) {
    let _ = writeln!(text, "# HELP {name} {help}\n# TYPE {name} {kind}");
    for (series, value) in series {
        let _ = writeln!(text, "{series} {value}");
    }
}

/// Writes a family of one unlabelled gauge.
fn gauge<V: std::fmt::Display>(text: &mut String, name: &str, help: &str, value: V) {
    family(text, name, "gauge", help, [(name.to_owned(), value)]);
}

/// The file's text after `run`, given the previous file's text (empty when there was none).
pub fn render(previous: &str, run: &RunFigures) -> String {
    let (mut counters, last_success) = carried(previous);
    // Only a committed run landed its rows; a rejected one is counted by its rejected rows.
    let landed = run.status == ImportRunStatus::Committed.as_str();
    let mut bump = |series: String, by: u64| {
        let value = counters.entry(series).or_insert(0);
        *value = value.saturating_add(by);
    };
    for status in STATUSES {
        bump(
            labelled(RUNS, "status", status),
            u64::from(status == run.status),
        );
    }
    for (outcome, rows) in OUTCOMES.iter().zip(run.rows) {
        let counted = if *outcome == "rejected" {
            run.status == ImportRunStatus::Rejected.as_str()
        } else {
            landed
        };
        bump(
            labelled(ROWS, "outcome", outcome),
            if counted { rows } else { 0 },
        );
    }
    let last_success = if landed {
        Some(run.finished_unix)
    } else {
        last_success
    };
    let carried = |name: &str, label: &str, keys: &[&str]| -> Vec<(String, u64)> {
        keys.iter()
            .map(|key| {
                let series = labelled(name, label, key);
                let value = counters[&series];
                (series, value)
            })
            .collect()
    };

    let mut text = String::new();
    family(
        &mut text,
        RUNS,
        "counter",
        "ansinh-import runs written to this file, by how they ended.",
        carried(RUNS, "status", &STATUSES),
    );
    family(
        &mut text,
        ROWS,
        "counter",
        "Rows by outcome: inserted, updated and unchanged by committed runs, rejected by rejected runs.",
        carried(ROWS, "outcome", &OUTCOMES),
    );
    if let Some(at) = last_success {
        gauge(
            &mut text,
            LAST_SUCCESS,
            "When the last committed run finished, in Unix seconds.",
            seconds(at),
        );
    }
    gauge(
        &mut text,
        "ansinh_import_last_run_timestamp_seconds",
        "When the last run finished, in Unix seconds.",
        seconds(run.finished_unix),
    );
    gauge(
        &mut text,
        "ansinh_import_last_run_duration_seconds",
        "How long the last run took, in seconds.",
        seconds(run.duration_seconds),
    );
    gauge(
        &mut text,
        "ansinh_import_last_run_exit_code",
        "The last run's exit code (0 success, 1 input rejected, 2 usage, 3 database, 4 locked).",
        run.exit_code,
    );
    family(
        &mut text,
        "ansinh_import_last_run_status",
        "gauge",
        "1 for how the last run ended, 0 for the others.",
        STATUSES.iter().map(|status| {
            (
                labelled("ansinh_import_last_run_status", "status", status),
                u8::from(*status == run.status),
            )
        }),
    );
    gauge(
        &mut text,
        "ansinh_import_last_run_rows_read",
        "Rows the last run read from its files.",
        run.rows_read,
    );
    family(
        &mut text,
        "ansinh_import_last_run_rows",
        "gauge",
        "The last run's rows by outcome (what would change, for a dry run).",
        OUTCOMES.iter().zip(run.rows).map(|(outcome, rows)| {
            (
                labelled("ansinh_import_last_run_rows", "outcome", outcome),
                rows,
            )
        }),
    );
    text
}

/// Seconds with millisecond precision, as the exposition format reads them.
fn seconds(value: f64) -> String {
    format!("{value:.3}")
}

/// Rewrites the file at `path` after `run`: written beside it under a name the collector
/// ignores (`.prom` files only), flushed, then renamed over it, so that a scrape never sees
/// half a file.
pub fn write(path: &Path, run: &RunFigures) -> std::io::Result<()> {
    let previous = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e),
    };
    let text = render(&previous, run);
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(format!(".{}.tmp", std::process::id()));
    let temporary = std::path::PathBuf::from(temporary);
    let written = (|| {
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(status: &'static str, exit_code: u8, finished: f64, rows: [u64; 4]) -> RunFigures {
        RunFigures {
            status,
            exit_code,
            finished_unix: finished,
            duration_seconds: 2.5,
            rows_read: rows.iter().sum(),
            rows,
        }
    }

    fn value(text: &str, series: &str) -> Option<String> {
        text.lines()
            .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
            .map(str::to_owned)
    }

    #[test]
    fn a_first_committed_run_reports_itself_and_its_success() {
        let text = render("", &run("committed", 0, 1_700_000_000.25, [10, 2, 3, 0]));
        assert_eq!(
            value(&text, "ansinh_import_runs_total{status=\"committed\"}").as_deref(),
            Some("1")
        );
        assert_eq!(
            value(&text, "ansinh_import_runs_total{status=\"failed\"}").as_deref(),
            Some("0")
        );
        assert_eq!(
            value(&text, "ansinh_import_rows_total{outcome=\"inserted\"}").as_deref(),
            Some("10")
        );
        assert_eq!(
            value(&text, "ansinh_import_last_success_timestamp_seconds").as_deref(),
            Some("1700000000.250")
        );
        assert_eq!(
            value(&text, "ansinh_import_last_run_status{status=\"committed\"}").as_deref(),
            Some("1")
        );
        assert_eq!(
            value(&text, "ansinh_import_last_run_rows_read").as_deref(),
            Some("15")
        );
        assert_eq!(
            value(&text, "ansinh_import_last_run_duration_seconds").as_deref(),
            Some("2.500")
        );
        // Every family is introduced by its HELP and TYPE, once.
        assert_eq!(
            text.matches("# TYPE ansinh_import_runs_total counter")
                .count(),
            1
        );
        assert_eq!(
            text.matches("# TYPE").count(),
            text.matches("# HELP").count()
        );
    }

    #[test]
    fn counters_and_the_last_success_carry_over_a_failed_run() {
        let first = render("", &run("committed", 0, 100.0, [10, 0, 0, 0]));
        let second = render(&first, &run("rejected", 1, 200.0, [0, 0, 0, 3]));
        assert_eq!(
            value(&second, "ansinh_import_runs_total{status=\"committed\"}").as_deref(),
            Some("1")
        );
        assert_eq!(
            value(&second, "ansinh_import_runs_total{status=\"rejected\"}").as_deref(),
            Some("1")
        );
        // Rows of runs that did not land are not counted as landed rows.
        assert_eq!(
            value(&second, "ansinh_import_rows_total{outcome=\"inserted\"}").as_deref(),
            Some("10")
        );
        assert_eq!(
            value(&second, "ansinh_import_rows_total{outcome=\"rejected\"}").as_deref(),
            Some("3")
        );
        assert_eq!(
            value(&second, "ansinh_import_last_success_timestamp_seconds").as_deref(),
            Some("100.000")
        );
        assert_eq!(
            value(&second, "ansinh_import_last_run_timestamp_seconds").as_deref(),
            Some("200.000")
        );
        assert_eq!(
            value(&second, "ansinh_import_last_run_exit_code").as_deref(),
            Some("1")
        );
        let third = render(&second, &run("committed", 0, 300.0, [0, 1, 9, 0]));
        assert_eq!(
            value(&third, "ansinh_import_runs_total{status=\"committed\"}").as_deref(),
            Some("2")
        );
        assert_eq!(
            value(&third, "ansinh_import_rows_total{outcome=\"unchanged\"}").as_deref(),
            Some("9")
        );
        assert_eq!(
            value(&third, "ansinh_import_last_success_timestamp_seconds").as_deref(),
            Some("300.000")
        );
    }

    #[test]
    fn a_dry_run_counts_as_a_run_and_lands_no_rows() {
        let text = render("", &run("dry_run", 0, 1.0, [5, 1, 2, 0]));
        assert_eq!(
            value(&text, "ansinh_import_runs_total{status=\"dry_run\"}").as_deref(),
            Some("1")
        );
        assert_eq!(
            value(&text, "ansinh_import_rows_total{outcome=\"inserted\"}").as_deref(),
            Some("0")
        );
        assert_eq!(
            value(&text, "ansinh_import_last_run_rows{outcome=\"inserted\"}").as_deref(),
            Some("5")
        );
        assert_eq!(
            value(&text, "ansinh_import_last_success_timestamp_seconds"),
            None
        );
    }

    #[test]
    fn without_any_success_there_is_no_last_success_series() {
        let text = render("", &run("failed", 3, 100.0, [0; 4]));
        assert_eq!(
            value(&text, "ansinh_import_last_success_timestamp_seconds"),
            None
        );
        assert!(!text.contains("ansinh_import_last_success_timestamp_seconds"));
    }

    #[test]
    fn a_damaged_previous_file_restarts_the_counters() {
        let text = render(
            "garbage\nansinh_import_runs_total{status=\"committed\"} x\n{}\n",
            &run("committed", 0, 1.0, [1, 0, 0, 0]),
        );
        assert_eq!(
            value(&text, "ansinh_import_runs_total{status=\"committed\"}").as_deref(),
            Some("1")
        );
    }

    #[test]
    fn write_replaces_the_file_and_leaves_no_temporary_behind() {
        let dir = std::env::temp_dir().join(format!("ansinh-textfile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("ansinh_import.prom");
        write(&path, &run("committed", 0, 1.0, [1, 0, 0, 0])).unwrap();
        write(&path, &run("committed", 0, 2.0, [1, 0, 0, 0])).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            value(&text, "ansinh_import_runs_total{status=\"committed\"}").as_deref(),
            Some("2")
        );
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("ansinh_import.prom")]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
