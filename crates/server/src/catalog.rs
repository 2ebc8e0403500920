//! The indicator catalog as the server reads it: the model's [`Catalog`] (which knows each
//! indicator's timing) with the stored row ids, loaded once per cache generation, and the
//! [`Subject`] of a question: an indicator with, for a ratio, its parts, and how figures of
//! them are read (which stored period a question's period means, what each region reported).

use std::collections::BTreeMap;
use std::sync::Arc;

use ansinh_model::{
    Catalog, Decimal, IndicatorCode, IndicatorKind, Period, Quantity, Reported, RollUpError,
    Timing, roll_up,
};
use ansinh_store::AsyncMysqlConnection;
use ansinh_store::queries::{self, Figure, IndicatorRecord};

use crate::cache::Generation;
use crate::error::ApiError;

/// The catalog as stored, with row ids, checked as a whole so that timing is known.
pub(crate) struct CatalogView {
    catalog: Catalog,
    by_code: BTreeMap<String, IndicatorRecord>,
}

/// The catalog of `generation`, else read now.
pub(crate) async fn catalog(
    generation: Option<&Generation>,
    conn: &mut AsyncMysqlConnection,
) -> Result<Arc<CatalogView>, ApiError> {
    match generation {
        Some(generation) => generation.catalog(conn).await,
        None => CatalogView::load(conn).await.map(Arc::new),
    }
}

impl CatalogView {
    pub(crate) async fn load(conn: &mut AsyncMysqlConnection) -> Result<Self, ApiError> {
        let records = queries::list_indicators(conn).await?;
        let catalog = Catalog::new(records.iter().map(|record| record.indicator.clone()))
            .map_err(|error| ApiError::Internal(Box::new(error)))?;
        let by_code = records
            .into_iter()
            .map(|record| (record.indicator.code.to_string(), record))
            .collect();
        Ok(Self { catalog, by_code })
    }

    /// Every indicator, ordered by code.
    pub(crate) fn records(&self) -> impl Iterator<Item = &IndicatorRecord> {
        self.by_code.values()
    }

    pub(crate) fn record(&self, code: &str) -> Option<&IndicatorRecord> {
        self.by_code.get(code)
    }

    /// The indicator `code` with its ratio parts, or NOT_FOUND.
    pub(crate) fn subject(&self, code: &IndicatorCode) -> Result<Subject<'_>, ApiError> {
        let record = self
            .record(code.as_str())
            .ok_or_else(|| unknown_indicator(code))?;
        Ok(self.subject_of(record))
    }

    pub(crate) fn subject_of<'a>(&'a self, record: &'a IndicatorRecord) -> Subject<'a> {
        let part = |code: &Option<IndicatorCode>| {
            code.as_ref().and_then(|code| self.record(code.as_str()))
        };
        Subject {
            record,
            timing: self.catalog.timing(&record.indicator),
            numerator: part(&record.indicator.numerator),
            denominator: part(&record.indicator.denominator),
        }
    }
}

pub(crate) fn unknown_indicator(code: &impl std::fmt::Display) -> ApiError {
    ApiError::NotFound(format!(
        "no indicator with code {code} in the catalog; IndicatorService.ListIndicators lists them"
    ))
}

/// An indicator and, for a ratio, its parts: the figures a question about it needs.
#[derive(Clone, Copy)]
pub(crate) struct Subject<'a> {
    pub(crate) record: &'a IndicatorRecord,
    pub(crate) timing: Timing,
    pub(crate) numerator: Option<&'a IndicatorRecord>,
    pub(crate) denominator: Option<&'a IndicatorRecord>,
}

impl Subject<'_> {
    pub(crate) fn kind(&self) -> IndicatorKind {
        self.record.indicator.kind
    }

    pub(crate) fn code(&self) -> &IndicatorCode {
        &self.record.indicator.code
    }

    /// The ids of the indicator and its parts.
    pub(crate) fn indicator_ids(&self) -> Vec<u32> {
        [Some(self.record), self.numerator, self.denominator]
            .into_iter()
            .flatten()
            .map(|record| record.id)
            .collect()
    }

    /// The period a figure for `period` is stored under.
    pub(crate) fn stored_period(&self, period: Period) -> Period {
        self.timing.period(period)
    }

    /// What each region reported for each stored period, from `figures` of the indicator and
    /// its parts. A level stored once with a whole-year start and once as an instant is one
    /// figure; the instant, read last in key order, wins.
    pub(crate) fn reported(&self, figures: &[Figure]) -> BTreeMap<(u32, Period), Reported> {
        let mut reported: BTreeMap<(u32, Period), Reported> = BTreeMap::new();
        for figure in figures {
            let entry = reported
                .entry((figure.region_id, self.stored_period(figure.period)))
                .or_default();
            if figure.indicator_id == self.record.id {
                entry.value = Some(figure.value);
            } else if self.numerator.is_some_and(|n| n.id == figure.indicator_id) {
                entry.numerator = Some(figure.value);
            } else if self
                .denominator
                .is_some_and(|d| d.id == figure.indicator_id)
            {
                entry.denominator = Some(figure.value);
            }
        }
        reported
    }

    /// The share `weight` of a divided region's figure that goes with one of its parts.
    pub(crate) fn apportion(
        &self,
        reported: Reported,
        weight: Decimal,
    ) -> Result<Reported, RollUpError> {
        reported.apportioned(self.kind(), weight)
    }

    /// One region's own figure: its value, or for a ratio without one, the rate of its parts.
    pub(crate) fn own_value(&self, reported: Reported) -> Option<Quantity> {
        roll_up(self.kind(), [((), reported)])
            .ok()
            .and_then(|figure| figure.value)
    }

    /// The roll-up error as the caller's problem with this indicator.
    pub(crate) fn roll_up_error(&self, error: RollUpError) -> ApiError {
        let kind = match error {
            RollUpError::NotCombinable { .. } => "INDICATOR_KIND",
            RollUpError::ZeroDenominator { .. } => "ZERO_DENOMINATOR",
            RollUpError::Value(_) => "VALUE_OUT_OF_RANGE",
        };
        ApiError::FailedPrecondition {
            kind,
            subject: format!("indicators/{}", self.code()),
            description: format!("{} ({}): {error}", self.code(), self.kind()),
        }
    }
}
