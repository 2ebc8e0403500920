//! The one place where failures become gRPC statuses. Handlers return `ApiError`; clients get
//! `INVALID_ARGUMENT` with `google.rpc.BadRequest` field violations, `NOT_FOUND` naming what is
//! unknown, or `UNAVAILABLE` when MySQL does not answer. SQL text never reaches a client: the
//! database error is logged here and the client is told only that the store failed.
//!
//! A status travels in HTTP/2 trailers, and many clients refuse trailers larger than 8 or
//! 16 KiB: grpcio then reports RESOURCE_EXHAUSTED and its caller never sees why the request was
//! refused. So what a client is sent is bounded here, whatever the request held: a description
//! quotes at most a short prefix of a bad value, a BadRequest lists at most [`MAX_VIOLATIONS`]
//! violations and says how many more there were, and the message is cut to [`MAX_MESSAGE`]
//! bytes. Together they stay under about 7 KiB on the wire.

use std::borrow::Cow;

use ansinh_model::thousands;
use ansinh_store::StoreError;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, FieldViolation, StatusExt};

/// Most field violations one BadRequest lists; one more then says how many were left out.
const MAX_VIOLATIONS: usize = 20;
/// Most bytes the listed violations' fields and descriptions take together. The details also
/// carry the message again, and base64 makes them a third larger on the wire: with the
/// message's own header, at most about 7 KiB.
const MAX_DETAILS: usize = 3072;
/// Longest description of a violation, in bytes.
const MAX_DESCRIPTION: usize = 200;
/// Longest field path of a violation, in bytes. Paths are the server's own, e.g.
/// "region_codes[12]"; the bound only keeps the details' size certain.
const MAX_FIELD: usize = 64;
/// Longest status message, in bytes. Percent-encoding can triple it on the wire.
const MAX_MESSAGE: usize = 512;
/// A quoted value longer than this many bytes is cut to its first [`QUOTED_PREFIX`] bytes.
const MAX_QUOTED: usize = 40;
/// See [`MAX_QUOTED`].
const QUOTED_PREFIX: usize = 24;

/// A failed call, in the terms a caller can act on.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// One or more request fields are invalid.
    #[error("invalid request: {}", describe(.0))]
    InvalidArgument(Vec<FieldViolation>),
    /// The thing asked for does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The request is well formed but the data's rules forbid the answer, such as rolling up
    /// a reported ratio (a percentage published without its parts cannot be summed).
    #[error("{description}")]
    FailedPrecondition {
        /// The kind of rule, e.g. "INDICATOR_KIND".
        kind: &'static str,
        /// What the rule is about, e.g. "indicators/contributions_plan_rate".
        subject: String,
        /// Why, and what to ask instead.
        description: String,
    },
    /// MySQL did not answer in time or refused the connection.
    #[error("the database is unavailable")]
    Unavailable,
    /// The deadline passed while waiting on the database.
    #[error("the deadline passed before the answer was ready")]
    DeadlineExceeded,
    /// Anything else; logged with its cause, reported without details.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ApiError {
    /// NOT_FOUND: no version of `code` is valid on `date`.
    pub fn not_valid(code: &impl std::fmt::Display, date: ansinh_model::NaiveDate) -> Self {
        Self::NotFound(format!("no region with code {code} is valid on {date}"))
    }

    /// One invalid field.
    pub fn field(field: &str, description: impl Into<String>) -> Self {
        Self::InvalidArgument(vec![FieldViolation::new(field, description)])
    }
}

/// The violations as one line of at most about [`MAX_MESSAGE`] bytes (with "invalid request: "):
/// as many whole violations as fit, then how many more there are.
fn describe(violations: &[FieldViolation]) -> String {
    // Room for "invalid request: " in front and "; and 12,345 more violations" at the end.
    const BUDGET: usize = MAX_MESSAGE - 17 - 40;
    let mut text = String::new();
    for (listed, violation) in violations.iter().enumerate() {
        let field = shorten(&violation.field, MAX_FIELD);
        let description = shorten(&violation.description, MAX_DESCRIPTION);
        let separator = if listed == 0 { "" } else { "; " };
        if text.len() + separator.len() + field.len() + 2 + description.len() > BUDGET {
            text.push_str(&format!(
                "{separator}and {}",
                more_violations(violations.len() - listed)
            ));
            break;
        }
        text.push_str(&format!("{separator}{field}: {description}"));
    }
    text
}

/// The violations a client is sent: each shortened, at most [`MAX_VIOLATIONS`] of them and
/// [`MAX_DETAILS`] bytes, and when some are left out one more, on the first field left out,
/// saying how many.
fn bounded(violations: Vec<FieldViolation>) -> Vec<FieldViolation> {
    let total = violations.len();
    let mut listed = Vec::new();
    let mut bytes = 0;
    let mut rest = violations.into_iter();
    for violation in rest.by_ref() {
        let field = shorten(&violation.field, MAX_FIELD).into_owned();
        let description = shorten(&violation.description, MAX_DESCRIPTION).into_owned();
        if listed.len() == MAX_VIOLATIONS || bytes + field.len() + description.len() > MAX_DETAILS {
            let left_out = match total - listed.len() {
                1 => "this violation is not listed".to_owned(),
                more => format!("this and {} are not listed", more_violations(more - 1)),
            };
            listed.push(FieldViolation::new(
                field,
                format!(
                    "{left_out}, to keep the error small; correct the ones listed and call again to see the rest"
                ),
            ));
            break;
        }
        bytes += field.len() + description.len();
        listed.push(FieldViolation {
            field,
            description,
            ..violation
        });
    }
    listed
}

/// `text` in at most about `max` bytes. Quoted values (the `{:?}` of a bad value in a model
/// error, such as a 786 KB region code) are cut to a prefix first, so that the reason after
/// them survives; what is still too long loses its middle, keeping its start (what was wrong)
/// and its end (usually what would be accepted).
fn shorten(text: &str, max: usize) -> Cow<'_, str> {
    if text.len() <= max {
        return Cow::Borrowed(text);
    }
    let quoted = shorten_quotes(text);
    if quoted.len() <= max {
        return Cow::Owned(quoted);
    }
    // The marker's count has at most as many digits as the whole length.
    let keep = max.saturating_sub(marker(quoted.len()).len());
    let head = floor_boundary(&quoted, keep * 2 / 3);
    let tail = ceil_boundary(&quoted, quoted.len() - (keep - head));
    let marker = marker(tail - head);
    Cow::Owned(format!("{}{marker}{}", &quoted[..head], &quoted[tail..]))
}

/// Cuts every double-quoted string in `text` longer than [`MAX_QUOTED`] bytes to its first
/// [`QUOTED_PREFIX`] bytes, followed by how long it was: `"6666…" (786,432 bytes)`. Quotes are
/// read as `{:?}` writes them, with `\"` inside a string escaped.
fn shorten_quotes(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(1024));
    let mut rest = text;
    while let Some(open) = rest.find('"') {
        out.push_str(&rest[..=open]);
        rest = &rest[open + 1..];
        let Some(close) = closing_quote(rest) else {
            break;
        };
        let inner = &rest[..close];
        if inner.len() > MAX_QUOTED {
            out.push_str(quoted_prefix(inner, QUOTED_PREFIX));
            out.push_str(&format!("…\" ({} bytes)", thousands(inner.len())));
        } else {
            out.push_str(inner);
            out.push('"');
        }
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

/// What stands for the `left_out` bytes cut from the middle of a text.
fn marker(left_out: usize) -> String {
    format!(" … ({} bytes left out) … ", thousands(left_out))
}

/// The longest start of the quoted `inner` of at most `max` bytes that does not end inside an
/// escape such as `\u{1f}`, which would read as a broken escape.
fn quoted_prefix(inner: &str, max: usize) -> &str {
    let mut end = 0;
    let mut chars = inner.char_indices();
    while let Some((at, c)) = chars.next() {
        let mut next = at + c.len_utf8();
        if c == '\\'
            && let Some((at, escaped)) = chars.next()
        {
            next = at + escaped.len_utf8();
            if escaped == 'u' {
                for (at, c) in chars.by_ref() {
                    next = at + c.len_utf8();
                    if c == '}' {
                        break;
                    }
                }
            }
        }
        if next > max {
            break;
        }
        end = next;
    }
    &inner[..end]
}

/// Where the string that starts at `text` ends: the first `"` not escaped by a backslash.
fn closing_quote(text: &str) -> Option<usize> {
    let mut escaped = false;
    for (at, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => return Some(at),
            _ => {}
        }
    }
    None
}

/// The largest char boundary of `text` at or below `at`.
fn floor_boundary(text: &str, at: usize) -> usize {
    (0..=at.min(text.len()))
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0)
}

/// The smallest char boundary of `text` at or above `at`.
fn ceil_boundary(text: &str, at: usize) -> usize {
    (at..=text.len())
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(text.len())
}

/// "1 more violation", "9,990 more violations".
fn more_violations(n: usize) -> String {
    match n {
        1 => "1 more violation".to_owned(),
        n => format!("{} more violations", thousands(n)),
    }
}

/// Maps a store failure: a lost connection is UNAVAILABLE, anything else is internal.
impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        if error.is_unavailable() {
            ApiError::Unavailable
        } else {
            ApiError::Internal(Box::new(error))
        }
    }
}

impl From<ApiError> for Status {
    fn from(error: ApiError) -> Self {
        // Every message is bounded, not only those of bad fields: a NOT_FOUND may list each of
        // ten thousand unknown region codes.
        let message = shorten(&error.to_string(), MAX_MESSAGE).into_owned();
        match error {
            ApiError::InvalidArgument(violations) => Status::with_error_details(
                Code::InvalidArgument,
                message,
                ErrorDetails::with_bad_request(bounded(violations)),
            ),
            ApiError::NotFound(_) => Status::not_found(message),
            ApiError::FailedPrecondition {
                kind,
                subject,
                description,
            } => Status::with_error_details(
                Code::FailedPrecondition,
                message,
                ErrorDetails::with_precondition_failure_violation(
                    kind,
                    shorten(&subject, MAX_DESCRIPTION),
                    shorten(&description, MAX_MESSAGE),
                ),
            ),
            ApiError::Unavailable => Status::unavailable(message),
            ApiError::DeadlineExceeded => Status::deadline_exceeded(message),
            ApiError::Internal(source) => {
                tracing::error!(error = %source, "call failed");
                Status::internal(message)
            }
        }
    }
}

/// Collects field violations so a handler can report every bad field at once.
#[derive(Debug, Default)]
pub struct Violations(Vec<FieldViolation>);

impl Violations {
    /// Records a violation of `field`.
    pub fn add(&mut self, field: &str, description: impl Into<String>) {
        self.0.push(FieldViolation::new(field, description));
    }

    /// Keeps the value of `result`, or records its error against `field`.
    pub fn check<T, E: std::fmt::Display>(
        &mut self,
        field: &str,
        result: Result<T, E>,
    ) -> Option<T> {
        result
            .map_err(|error| self.add(field, error.to_string()))
            .ok()
    }

    /// `Ok(())` when nothing was recorded, else every violation as one error.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::InvalidArgument(self.0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_arguments_carry_every_field_violation() {
        let mut violations = Violations::default();
        violations.add("code", "must not be empty");
        violations.add("as_of", "'2024-13-01' is not a date");
        let status = Status::from(violations.finish().unwrap_err());
        assert_eq!(status.code(), Code::InvalidArgument);
        let bad_request = status
            .get_details_bad_request()
            .expect("BadRequest details");
        let fields: Vec<_> = bad_request
            .field_violations
            .iter()
            .map(|v| v.field.as_str())
            .collect();
        assert_eq!(fields, ["code", "as_of"]);
    }

    /// An upper bound of the bytes `status` takes in trailers: its message percent-encoded
    /// (at most three bytes for one) and its details in base64.
    fn trailer_bytes(status: &Status) -> usize {
        status.message().len() * 3 + status.details().len().div_ceil(3) * 4
    }

    #[test]
    fn a_huge_bad_value_is_quoted_by_a_prefix_and_its_size() {
        let code = "6".repeat(786_432);
        let mut violations = Violations::default();
        assert!(violations.region_code("code", &code).is_none());
        let status = Status::from(violations.finish().unwrap_err());
        assert_eq!(status.code(), Code::InvalidArgument);
        let bad_request = status
            .get_details_bad_request()
            .expect("BadRequest details");
        let [violation] = bad_request.field_violations.as_slice() else {
            panic!("one violation: {bad_request:?}");
        };
        assert_eq!(violation.field, "code");
        let description = &violation.description;
        assert!(description.len() <= MAX_DESCRIPTION, "{description}");
        assert!(
            description.starts_with(&format!("region code \"{}…\" (786,432 bytes)", &code[..24])),
            "{description}"
        );
        // The reason and what would be accepted come after the value, and survive the cut.
        assert!(
            description.contains("GSO codes have 2 digits"),
            "{description}"
        );
        assert!(
            status.message().len() <= MAX_MESSAGE,
            "{}",
            status.message()
        );
        assert!(status.message().contains("(786,432 bytes)"));
        assert!(
            trailer_bytes(&status) < 2048,
            "{} bytes",
            trailer_bytes(&status)
        );
    }

    #[test]
    fn every_quoted_value_is_cut_and_the_reason_between_them_kept() {
        let code = "x".repeat(5000);
        let mut violations = Violations::default();
        violations.region_code("parent_code", &code);
        let status = Status::from(violations.finish().unwrap_err());
        let description =
            &status.get_details_bad_request().unwrap().field_violations[0].description;
        assert!(description.len() <= MAX_DESCRIPTION, "{description}");
        assert!(
            description.contains("contains lower-case letters; use upper case"),
            "{description}"
        );
        assert_eq!(
            description.matches("(5,000 bytes)").count(),
            2,
            "{description}"
        );
    }

    #[test]
    fn ten_thousand_bad_fields_list_twenty_and_count_the_rest() {
        let mut violations = Violations::default();
        for i in 0..10_000 {
            violations.region_code(&format!("region_codes[{i}]"), "not a code");
        }
        let status = Status::from(violations.finish().unwrap_err());
        assert_eq!(status.code(), Code::InvalidArgument);
        let listed = status.get_details_bad_request().unwrap().field_violations;
        assert_eq!(listed.len(), MAX_VIOLATIONS + 1);
        let fields: Vec<_> = listed.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields[..2], ["region_codes[0]", "region_codes[1]"]);
        let last = listed.last().unwrap();
        assert_eq!(last.field, "region_codes[20]");
        assert!(
            last.description
                .starts_with("this and 9,979 more violations are not listed"),
            "{}",
            last.description
        );
        let message = status.message();
        assert!(message.len() <= MAX_MESSAGE, "{message}");
        assert!(
            message.starts_with("invalid request: region_codes[0]: "),
            "{message}"
        );
        assert!(message.ends_with(" more violations"), "{message}");
        assert!(
            trailer_bytes(&status) < 8192,
            "{} bytes",
            trailer_bytes(&status)
        );
    }

    #[test]
    fn the_largest_error_there_can_be_fits_in_8_kib() {
        // Long fields and descriptions of Vietnamese text (two or three bytes a character, all
        // percent-encoded in the message), many more than are listed.
        let mut violations = Violations::default();
        for i in 0..1000 {
            violations.add(
                &format!("{i:0>80}"),
                "Đắk Lắk không phải là mã vùng hợp lệ; ".repeat(20),
            );
        }
        let status = Status::from(violations.finish().unwrap_err());
        assert!(
            trailer_bytes(&status) < 8192,
            "{} bytes",
            trailer_bytes(&status)
        );
        let listed = status.get_details_bad_request().unwrap().field_violations;
        assert!(listed.len() > 5, "{}", listed.len());
        assert!(
            listed
                .iter()
                .all(|v| v.field.len() <= MAX_FIELD && v.description.len() <= MAX_DESCRIPTION)
        );
    }

    #[test]
    fn one_violation_over_the_limit_is_named_as_one() {
        let mut violations = Violations::default();
        for i in 0..=MAX_VIOLATIONS {
            violations.add(&format!("f{i}"), "is wrong");
        }
        let status = Status::from(violations.finish().unwrap_err());
        let listed = status.get_details_bad_request().unwrap().field_violations;
        assert_eq!(listed.len(), MAX_VIOLATIONS + 1);
        assert!(
            listed[MAX_VIOLATIONS]
                .description
                .starts_with("this violation is not listed"),
            "{:?}",
            listed[MAX_VIOLATIONS]
        );
        assert_eq!(describe(&listed[..2]), "f0: is wrong; f1: is wrong");
    }

    #[test]
    fn long_texts_without_quotes_lose_their_middle() {
        let text = format!("starts here {} ends here", "é".repeat(1000));
        let short = shorten(&text, 100);
        assert!(short.len() <= 100, "{short}");
        assert!(short.starts_with("starts here "), "{short}");
        assert!(short.ends_with(" ends here"), "{short}");
        assert!(short.contains("bytes left out"), "{short}");
        assert_eq!(shorten("short", 100), "short");
    }

    #[test]
    fn a_cut_quote_never_ends_inside_an_escape() {
        let value = format!("{}\\u{{1f}}{}", "a".repeat(21), "b".repeat(100));
        let quoted = format!("code \"{value}\" is bad");
        let short = shorten_quotes(&quoted);
        assert_eq!(
            short,
            format!("code \"{}…\" (127 bytes) is bad", "a".repeat(21))
        );
        // An unbalanced quote is left as it is.
        assert_eq!(shorten_quotes("say \"hello"), "say \"hello");
    }

    #[test]
    fn long_not_found_messages_are_bounded_too() {
        let codes = vec!["AB12"; 10_000].join(", ");
        let status = Status::from(ApiError::NotFound(format!("no regions with codes {codes}")));
        assert_eq!(status.code(), Code::NotFound);
        assert!(
            status.message().len() <= MAX_MESSAGE,
            "{}",
            status.message()
        );
        assert!(status.message().starts_with("no regions with codes AB12"));
    }

    #[test]
    fn failed_preconditions_name_the_rule_and_its_subject() {
        let status = Status::from(ApiError::FailedPrecondition {
            kind: "INDICATOR_KIND",
            subject: "indicators/contributions_plan_rate".into(),
            description: "a reported_ratio cannot be rolled up".into(),
        });
        assert_eq!(status.code(), Code::FailedPrecondition);
        assert_eq!(status.message(), "a reported_ratio cannot be rolled up");
        let failure = status
            .get_details_precondition_failure()
            .expect("PreconditionFailure details");
        assert_eq!(failure.violations[0].r#type, "INDICATOR_KIND");
        assert_eq!(
            failure.violations[0].subject,
            "indicators/contributions_plan_rate"
        );
    }

    #[test]
    fn internal_errors_hide_their_cause() {
        let cause: Box<dyn std::error::Error + Send + Sync> = "SELECT * FROM secret".into();
        let status = Status::from(ApiError::Internal(cause));
        assert_eq!(status.code(), Code::Internal);
        assert!(!status.message().contains("SELECT"));
    }
}
