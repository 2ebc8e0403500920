//! Rows of `indicators`.

use ansinh_model::Indicator;
use diesel::prelude::*;

use crate::schema::indicators;

/// One catalog entry as stored; a ratio's parts are ids (see `queries::indicators` for the
/// entry with their codes).
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = indicators, check_for_backend(diesel::mysql::Mysql))]
pub struct IndicatorRow {
    pub id: u32,
    pub code: String,
    pub name: String,
    pub name_vi: Option<String>,
    /// `model::Unit::as_str`.
    pub unit: String,
    /// `model::IndicatorKind::as_str`.
    pub kind: String,
    pub numerator_id: Option<u32>,
    pub denominator_id: Option<u32>,
    pub description: Option<String>,
}

/// A catalog entry to insert. The ratio parts are set separately once every entry has an id
/// (a catalog may list a ratio before its parts).
#[derive(Debug, Clone, PartialEq, Eq, Insertable)]
#[diesel(table_name = indicators)]
pub struct NewIndicator<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub name_vi: Option<&'a str>,
    pub unit: &'a str,
    pub kind: &'a str,
    pub numerator_id: Option<u32>,
    pub denominator_id: Option<u32>,
    pub description: Option<&'a str>,
}

impl<'a> NewIndicator<'a> {
    /// The row for `indicator` with its ratio parts left unset.
    pub fn without_parts(indicator: &'a Indicator) -> Self {
        Self {
            code: indicator.code.as_str(),
            name: &indicator.name,
            name_vi: indicator.name_vi.as_deref(),
            unit: indicator.unit.as_str(),
            kind: indicator.kind.as_str(),
            numerator_id: None,
            denominator_id: None,
            description: indicator.description.as_deref(),
        }
    }
}
