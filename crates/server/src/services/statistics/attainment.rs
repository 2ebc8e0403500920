//! GetTargetAttainment: each region's figure against the target set for a period. Which
//! figure a target is held against follows the indicator's timing: a level at the period's end
//! (else the latest so far, year to date), an amount over the same period (else the longest
//! one from its start). A code continued through a lineage edge (old 68 into the merged 68)
//! is followed, so a year-to-date figure of the old province meets the target set for the year.

use std::collections::BTreeMap;

use ansinh_model::{
    Attainment, IndicatorCode, NaiveDate, Period, Quantity, RegionCode, Reported, Timing,
};
use ansinh_proto::{
    convert::{self, decimal_text},
    pb,
};
use ansinh_store::queries::{self, EndWindow, RegionRecord, TargetRecord};
use chrono::Datelike;

use super::Statistics;
use super::regions::{not_valid, region_message, same_code_lineage, version_for, versions_of};
use crate::catalog::{Subject, catalog};
use crate::error::{ApiError, Violations};

/// A GetTargetAttainment request, read.
pub(super) struct AttainmentQuery {
    codes: Vec<RegionCode>,
    indicator_code: IndicatorCode,
    period: Period,
}

impl AttainmentQuery {
    pub(super) fn read(request: &pb::GetTargetAttainmentRequest) -> Result<Self, ApiError> {
        let mut violations = Violations::default();
        if request.region_codes.is_empty() {
            violations.add(
                "region_codes",
                "is required: at least one region code such as \"68\"",
            );
        }
        let codes = violations.region_codes("region_codes", &request.region_codes);
        let indicator_code = violations.indicator_code("indicator_code", &request.indicator_code);
        let period = violations.period("period", &request.period);
        violations.finish_with(|| {
            Some(Self {
                codes,
                indicator_code: indicator_code?,
                period: period?,
            })
        })
    }
}

impl Statistics {
    /// Each requested region's attainment of its target for the period.
    pub(super) async fn attainments(
        &self,
        query: AttainmentQuery,
    ) -> Result<pb::GetTargetAttainmentResponse, ApiError> {
        let AttainmentQuery {
            codes,
            indicator_code,
            period,
        } = query;
        let generation = self.cache.generation(&self.db).await;
        let mut conn = self.db.conn().await?;
        let catalog = catalog(generation.as_deref(), &mut conn).await?;
        let subject = catalog.subject(&indicator_code)?;
        let versions = versions_of(&mut conn, &codes).await?;

        // Per requested code: the version valid at the period's end first, then the versions
        // of the same code it continues (or that continue it) within the period.
        let mut candidates: BTreeMap<String, Vec<RegionRecord>> = BTreeMap::new();
        for (code, records) in &versions {
            let primary = version_for(records, period.end())
                .cloned()
                .ok_or_else(|| not_valid(code, period.end()))?;
            let mut list = vec![primary.clone()];
            if records.len() > 1 {
                list.extend(
                    same_code_lineage(&mut conn, &primary)
                        .await?
                        .into_iter()
                        .filter(|other| {
                            other.region.validity.from <= period.end()
                                && other
                                    .region
                                    .validity
                                    .to
                                    .is_none_or(|to| to >= period.start())
                        }),
                );
            }
            candidates.insert(code.clone(), list);
        }
        let ids: Vec<u32> = candidates.values().flatten().map(|r| r.id).collect();
        let targets = queries::targets(
            &mut conn,
            &ids,
            Some(&[subject.record.id]),
            EndWindow::on(period.end()),
        )
        .await?;
        let figures = queries::figures(
            &mut conn,
            &ids,
            Some(&subject.indicator_ids()),
            EndWindow {
                from: Some(period.start()),
                to: Some(period.end()),
            },
        )
        .await?;
        drop(conn);

        let reported = subject.reported(&figures);
        let attainments = codes
            .iter()
            .map(|code| {
                let records = &candidates[code.as_str()];
                let ids: Vec<u32> = records.iter().map(|r| r.id).collect();
                let target = target_for(subject, period, &targets, &ids);
                let actual = actual_for(subject, period, &reported, &ids);
                let region = actual
                    .as_ref()
                    .and_then(|(id, ..)| records.iter().find(|r| r.id == *id))
                    .unwrap_or(&records[0]);
                attainment_message(
                    subject,
                    region,
                    period,
                    target,
                    actual.map(|(_, period, value, reported)| (period, value, reported)),
                )
            })
            .collect();
        Ok(pb::GetTargetAttainmentResponse {
            indicator: Some(pb::Indicator::from(&subject.record.indicator)),
            period: Some(pb::Period::from(period)),
            attainments,
        })
    }
}

/// The figure a target of `target_period` is held against: for a level, the one at the
/// period's end, else the latest inside the period (year to date); for an amount over an
/// interval, the same period, else the longest one from the period's start (year to date).
pub(super) fn actual_for(
    subject: Subject<'_>,
    target_period: Period,
    reported: &BTreeMap<(u32, Period), Reported>,
    region_ids: &[u32],
) -> Option<(u32, Period, Quantity, Reported)> {
    let candidates = reported.iter().filter_map(|(&(region_id, period), r)| {
        if !region_ids.contains(&region_id) || !target_period.covers(&period) {
            return None;
        }
        let fits = match subject.timing {
            Timing::Instant => period.is_instant(),
            Timing::Interval => period.start() == target_period.start(),
        };
        let value = subject.own_value(*r)?;
        fits.then_some((region_id, period, value, *r))
    });
    // The latest end wins; among the same end, the version listed first (the primary).
    candidates.fold(None, |best, candidate| match &best {
        Some((best_region, best_period, ..)) => {
            let better = candidate.1.end() > best_period.end()
                || (candidate.1.end() == best_period.end()
                    && position(region_ids, candidate.0) < position(region_ids, *best_region));
            if better { Some(candidate) } else { best }
        }
        None => Some(candidate),
    })
}

pub(super) fn position(ids: &[u32], id: u32) -> usize {
    ids.iter().position(|&x| x == id).unwrap_or(usize::MAX)
}

/// The target set for `target_period`, preferring the first version in `region_ids`.
pub(super) fn target_for<'a>(
    subject: Subject<'_>,
    target_period: Period,
    targets: &'a [TargetRecord],
    region_ids: &[u32],
) -> Option<&'a TargetRecord> {
    let stored = subject.stored_period(target_period);
    targets
        .iter()
        .filter(|t| t.indicator_id == subject.record.id && region_ids.contains(&t.region_id))
        .filter(|t| subject.stored_period(t.period) == stored)
        .min_by_key(|t| position(region_ids, t.region_id))
}

/// The period a stored target covers: an interval as stored; a level's target stored at its
/// instant is read as the year up to that day (a target for `2025` is stored at 2025-12-31).
pub(super) fn target_span(target: &TargetRecord) -> Period {
    if !target.period.is_instant() {
        return target.period;
    }
    let end = target.period.end();
    NaiveDate::from_ymd_opt(end.year(), 1, 1)
        .and_then(|start| Period::from_bounds(start, end).ok())
        .unwrap_or(target.period)
}

/// A region's attainment message: the model's assessment plus the figures it was made from.
pub(super) fn attainment_message(
    subject: Subject<'_>,
    region: &RegionRecord,
    target_period: Period,
    target: Option<&TargetRecord>,
    actual: Option<(Period, Quantity, Reported)>,
) -> pb::TargetAttainment {
    let denominator = actual.and_then(|(_, _, reported)| {
        let unit = subject.denominator?.indicator.unit;
        Some((reported.denominator?, unit))
    });
    let assessment = Attainment::assess(
        actual.map(|(period, value, _)| (value, period)),
        target.map(|t| (t.target, target_period)),
        subject.record.indicator.unit,
        subject.kind(),
        denominator,
    );
    pb::TargetAttainment {
        region: region_message(region),
        actual: actual
            .map(|(_, value, _)| decimal_text(value.value))
            .unwrap_or_default(),
        actual_qualifier: actual.map_or(pb::Qualifier::Unspecified.into(), |(_, value, _)| {
            convert::qualifier(value.qualifier)
        }),
        actual_period: actual.map(|(period, ..)| pb::Period::from(period)),
        target: target.map(|t| decimal_text(t.target)).unwrap_or_default(),
        target_source: target.and_then(|t| t.source.clone()).unwrap_or_default(),
        ..convert::attainment(&assessment)
    }
}

#[cfg(test)]
mod tests {

    use super::super::fixtures::{catalog, exact, figure, interval, period, rate_of_stocks};
    use super::*;

    #[test]
    fn the_actual_for_a_target_is_the_period_end_figure_else_the_latest_so_far() {
        let (participants, population, coverage, benefits) = catalog();
        let rate = rate_of_stocks(&coverage, &participants, &population);
        let figures = [
            figure(1, 3, "2025-01/2025-05", exact("90.44")),
            figure(1, 3, "2025-03-31", exact("89")),
            figure(1, 2, "2025-05-31", exact("1359945")),
            figure(1, 3, "2024", exact("94.56")),
        ];
        let reported = rate.reported(&figures);
        let (region, actual_period, value, parts) =
            actual_for(rate, period("2025"), &reported, &[3, 1]).unwrap();
        assert_eq!(
            (region, actual_period.to_string(), value.value.to_string()),
            (1, "2025-05-31".to_string(), "90.44".to_string())
        );
        assert_eq!(parts.denominator.unwrap().value.to_string(), "1359945");
        let (_, actual_period, value, _) =
            actual_for(rate, period("2024"), &reported, &[1]).unwrap();
        assert_eq!(
            (actual_period.to_string(), value.value.to_string()),
            ("2024-12-31".into(), "94.56".into())
        );
        assert!(actual_for(rate, period("2025"), &reported, &[2]).is_none());

        // An amount: the same period, else the longest from the period's start.
        let flow = interval(&benefits);
        let figures = [
            figure(1, 4, "2025-Q1", exact("300")),
            figure(1, 4, "2025-01/2025-05", exact("1424")),
            figure(1, 4, "2025-05", exact("280")),
        ];
        let reported = flow.reported(&figures);
        let (_, actual_period, value, _) =
            actual_for(flow, period("2025"), &reported, &[1]).unwrap();
        assert_eq!(
            (actual_period.to_string(), value.value.to_string()),
            ("2025-01/2025-05".into(), "1424".into())
        );
    }

    #[test]
    fn targets_match_by_stored_period_and_a_levels_target_spans_its_year() {
        let (participants, population, coverage, _) = catalog();
        let rate = rate_of_stocks(&coverage, &participants, &population);
        let target = |region_id, text: &str, value: &str| TargetRecord {
            region_id,
            indicator_id: 3,
            period: period(text),
            target: value.parse().unwrap(),
            source: None,
        };
        let targets = [target(3, "2025", "95"), target(1, "2025-12-31", "96")];
        // Both are the level at the end of 2025; the first listed version's wins.
        assert_eq!(
            target_for(rate, period("2025"), &targets, &[3, 1])
                .unwrap()
                .target
                .to_string(),
            "95"
        );
        assert_eq!(
            target_for(rate, period("2025"), &targets, &[1, 3])
                .unwrap()
                .target
                .to_string(),
            "96"
        );
        assert!(target_for(rate, period("2024"), &targets, &[1, 3]).is_none());
        assert_eq!(target_span(&targets[1]).to_string(), "2025");
        assert_eq!(target_span(&targets[0]).to_string(), "2025");
    }
}
