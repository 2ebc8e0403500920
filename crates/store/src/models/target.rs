//! Rows of `targets`.

use chrono::NaiveDate;
use diesel::prelude::*;
use rust_decimal::Decimal;

use crate::decimal::SqlDecimal;
use crate::schema::targets;

/// A plan figure, keyed like an observation.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = targets, check_for_backend(diesel::mysql::Mysql))]
pub struct TargetRow {
    pub region_id: u32,
    pub indicator_id: u32,
    pub period_end: NaiveDate,
    pub period_start: NaiveDate,
    #[diesel(deserialize_as = SqlDecimal)]
    pub target: Decimal,
    pub source_id: Option<u32>,
    pub import_run_id: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Insertable)]
#[diesel(table_name = targets)]
pub struct NewTarget {
    pub region_id: u32,
    pub indicator_id: u32,
    pub period_end: NaiveDate,
    pub period_start: NaiveDate,
    #[diesel(serialize_as = SqlDecimal)]
    pub target: Decimal,
    pub source_id: Option<u32>,
    pub import_run_id: u64,
}
