//! GetObservationHistory: every version of one figure, newest first, as the import ledger
//! recorded it: what a province sent first, and what later runs replaced it with.

use ansinh_model::{IndicatorCode, Period, RegionCode};
use ansinh_proto::{
    convert::{self, decimal_text, timestamp_text},
    pb,
};
use ansinh_store::queries;

use super::Statistics;
use super::regions::{region_message, versions_of};
use crate::catalog::catalog;
use crate::error::{ApiError, Violations};

/// A GetObservationHistory request, read.
pub(super) struct HistoryQuery {
    code: RegionCode,
    indicator_code: IndicatorCode,
    period: Period,
}

impl HistoryQuery {
    pub(super) fn read(request: &pb::GetObservationHistoryRequest) -> Result<Self, ApiError> {
        let mut violations = Violations::default();
        let code = violations.region_code("region_code", &request.region_code);
        let indicator_code = violations.indicator_code("indicator_code", &request.indicator_code);
        let period = violations.period("period", &request.period);
        violations.finish_with(|| {
            Some(Self {
                code: code?,
                indicator_code: indicator_code?,
                period: period?,
            })
        })
    }
}

impl Statistics {
    /// The versions of the figure, newest first; NOT_FOUND when none was ever imported.
    pub(super) async fn history(
        &self,
        query: HistoryQuery,
    ) -> Result<pb::GetObservationHistoryResponse, ApiError> {
        let generation = self.cache.generation(&self.db).await;
        let mut conn = self.db.conn().await?;
        let catalog = catalog(generation.as_deref(), &mut conn).await?;
        let subject = catalog.subject(&query.indicator_code)?;
        let stored = subject.stored_period(query.period);
        let versions = versions_of(&mut conn, std::slice::from_ref(&query.code)).await?;
        let region = versions
            .values()
            .flatten()
            .find(|record| record.region.validity.contains(stored.end()))
            .ok_or_else(|| ApiError::not_valid(&query.code, stored.end()))?;
        let found =
            queries::observation_versions(&mut conn, region.id, subject.record.id, stored).await?;
        drop(conn);
        if found.is_empty() {
            return Err(ApiError::NotFound(format!(
                "no figure of {} for {} {stored} was ever imported",
                query.indicator_code, query.code
            )));
        }
        let unit = pb::Unit::from(subject.record.indicator.unit);
        Ok(pb::GetObservationHistoryResponse {
            region: region_message(region),
            indicator: Some(pb::Indicator::from(&subject.record.indicator)),
            period: Some(pb::Period::from(stored)),
            versions: found
                .into_iter()
                .map(|version| pb::ObservationVersion {
                    value: decimal_text(version.value.value),
                    qualifier: convert::qualifier(version.value.qualifier),
                    unit: unit.into(),
                    source: version.source.unwrap_or_default(),
                    note: version.note.unwrap_or_default(),
                    set_by_run_id: version.set_by_run_id.to_string(),
                    set_at: version.set_at.map(timestamp_text).unwrap_or_default(),
                    replaced_by_run_id: version
                        .replaced_by_run_id
                        .map(|run| run.to_string())
                        .unwrap_or_default(),
                    replaced_at: version.replaced_at.map(timestamp_text).unwrap_or_default(),
                })
                .collect(),
        })
    }
}
