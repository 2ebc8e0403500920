//! A problem with one value of the input, located precisely enough for a person to fix it.
//!
//! Every check of the importer reports through [`Problem`], printed as
//! `FILE:LINE:COLUMN: reason (value)`, so an operator can jump to the cell in an editor; the
//! same fields go to the ledger's rejection list and to `--summary-json`.

use std::fmt;
use std::sync::Arc;

use serde::Serialize;

/// One thing wrong with the input. `line` is 1-based and counts physical lines, so a CSV
/// header is line 1; `line` 0 means the file as a whole (it could not be opened or read).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub file: Arc<str>,
    pub line: u64,
    /// The column (CSV header name or JSON field) the problem is in; empty for a whole row.
    pub column: String,
    pub reason: String,
    /// The offending text as given, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

impl Problem {
    pub fn new(
        file: &Arc<str>,
        line: u64,
        column: impl Into<String>,
        reason: impl Into<String>,
        value: Option<&str>,
    ) -> Self {
        Self {
            file: Arc::clone(file),
            line,
            column: column.into(),
            reason: reason.into(),
            value: value.map(str::to_owned),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.reason
        )?;
        match &self.value {
            Some(value) => write!(f, " ({value:?})"),
            None => Ok(()),
        }
    }
}

/// Where one input row came from: the file (by its position on the command line) and line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Origin {
    pub file: u16,
    pub line: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_file_line_column_reason_and_value() {
        let file: Arc<str> = Arc::from("obs.csv");
        let p = Problem::new(&file, 3, "value", "not a number", Some("1,229"));
        assert_eq!(p.to_string(), "obs.csv:3:value: not a number (\"1,229\")");
        let p = Problem::new(&file, 1, "", "missing column: value", None);
        assert_eq!(p.to_string(), "obs.csv:1:: missing column: value");
    }
}
