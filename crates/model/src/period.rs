//! Periods: the time a figure refers to, written as a year, half, quarter, month, run of
//! months or single day, and identified by its first and last day so that `2024` and
//! `2024-01/2024-12` are the same period. This module owns reading and canonical writing of
//! those forms, the stock-instant rule (a stock is a level on its period's last day), and the
//! calendar questions the service asks of a period: a year earlier, year to date, covering,
//! and how long it is (so that only periods of one length are compared).

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use thiserror::Error;

/// The years the text forms can write with four digits.
const YEARS: std::ops::RangeInclusive<i32> = 0..=9999;

/// The forms a period may be written in, for error messages.
const FORMS: &str = "2024 (year), 2024-H1 (half), 2024-Q3 (quarter), 2024-05 (month), 2025-01/2025-05 (months) or 2024-12-31 (day)";

/// The time a figure refers to: an inclusive run of days.
///
/// A period is either a single day or runs from the first day of a month to the last day of
/// the same or a later month; every year, half, quarter and month is such a run. Two periods
/// are equal when their bounds are, whatever text they were read from. `Display` writes the
/// most specific form, which [`Period::parse`] reads back to the same period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Period {
    start: NaiveDate,
    end: NaiveDate,
}

/// How long a period is: a single day, or a number of whole months. Two amounts over
/// intervals are comparable only when their periods are equally long — a quarter's
/// collections against a year's, or seven months' against twelve, measure the length of the
/// period, not a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PeriodLength {
    /// A single day: where a level (a stock, a rate of stocks) is stated.
    Day,
    /// A run of whole months: 1 for a month, 3 for a quarter, 6 for a half, 12 for a year.
    Months(u32),
}

impl fmt::Display for PeriodLength {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Day => f.write_str("1 day"),
            Self::Months(1) => f.write_str("1 month"),
            Self::Months(months) => write!(f, "{months} months"),
        }
    }
}

impl Period {
    /// Reads any period form of the data contract: `2024`, `2024-H1`, `2024-Q3`, `2024-05`,
    /// `2025-01/2025-05` (may cross years; must not run backwards) or `2024-12-31`.
    /// Surrounding whitespace is ignored and the `H`/`Q` letters may be lower case.
    pub fn parse(text: &str) -> Result<Self, PeriodError> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(PeriodError::Empty);
        }
        let unrecognized = || PeriodError::Unrecognized {
            text: text.to_owned(),
        };

        if let Some((first, last)) = trimmed.split_once('/') {
            let not_months = || PeriodError::RangeOfNonMonths {
                text: text.to_owned(),
            };
            let (first_year, first_month) =
                parse_year_month(first, text)?.ok_or_else(not_months)?;
            let (last_year, last_month) = parse_year_month(last, text)?.ok_or_else(not_months)?;
            let start = first_of_month(first_year, first_month).ok_or_else(unrecognized)?;
            let end = last_of_month(last_year, last_month).ok_or_else(unrecognized)?;
            if end < start {
                return Err(PeriodError::RangeReversed {
                    text: text.to_owned(),
                    swapped: format!("{}/{}", last.trim(), first.trim()),
                });
            }
            return Ok(Self { start, end });
        }

        let mut parts = trimmed.split('-');
        let year = parts
            .next()
            .and_then(four_digit_year)
            .ok_or_else(unrecognized)?;
        let second = parts.next();
        let third = parts.next();
        if parts.next().is_some() {
            return Err(unrecognized());
        }
        let (first_month, last_month) = match (second, third) {
            (None, _) => (1, 12),
            (Some(part), None) => match part.as_bytes() {
                [b'H' | b'h', digit @ b'0'..=b'9'] => match digit - b'0' {
                    half @ 1..=2 => (u32::from(half) * 6 - 5, u32::from(half) * 6),
                    half => {
                        return Err(PeriodError::HalfOutOfRange {
                            text: text.to_owned(),
                            half,
                        });
                    }
                },
                [b'Q' | b'q', digit @ b'0'..=b'9'] => match digit - b'0' {
                    quarter @ 1..=4 => (u32::from(quarter) * 3 - 2, u32::from(quarter) * 3),
                    quarter => {
                        return Err(PeriodError::QuarterOutOfRange {
                            text: text.to_owned(),
                            quarter,
                        });
                    }
                },
                _ => {
                    let month = parse_month(part, text)?.ok_or_else(unrecognized)?;
                    (month, month)
                }
            },
            (Some(month), Some(day)) => {
                let date = parse_day(year, month, day, text)?.ok_or_else(unrecognized)?;
                return Ok(Self::instant(date));
            }
        };
        Ok(Self {
            start: first_of_month(year, first_month).ok_or_else(unrecognized)?,
            end: last_of_month(year, last_month).ok_or_else(unrecognized)?,
        })
    }

    /// The single day `date`.
    ///
    /// Any date is accepted, but only years 0000 to 9999 display in a form `parse` reads back.
    pub fn instant(date: NaiveDate) -> Self {
        Self {
            start: date,
            end: date,
        }
    }

    /// The period with these inclusive bounds, if one of the forms can express it: a single
    /// day, or first day of a month to last day of a month, within years 0000 to 9999.
    pub fn from_bounds(start: NaiveDate, end: NaiveDate) -> Result<Self, PeriodError> {
        for date in [start, end] {
            if !YEARS.contains(&date.year()) {
                return Err(PeriodError::YearOutOfRange { date });
            }
        }
        if end < start {
            return Err(PeriodError::BoundsReversed { start, end });
        }
        if start == end || (start.day() == 1 && is_last_of_month(end)) {
            Ok(Self { start, end })
        } else {
            Err(PeriodError::NotAPeriod { start, end })
        }
    }

    /// The first day of the period.
    pub fn start(self) -> NaiveDate {
        self.start
    }

    /// The last day of the period.
    pub fn end(self) -> NaiveDate {
        self.end
    }

    /// Whether the period is a single day.
    pub fn is_instant(self) -> bool {
        self.start == self.end
    }

    /// How long the period is: a day, or its number of months (`2024` is 12, `2024-Q3` 3,
    /// `2025-01/2025-05` 5, `2024-11/2025-02` 4).
    pub fn length(self) -> PeriodLength {
        if self.is_instant() {
            return PeriodLength::Day;
        }
        let months = i64::from(self.end.year() - self.start.year()) * 12
            + i64::from(self.end.month())
            - i64::from(self.start.month())
            + 1;
        PeriodLength::Months(u32::try_from(months).unwrap_or(0))
    }

    /// The same period one year before, or `None` before year 0000.
    ///
    /// Month ends are kept as month ends, so that a stock on the last day of February is
    /// compared with the last day of February: `2024-02` → `2023-02` (to the 28th),
    /// `2024-02-29` → `2023-02-28`, `2025-02-28` → `2024-02-29`. Other days keep their
    /// number (`2024-02-28` → `2023-02-28`). Hence
    /// `t.period(p).year_earlier() == p.year_earlier().map(|e| t.period(e))` for a [`Timing`](crate::Timing) `t`.
    pub fn year_earlier(self) -> Option<Period> {
        let shift = |date: NaiveDate| -> Option<NaiveDate> {
            let year = date
                .year()
                .checked_sub(1)
                .filter(|year| YEARS.contains(year))?;
            if is_last_of_month(date) {
                last_of_month(year, date.month())
            } else {
                NaiveDate::from_ymd_opt(year, date.month(), date.day())
            }
        };
        Some(Self {
            start: shift(self.start)?,
            end: shift(self.end)?,
        })
    }

    /// Whether the period runs from 1 January to a day before 31 December of the same year,
    /// and is more than one day: "the first 5 months of 2025", `2025-H1`, `2025-Q1`.
    pub fn is_year_to_date(self) -> bool {
        self.start.month() == 1
            && self.start.day() == 1
            && !self.is_instant()
            && self.end.year() == self.start.year()
            && !(self.end.month() == 12 && self.end.day() == 31)
    }

    /// Whether `date` lies within the period.
    pub fn contains_date(self, date: NaiveDate) -> bool {
        self.start <= date && date <= self.end
    }

    /// Whether every day of `other` lies within this period.
    pub fn covers(self, other: &Period) -> bool {
        self.start <= other.start && other.end <= self.end
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_instant() {
            let day = self.start;
            return write!(f, "{:04}-{:02}-{:02}", day.year(), day.month(), day.day());
        }
        let year = self.start.year();
        if self.end.year() != year {
            return write!(
                f,
                "{:04}-{:02}/{:04}-{:02}",
                year,
                self.start.month(),
                self.end.year(),
                self.end.month()
            );
        }
        match (self.start.month(), self.end.month()) {
            (1, 12) => write!(f, "{year:04}"),
            (1, 6) => write!(f, "{year:04}-H1"),
            (7, 12) => write!(f, "{year:04}-H2"),
            (first, last) if first % 3 == 1 && last == first + 2 => {
                write!(f, "{year:04}-Q{}", last / 3)
            }
            (first, last) if first == last => write!(f, "{year:04}-{first:02}"),
            (first, last) => write!(f, "{year:04}-{first:02}/{year:04}-{last:02}"),
        }
    }
}

impl FromStr for Period {
    type Err = PeriodError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

/// Reads an ISO date `YYYY-MM-DD` (four-digit year, two-digit month and day), ignoring
/// surrounding whitespace.
pub fn parse_date(text: &str) -> Result<NaiveDate, PeriodError> {
    let invalid = || PeriodError::InvalidDate {
        text: text.to_owned(),
    };
    let mut parts = text.trim().split('-');
    let (Some(year), Some(month), Some(day), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid());
    };
    let year = four_digit_year(year).ok_or_else(invalid)?;
    parse_day(year, month, day, text)?.ok_or_else(invalid)
}

/// Why a text or a pair of dates is not a period (or a text not a date).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PeriodError {
    /// Nothing but whitespace was given.
    #[error("period is empty; use {FORMS}")]
    Empty,
    /// The text matches none of the forms.
    #[error("period {text:?} is not in a recognised form; use {FORMS}")]
    Unrecognized {
        /// The text as given.
        text: String,
    },
    /// A month number outside 01..=12.
    #[error("month {month} in {text:?} does not exist; months are 01 to 12")]
    MonthOutOfRange {
        /// The text as given.
        text: String,
        /// The month number read.
        month: u32,
    },
    /// A quarter number outside 1..=4.
    #[error("quarter Q{quarter} in {text:?} does not exist; quarters are Q1 to Q4")]
    QuarterOutOfRange {
        /// The text as given.
        text: String,
        /// The quarter number read.
        quarter: u8,
    },
    /// A half number other than 1 or 2.
    #[error("half H{half} in {text:?} does not exist; halves are H1 and H2")]
    HalfOutOfRange {
        /// The text as given.
        text: String,
        /// The half number read.
        half: u8,
    },
    /// A day number the month does not have.
    #[error("day {day} in {text:?} does not exist; {year:04}-{month:02} has {days} days")]
    DayOutOfRange {
        /// The text as given.
        text: String,
        /// The year read.
        year: i32,
        /// The month read.
        month: u32,
        /// The day number read.
        day: u32,
        /// How many days that month has.
        days: u32,
    },
    /// A month range whose last month is before its first.
    #[error(
        "month range {text:?} ends before it starts; write the earlier month first ({swapped})"
    )]
    RangeReversed {
        /// The text as given.
        text: String,
        /// The range with its ends swapped.
        swapped: String,
    },
    /// A range whose ends are not both months.
    #[error(
        "period {text:?} is not a month range; a range joins two months, such as 2025-01/2025-05"
    )]
    RangeOfNonMonths {
        /// The text as given.
        text: String,
    },
    /// Bounds whose end is before their start.
    #[error("period bounds {start}..{end} end before they start")]
    BoundsReversed {
        /// The first day given.
        start: NaiveDate,
        /// The last day given.
        end: NaiveDate,
    },
    /// Bounds that no period form can express.
    #[error(
        "period bounds {start}..{end} are not a period; a period is a single day, or runs from the first day of a month to the last day of a month"
    )]
    NotAPeriod {
        /// The first day given.
        start: NaiveDate,
        /// The last day given.
        end: NaiveDate,
    },
    /// A bound outside the years four digits can write.
    #[error("date {date} is outside the years 0000 to 9999 that a period can be written in")]
    YearOutOfRange {
        /// The offending bound.
        date: NaiveDate,
    },
    /// A text that is not an ISO date.
    #[error("date {text:?} is not an ISO date; use YYYY-MM-DD, e.g. 2024-12-31")]
    InvalidDate {
        /// The text as given.
        text: String,
    },
}

/// Reads exactly four ASCII digits.
fn four_digit_year(text: &str) -> Option<i32> {
    digits(text, 4).and_then(|year| i32::try_from(year).ok())
}

/// Reads exactly `count` ASCII digits (`str::parse` alone would also take `+5`).
fn digits(text: &str, count: usize) -> Option<u32> {
    if text.len() == count && text.bytes().all(|byte| byte.is_ascii_digit()) {
        text.parse().ok()
    } else {
        None
    }
}

/// Reads a two-digit month: `Ok(None)` if the text is not two digits, an error if it is
/// two digits that name no month.
fn parse_month(text: &str, whole: &str) -> Result<Option<u32>, PeriodError> {
    match digits(text, 2) {
        Some(month @ 1..=12) => Ok(Some(month)),
        Some(month) => Err(PeriodError::MonthOutOfRange {
            text: whole.to_owned(),
            month,
        }),
        None => Ok(None),
    }
}

/// Reads `YYYY-MM` (one end of a month range).
fn parse_year_month(text: &str, whole: &str) -> Result<Option<(i32, u32)>, PeriodError> {
    let Some((year, month)) = text.trim().split_once('-') else {
        return Ok(None);
    };
    let Some(year) = four_digit_year(year) else {
        return Ok(None);
    };
    Ok(parse_month(month, whole)?.map(|month| (year, month)))
}

/// Reads the `MM` and `DD` of a date in `year`.
fn parse_day(
    year: i32,
    month: &str,
    day: &str,
    whole: &str,
) -> Result<Option<NaiveDate>, PeriodError> {
    let Some(month) = parse_month(month, whole)? else {
        return Ok(None);
    };
    let Some(day) = digits(day, 2) else {
        return Ok(None);
    };
    let days = days_in_month(year, month);
    if !(1..=days).contains(&day) {
        return Err(PeriodError::DayOutOfRange {
            text: whole.to_owned(),
            year,
            month,
            day,
            days,
        });
    }
    Ok(NaiveDate::from_ymd_opt(year, month, day))
}

fn first_of_month(year: i32, month: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, month, 1)
}

fn last_of_month(year: i32, month: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, month, days_in_month(year, month))
}

fn is_last_of_month(date: NaiveDate) -> bool {
    date.day() == days_in_month(date.year(), date.month())
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn is_leap_year(year: i32) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Timing;
    use crate::fixtures::{date, period};

    /// Text, first day, last day, canonical display.
    const FORMS_TABLE: &[(&str, &str, &str, &str)] = &[
        ("2024", "2024-01-01", "2024-12-31", "2024"),
        ("2024-H1", "2024-01-01", "2024-06-30", "2024-H1"),
        ("2024-H2", "2024-07-01", "2024-12-31", "2024-H2"),
        ("2024-Q1", "2024-01-01", "2024-03-31", "2024-Q1"),
        ("2024-Q2", "2024-04-01", "2024-06-30", "2024-Q2"),
        ("2024-Q3", "2024-07-01", "2024-09-30", "2024-Q3"),
        ("2024-Q4", "2024-10-01", "2024-12-31", "2024-Q4"),
        ("2024-05", "2024-05-01", "2024-05-31", "2024-05"),
        ("2024-02", "2024-02-01", "2024-02-29", "2024-02"),
        ("2025-02", "2025-02-01", "2025-02-28", "2025-02"),
        (
            "2025-01/2025-05",
            "2025-01-01",
            "2025-05-31",
            "2025-01/2025-05",
        ),
        (
            "2024-11/2025-02",
            "2024-11-01",
            "2025-02-28",
            "2024-11/2025-02",
        ),
        ("2024-12-31", "2024-12-31", "2024-12-31", "2024-12-31"),
        ("2024-02-29", "2024-02-29", "2024-02-29", "2024-02-29"),
    ];

    #[test]
    fn every_form_parses_to_its_bounds_and_displays_canonically() {
        for &(text, start, end, display) in FORMS_TABLE {
            let parsed = period(text);
            assert_eq!(parsed.start(), date(start), "{text}");
            assert_eq!(parsed.end(), date(end), "{text}");
            assert_eq!(parsed.to_string(), display, "{text}");
            assert_eq!(period(display), parsed, "{text} round trip");
            assert_eq!(text.parse::<Period>(), Ok(parsed));
        }
    }

    #[test]
    fn month_ranges_display_as_the_most_specific_form() {
        let cases = [
            ("2024-01/2024-12", "2024"),
            ("2024-01/2024-06", "2024-H1"),
            ("2024-07/2024-12", "2024-H2"),
            ("2024-07/2024-09", "2024-Q3"),
            ("2024-05/2024-05", "2024-05"),
            ("2024-02/2024-04", "2024-02/2024-04"),
            ("2024-01/2025-12", "2024-01/2025-12"),
        ];
        for (text, display) in cases {
            let parsed = period(text);
            assert_eq!(parsed.to_string(), display, "{text}");
            assert_eq!(parsed, period(display), "{text}");
        }
    }

    #[test]
    fn parse_tolerates_surrounding_space_and_lower_case_letters() {
        assert_eq!(period(" 2024 "), period("2024"));
        assert_eq!(period("2024-h1"), period("2024-H1"));
        assert_eq!(period("2024-q3"), period("2024-Q3"));
        assert_eq!(period("2025-01 / 2025-05"), period("2025-01/2025-05"));
    }

    #[test]
    fn parse_rejects_months_that_do_not_exist() {
        for (text, month) in [("2024-13", 13), ("2024-00", 0), ("2024-13-01", 13)] {
            assert_eq!(
                Period::parse(text),
                Err(PeriodError::MonthOutOfRange {
                    text: text.to_owned(),
                    month
                }),
                "{text}"
            );
        }
        assert!(matches!(
            Period::parse("2025-01/2025-13"),
            Err(PeriodError::MonthOutOfRange { month: 13, .. })
        ));
        let message = Period::parse("2024-13").unwrap_err().to_string();
        assert_eq!(
            message,
            r#"month 13 in "2024-13" does not exist; months are 01 to 12"#
        );
    }

    #[test]
    fn parse_rejects_quarters_and_halves_that_do_not_exist() {
        assert_eq!(
            Period::parse("2024-Q5"),
            Err(PeriodError::QuarterOutOfRange {
                text: "2024-Q5".to_owned(),
                quarter: 5
            })
        );
        assert!(matches!(
            Period::parse("2024-Q0"),
            Err(PeriodError::QuarterOutOfRange { quarter: 0, .. })
        ));
        assert_eq!(
            Period::parse("2024-H3"),
            Err(PeriodError::HalfOutOfRange {
                text: "2024-H3".to_owned(),
                half: 3
            })
        );
        assert!(matches!(
            Period::parse("2024-H0"),
            Err(PeriodError::HalfOutOfRange { half: 0, .. })
        ));
    }

    #[test]
    fn parse_rejects_days_that_do_not_exist() {
        assert_eq!(
            Period::parse("2024-02-30"),
            Err(PeriodError::DayOutOfRange {
                text: "2024-02-30".to_owned(),
                year: 2024,
                month: 2,
                day: 30,
                days: 29
            })
        );
        assert!(matches!(
            Period::parse("2025-02-29"),
            Err(PeriodError::DayOutOfRange { days: 28, .. })
        ));
        assert!(matches!(
            Period::parse("2024-04-31"),
            Err(PeriodError::DayOutOfRange { days: 30, .. })
        ));
        assert!(matches!(
            Period::parse("2024-01-00"),
            Err(PeriodError::DayOutOfRange { day: 0, .. })
        ));
        let message = Period::parse("2024-02-30").unwrap_err().to_string();
        assert!(message.contains("2024-02 has 29 days"), "{message}");
    }

    #[test]
    fn parse_rejects_a_range_that_runs_backwards() {
        let error = Period::parse("2025-05/2025-01").unwrap_err();
        assert_eq!(
            error,
            PeriodError::RangeReversed {
                text: "2025-05/2025-01".to_owned(),
                swapped: "2025-01/2025-05".to_owned()
            }
        );
        assert!(error.to_string().contains("(2025-01/2025-05)"));
        assert!(Period::parse("2025-01/2024-12").is_err());
    }

    #[test]
    fn parse_rejects_ranges_of_anything_but_months() {
        for text in [
            "2024/2025",
            "2024-Q1/2024-Q2",
            "2024-01-01/2024-03-31",
            "2024-01/",
            "/2024-01",
            "2024-01/2024-02/2024-03",
        ] {
            assert_eq!(
                Period::parse(text),
                Err(PeriodError::RangeOfNonMonths {
                    text: text.to_owned()
                }),
                "{text}"
            );
        }
    }

    #[test]
    fn parse_rejects_garbage() {
        for text in [
            "garbage",
            "24",
            "20245",
            "2024-5",
            "2024-005",
            "2024-",
            "-2024",
            "2024-Q",
            "2024-Q10",
            "2024-H",
            "2024-S1",
            "2024-05-1",
            "2024-05-01-01",
            "+2024",
            "２０２４",
            "2024 05",
            "May 2024",
        ] {
            assert_eq!(
                Period::parse(text),
                Err(PeriodError::Unrecognized {
                    text: text.to_owned()
                }),
                "{text}"
            );
        }
        assert_eq!(Period::parse(""), Err(PeriodError::Empty));
        assert_eq!(Period::parse("  "), Err(PeriodError::Empty));
        let message = Period::parse("garbage").unwrap_err().to_string();
        assert!(message.contains("2025-01/2025-05 (months)"), "{message}");
    }

    #[test]
    fn instant_is_a_single_day() {
        let day = Period::instant(date("2024-12-31"));
        assert!(day.is_instant());
        assert_eq!(day.start(), day.end());
        assert_eq!(day, period("2024-12-31"));
        assert!(!period("2024-12").is_instant());
    }

    #[test]
    fn from_bounds_accepts_what_a_form_can_express() {
        let cases = [
            ("2024-01-01", "2024-12-31", "2024"),
            ("2024-04-01", "2024-06-30", "2024-Q2"),
            ("2025-01-01", "2025-05-31", "2025-01/2025-05"),
            ("2024-12-31", "2024-12-31", "2024-12-31"),
            ("2024-03-15", "2024-03-15", "2024-03-15"),
        ];
        for (start, end, display) in cases {
            let built = Period::from_bounds(date(start), date(end)).unwrap();
            assert_eq!(built.to_string(), display);
            assert_eq!(built, period(display));
        }
    }

    #[test]
    fn from_bounds_rejects_what_no_form_can_express() {
        for (start, end) in [
            ("2024-01-05", "2024-02-10"),
            ("2024-01-01", "2024-02-28"),
            ("2024-01-02", "2024-01-31"),
            ("2024-12-30", "2024-12-31"),
        ] {
            assert_eq!(
                Period::from_bounds(date(start), date(end)),
                Err(PeriodError::NotAPeriod {
                    start: date(start),
                    end: date(end)
                })
            );
        }
        assert_eq!(
            Period::from_bounds(date("2024-12-31"), date("2024-01-01")),
            Err(PeriodError::BoundsReversed {
                start: date("2024-12-31"),
                end: date("2024-01-01")
            })
        );
        let far = NaiveDate::from_ymd_opt(10000, 1, 1).unwrap();
        assert_eq!(
            Period::from_bounds(far, far),
            Err(PeriodError::YearOutOfRange { date: far })
        );
    }

    #[test]
    fn year_earlier_shifts_every_form() {
        let cases = [
            ("2024", "2023"),
            ("2025-H1", "2024-H1"),
            ("2024-Q3", "2023-Q3"),
            ("2024-05", "2023-05"),
            ("2025-01/2025-05", "2024-01/2024-05"),
            ("2024-11/2025-02", "2023-11/2024-02"),
            ("2024-12-31", "2023-12-31"),
            ("2024-03-15", "2023-03-15"),
        ];
        for (text, earlier) in cases {
            assert_eq!(period(text).year_earlier(), Some(period(earlier)), "{text}");
        }
    }

    #[test]
    fn year_earlier_respects_month_ends_and_leap_days() {
        let cases = [
            ("2024-02-29", "2023-02-28"),
            ("2025-02-28", "2024-02-29"),
            ("2024-02-28", "2023-02-28"),
            ("2024-02", "2023-02"),
            ("2025-02", "2024-02"),
        ];
        for (text, earlier) in cases {
            assert_eq!(period(text).year_earlier(), Some(period(earlier)), "{text}");
        }
        assert_eq!(
            period("2024-02").year_earlier().unwrap().end(),
            date("2023-02-28")
        );
        assert_eq!(
            period("2025-02").year_earlier().unwrap().end(),
            date("2024-02-29")
        );
    }

    #[test]
    fn year_earlier_commutes_with_the_stock_instant() {
        for text in [
            "2024-02",
            "2025-02",
            "2025-01/2025-05",
            "2024",
            "2023-11/2024-02",
        ] {
            let reported = period(text);
            assert_eq!(
                Timing::Instant.period(reported).year_earlier(),
                reported
                    .year_earlier()
                    .map(|earlier| Timing::Instant.period(earlier)),
                "{text}"
            );
        }
    }

    #[test]
    fn year_earlier_stops_at_year_zero() {
        assert_eq!(period("0000").year_earlier(), None);
        assert_eq!(period("0001").year_earlier(), Some(period("0000")));
    }

    #[test]
    fn year_to_date() {
        for text in [
            "2025-01/2025-05",
            "2025-H1",
            "2025-Q1",
            "2025-01",
            "2025-01/2025-11",
        ] {
            assert!(period(text).is_year_to_date(), "{text}");
        }
        for text in [
            "2025",
            "2025-01/2025-12",
            "2025-02/2025-05",
            "2025-H2",
            "2025-Q2",
            "2025-01-01",
            "2025-05-31",
            "2024-01/2025-05",
        ] {
            assert!(!period(text).is_year_to_date(), "{text}");
        }
    }

    #[test]
    fn contains_date_is_inclusive() {
        let quarter = period("2024-Q3");
        assert!(quarter.contains_date(date("2024-07-01")));
        assert!(quarter.contains_date(date("2024-09-30")));
        assert!(!quarter.contains_date(date("2024-06-30")));
        assert!(!quarter.contains_date(date("2024-10-01")));
    }

    #[test]
    fn covers_requires_every_day() {
        let year = period("2024");
        assert!(year.covers(&period("2024-Q3")));
        assert!(year.covers(&period("2024-12-31")));
        assert!(year.covers(&year));
        assert!(!year.covers(&period("2024-11/2025-02")));
        assert!(!period("2024-Q3").covers(&year));
    }

    #[test]
    fn a_period_is_a_day_or_a_number_of_months() {
        let cases = [
            ("2024", PeriodLength::Months(12)),
            ("2024-H2", PeriodLength::Months(6)),
            ("2024-Q3", PeriodLength::Months(3)),
            ("2024-02", PeriodLength::Months(1)),
            ("2025-01/2025-05", PeriodLength::Months(5)),
            ("2024-11/2025-02", PeriodLength::Months(4)),
            ("2024-07/2025-06", PeriodLength::Months(12)),
            ("2024-12-31", PeriodLength::Day),
        ];
        for (text, length) in cases {
            assert_eq!(period(text).length(), length, "{text}");
        }
        assert_eq!(period("2024-02").length(), period("2024-03").length());
        assert_ne!(period("2023-Q1").length(), period("2023").length());
        assert_eq!(PeriodLength::Months(7).to_string(), "7 months");
        assert_eq!(PeriodLength::Months(1).to_string(), "1 month");
        assert_eq!(PeriodLength::Day.to_string(), "1 day");
    }

    #[test]
    fn periods_order_by_start_then_end() {
        assert!(period("2024-01") < period("2024"));
        assert!(period("2024") < period("2024-02"));
    }

    #[test]
    fn parse_date_reads_iso_dates_only() {
        assert_eq!(parse_date("2024-12-31"), Ok(date("2024-12-31")));
        assert_eq!(parse_date(" 2008-08-01 "), Ok(date("2008-08-01")));
        for text in [
            "2024-12",
            "2024",
            "31/12/2024",
            "2024-1-01",
            "2024-12-31T00:00",
            "",
        ] {
            assert_eq!(
                parse_date(text),
                Err(PeriodError::InvalidDate {
                    text: text.to_owned()
                }),
                "{text}"
            );
        }
        assert!(matches!(
            parse_date("2024-02-30"),
            Err(PeriodError::DayOutOfRange { .. })
        ));
        assert!(matches!(
            parse_date("2024-13-01"),
            Err(PeriodError::MonthOutOfRange { .. })
        ));
    }
}
