//! GetRegionSummary: every indicator a region has figures for, each with its latest figure, the
//! change from the comparable figure before it, and its attainment of the most specific target
//! covering its period (the model's `applicable_target`, as GetTargetAttainment chooses).

use std::collections::BTreeSet;

use ansinh_model::{Change, NaiveDate, Period, Quantity, RegionCode, Reported, Timing};
use ansinh_proto::{
    convert::{self, decimal_text},
    pb,
};
use ansinh_store::queries::{self, EndWindow};

use super::Statistics;
use super::attainment::{attainment_message, target_for};
use super::regions::{region_message, same_code_lineage};
use crate::catalog::catalog;
use crate::error::{ApiError, Violations};

/// A GetRegionSummary request, read.
pub(super) struct SummaryQuery {
    code: RegionCode,
    as_of: NaiveDate,
}

impl SummaryQuery {
    pub(super) fn read(request: &pb::GetRegionSummaryRequest) -> Result<Self, ApiError> {
        let mut violations = Violations::default();
        let code = violations.region_code("region_code", &request.region_code);
        let as_of = violations.date_or_today("as_of", &request.as_of);
        violations.finish_with(|| Some(Self { code: code?, as_of }))
    }
}

impl Statistics {
    /// The region's latest figures, changes and attainments as of a day.
    pub(super) async fn summary(
        &self,
        query: SummaryQuery,
    ) -> Result<pb::GetRegionSummaryResponse, ApiError> {
        let SummaryQuery { code, as_of } = query;
        let generation = self.cache.generation(&self.db).await;
        let mut conn = self.db.conn().await?;
        let region = queries::region_at(&mut conn, &code, as_of)
            .await?
            .ok_or_else(|| ApiError::not_valid(&code, as_of))?;
        let catalog = catalog(generation.as_deref(), &mut conn).await?;
        let figures =
            queries::figures(&mut conn, &[region.id], None, EndWindow::until(as_of)).await?;
        let mut target_regions = vec![region.id];
        target_regions.extend(
            same_code_lineage(&mut conn, &region)
                .await?
                .into_iter()
                .map(|r| r.id),
        );
        let targets =
            queries::targets(&mut conn, &target_regions, None, EndWindow::default()).await?;
        drop(conn);

        let with_data: BTreeSet<u32> = figures.iter().map(|f| f.indicator_id).collect();
        let mut indicators = Vec::new();
        // The catalog is ordered by code, and so is the summary.
        for record in catalog.records() {
            if !with_data.contains(&record.id) {
                continue;
            }
            let subject = catalog.subject_of(record);
            let reported = subject.reported(&figures);
            let own: Vec<(Period, Quantity, Reported)> = reported
                .iter()
                .filter_map(|(&(_, period), r)| {
                    let value = r.value?;
                    Some((period, value, *r))
                })
                .collect();
            // The latest figure; of several ending the same day, the longest period.
            let Some(&(period, value, latest)) = own.iter().max_by(|a, b| {
                a.0.end()
                    .cmp(&b.0.end())
                    .then_with(|| b.0.start().cmp(&a.0.start()))
            }) else {
                continue;
            };
            // A level is compared with the level before it; an amount over an interval with
            // the same interval a year before, the only like-for-like earlier amount.
            let reference = match subject.timing {
                Timing::Instant => own
                    .iter()
                    .filter(|(p, ..)| p.end() < period.end())
                    .max_by_key(|(p, ..)| p.end())
                    .map(|&(p, v, _)| (p, v)),
                Timing::Interval => period.year_earlier().and_then(|earlier| {
                    own.iter()
                        .find(|(p, ..)| *p == earlier)
                        .map(|&(p, v, _)| (p, v))
                }),
            };
            let change_from_previous = reference.map(|(reference_period, reference_value)| {
                let change = Change::between(value, reference_value, record.indicator.unit);
                convert::change(&change, reference_period, reference_value)
            });
            let target = target_for(subject, period, &targets, &target_regions).map(|target| {
                attainment_message(
                    subject,
                    &region,
                    Some(target),
                    Some((period, value, latest)),
                )
            });
            indicators.push(pb::IndicatorSummary {
                indicator: Some(pb::Indicator::from(&record.indicator)),
                period: Some(pb::Period::from(period)),
                value: decimal_text(value.value),
                qualifier: convert::qualifier(value.qualifier),
                change_from_previous,
                target,
            });
        }
        Ok(pb::GetRegionSummaryResponse {
            region: region_message(&region),
            as_of: convert::date_text(as_of),
            indicators,
        })
    }
}
