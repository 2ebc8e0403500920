//! Rows of `observations` and `observation_history`.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use rust_decimal::Decimal;

use crate::decimal::SqlDecimal;
use crate::schema::{observation_history, observations};

/// One figure as stored. For a stock, `period_start == period_end` (the instant).
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = observations, check_for_backend(diesel::mysql::Mysql))]
pub struct ObservationRow {
    pub region_id: u32,
    pub indicator_id: u32,
    pub period_end: NaiveDate,
    pub period_start: NaiveDate,
    #[diesel(deserialize_as = SqlDecimal)]
    pub value: Decimal,
    /// `model::Qualifier::code`.
    pub qualifier: u8,
    pub source_id: Option<u32>,
    pub note: Option<String>,
    pub import_run_id: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Insertable)]
#[diesel(table_name = observations)]
pub struct NewObservation<'a> {
    pub region_id: u32,
    pub indicator_id: u32,
    pub period_end: NaiveDate,
    pub period_start: NaiveDate,
    #[diesel(serialize_as = SqlDecimal)]
    pub value: Decimal,
    pub qualifier: u8,
    pub source_id: Option<u32>,
    pub note: Option<&'a str>,
    pub import_run_id: u64,
}

/// A value an import replaced: what it was, which run set it, which run replaced it, when.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = observation_history, check_for_backend(diesel::mysql::Mysql))]
pub struct ObservationHistoryRow {
    pub id: u64,
    pub region_id: u32,
    pub indicator_id: u32,
    pub period_end: NaiveDate,
    pub period_start: NaiveDate,
    #[diesel(deserialize_as = SqlDecimal)]
    pub value: Decimal,
    pub qualifier: u8,
    pub source_id: Option<u32>,
    pub note: Option<String>,
    pub set_by_run_id: u64,
    pub replaced_by_run_id: u64,
    pub replaced_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Insertable)]
#[diesel(table_name = observation_history)]
pub struct NewObservationHistory<'a> {
    pub region_id: u32,
    pub indicator_id: u32,
    pub period_end: NaiveDate,
    pub period_start: NaiveDate,
    #[diesel(serialize_as = SqlDecimal)]
    pub value: Decimal,
    pub qualifier: u8,
    pub source_id: Option<u32>,
    pub note: Option<&'a str>,
    pub set_by_run_id: u64,
    pub replaced_by_run_id: u64,
    pub replaced_at: NaiveDateTime,
}
