//! A problem with one value of the input, located precisely enough for a person to fix it.
//!
//! Every check of the importer reports through [`Problem`], printed as
//! `FILE:LINE:COLUMN: reason (value)`, so an operator can jump to the cell in an editor; the
//! same fields go to the ledger's rejection list and to `--summary-json`. A long value is
//! quoted by its start and its size ([`excerpt`]), wherever the problem quotes it: one bad
//! 10 MB cell must not fill the terminal, the summary or the ledger.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use ansinh_model::thousands;
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

/// The most characters of a value (or a column name) quoted whole.
const QUOTED_CHARS: usize = 80;

/// The characters of a longer value that are quoted, before its size.
const QUOTED_START_CHARS: usize = 60;

/// The most characters of a reason kept whole: reasons are sentences, and one longer than this
/// quotes something long of the input in a way [`Problem::new`] cannot find.
pub(crate) const REASON_CHARS: usize = 1000;

impl Problem {
    /// A problem; a `value` longer than a person reads at a glance is quoted by its start and
    /// its size, here and where `reason` quotes it as given (a number's error does).
    pub fn new(
        file: &Arc<str>,
        line: u64,
        column: impl Into<String>,
        reason: impl Into<String>,
        value: Option<&str>,
    ) -> Self {
        let mut reason = reason.into();
        let value = value.map(
            |value| match excerpt(value, QUOTED_CHARS, QUOTED_START_CHARS) {
                Cow::Borrowed(_) => value.to_owned(),
                Cow::Owned(short) => {
                    reason = quote_shorter(&reason, value, &short);
                    short
                }
            },
        );
        let column = column.into();
        Self {
            file: Arc::clone(file),
            line,
            column: excerpt(&column, QUOTED_CHARS, QUOTED_START_CHARS).into_owned(),
            reason: excerpt(&reason, REASON_CHARS, REASON_CHARS).into_owned(),
            value,
        }
    }
}

/// `text` itself when it has at most `max_chars` characters, else its first `start_chars`
/// characters and its size: `99999…9… (10,485,760 bytes)`.
pub fn excerpt(text: &str, max_chars: usize, start_chars: usize) -> Cow<'_, str> {
    // Bytes bound characters: most texts need no counting.
    if text.len() <= max_chars || text.chars().count() <= max_chars {
        return Cow::Borrowed(text);
    }
    let start = text
        .char_indices()
        .nth(start_chars)
        .map_or(text, |(at, _)| &text[..at]);
    Cow::Owned(format!("{start}… ({} bytes)", thousands(text.len())))
}

/// `reason` with each quotation of `value`, as given or as `{:?}` writes it, replaced by `short`.
fn quote_shorter(reason: &str, value: &str, short: &str) -> String {
    if reason.contains(value) {
        return reason.replace(value, short);
    }
    let escaped = value.escape_debug().to_string();
    if reason.contains(&escaped) {
        return reason.replace(&escaped, &short.escape_debug().to_string());
    }
    reason.to_owned()
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

    #[test]
    fn a_long_value_is_quoted_by_its_start_and_size_also_in_the_reason() {
        let file: Arc<str> = Arc::from("obs.csv");
        let huge = "9".repeat(10 << 20);
        let p = Problem::new(
            &file,
            2,
            "value",
            format!("number {huge:?} in locale plain: too many digits"),
            Some(&huge),
        );
        let short = format!("{}… (10,485,760 bytes)", "9".repeat(60));
        assert_eq!(p.value.as_deref(), Some(short.as_str()));
        assert_eq!(
            p.reason,
            format!("number \"{short}\" in locale plain: too many digits")
        );

        // Quoted with escapes ({:?}) the value is found too; characters are never split.
        let text = format!("\"{}\"", "Đ".repeat(100));
        let p = Problem::new(&file, 3, "note", format!("bad {text:?}"), Some(&text));
        let short = format!("\"{}… (202 bytes)", "Đ".repeat(59));
        assert_eq!(p.value.as_deref(), Some(short.as_str()));
        assert_eq!(p.reason, format!("bad {short:?}"));
    }

    #[test]
    fn values_and_column_names_of_a_readable_length_stay_whole() {
        let file: Arc<str> = Arc::from("obs.csv");
        let value = "v".repeat(QUOTED_CHARS);
        let column = "c".repeat(QUOTED_CHARS);
        let p = Problem::new(&file, 2, column.as_str(), "why", Some(&value));
        assert_eq!((p.column, p.value), (column, Some(value)));
        let p = Problem::new(&file, 2, "c".repeat(500), "why", None);
        assert!(p.column.ends_with("… (500 bytes)"), "{}", p.column);
    }
}
