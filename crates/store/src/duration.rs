//! Durations as both binaries take them on the command line: a whole number and a unit,
//! `250ms`, `2s`, `5m`. The server reads its pool wait, health interval, shutdown grace and
//! cache check this way, the importer its connect and statement timeouts; here, below both,
//! so that the two spell durations, and say what is wrong with one, the same way. What a
//! zero means is each binary's own (the importer reads `0` as "no limit").

use std::time::Duration;

/// Why a text is not a duration; each message says what would be accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("'{text}' has no unit: write e.g. 250ms, 2s or 5m")]
    NoUnit { text: String },
    #[error("'{text}' does not start with a whole number")]
    NotWhole { text: String },
    #[error("'{unit}' is not a unit: use ms, s or m")]
    UnknownUnit { unit: String },
}

/// Reads `250ms`, `2s` or `5m` (surrounding white space aside).
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| DurationError::NoUnit {
            text: text.to_owned(),
        })?;
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().map_err(|_| DurationError::NotWhole {
        text: text.to_owned(),
    })?;
    match unit {
        "ms" => Ok(Duration::from_millis(number)),
        "s" => Ok(Duration::from_secs(number)),
        "m" => Ok(Duration::from_secs(number.saturating_mul(60))),
        _ => Err(DurationError::UnknownUnit {
            unit: unit.to_owned(),
        }),
    }
}

/// `duration` as [`parse_duration`] reads it, in the largest unit that shows it whole (for
/// messages that name a limit as it was given).
pub fn show_duration(duration: Duration) -> String {
    let millis = duration.as_millis();
    if !millis.is_multiple_of(1000) {
        format!("{millis}ms")
    } else if millis.is_multiple_of(60_000) && millis > 0 {
        format!("{}m", millis / 60_000)
    } else {
        format!("{}s", millis / 1000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_written_and_show_as_they_are_written() {
        for (text, duration) in [
            ("250ms", Duration::from_millis(250)),
            ("2s", Duration::from_secs(2)),
            ("90s", Duration::from_secs(90)),
            ("5m", Duration::from_secs(300)),
            ("0s", Duration::ZERO),
        ] {
            assert_eq!(parse_duration(text), Ok(duration), "{text}");
            assert_eq!(show_duration(duration), text);
        }
        assert_eq!(parse_duration(" 0ms\n"), Ok(Duration::ZERO));
        assert_eq!(show_duration(Duration::from_millis(1500)), "1500ms");
    }

    #[test]
    fn a_text_that_is_no_duration_says_what_would_be() {
        let message = |text: &str| parse_duration(text).unwrap_err().to_string();
        assert_eq!(message("5"), "'5' has no unit: write e.g. 250ms, 2s or 5m");
        assert_eq!(message("0"), "'0' has no unit: write e.g. 250ms, 2s or 5m");
        assert_eq!(message("5h"), "'h' is not a unit: use ms, s or m");
        assert_eq!(message("ms"), "'ms' does not start with a whole number");
        assert_eq!(message("-1s"), "'-1s' does not start with a whole number");
        assert_eq!(message(""), "'' has no unit: write e.g. 250ms, 2s or 5m");
        assert_eq!(
            message("99999999999999999999s"),
            "'99999999999999999999s' does not start with a whole number"
        );
    }

    #[test]
    fn minutes_too_many_to_count_are_the_longest_duration_not_a_panic() {
        assert_eq!(
            parse_duration(&format!("{}m", u64::MAX)),
            Ok(Duration::from_secs(u64::MAX))
        );
    }
}
