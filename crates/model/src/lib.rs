//! The ansinh domain vocabulary: regions and their versions, periods, indicators and their
//! units, qualified exact values, number text in the declared locales, and name folding for
//! search; and the statistics the service answers with: changes, target attainment, roll-ups
//! and merged-boundary series, rankings, under one rounding policy. Every domain rule of the
//! data contract that needs no database lives here, once, as pure Rust without I/O, so the
//! store, importer, proto and server agree by construction. Errors are `thiserror` enums whose
//! messages say what was wrong, why, and what would be accepted; they reach users verbatim
//! after a `FILE:LINE:COLUMN: ` prefix.

mod attainment;
mod catalog;
mod change;
#[cfg(any(test, feature = "fixtures"))]
pub mod fixtures;
mod indicator;
mod keyword;
mod lineage;
mod name;
mod number;
mod period;
mod ranking;
mod region;
mod rollup;
mod rounding;
mod unit;
mod value;

pub use chrono::NaiveDate;
pub use rust_decimal::Decimal;

pub use attainment::{
    Attainment, AttainmentStatus, RatioParts, Shortfall, applicable_target, target_period,
};
pub use catalog::{Catalog, CatalogError, Timing};
pub use change::{
    Change, ChangeAbsence, ChangeUnit, SeriesPoint, series_changes, series_changes_in,
};
pub use indicator::{Indicator, IndicatorCode, IndicatorCodeError, IndicatorError, IndicatorKind};
pub use keyword::ParseKeywordError;
pub use lineage::{Conversion, LineageGraph, LineageLink};
pub use name::fold_name;
pub use number::{NumberError, NumberErrorKind, NumberLocale, parse_number, thousands};
pub use period::{Period, PeriodError, PeriodLength, parse_date};
pub use ranking::{Ranked, rank};
pub use region::{
    LineageKind, Region, RegionCode, RegionCodeError, RegionError, RegionLevel, Validity,
    ValidityError,
};
pub use rollup::{Combined, Reported, RollUp, RollUpError, combine_constituents, roll_up};
pub use rounding::{PERCENT_DECIMAL_PLACES, PERCENT_ROUNDING, percent_of, round_percent};
pub use unit::{InputUnit, Unit, ValueError};
pub use value::{Qualifier, Quantity, format_decimal};
