//! GetTargetAttainment: each region's figure against the target that applies to it. The
//! period asked may be a target's own (`2025`) or the period of a figure a user holds, inside a
//! target's (`2025-01/2025-05`); the most specific target covering it applies (the model's
//! `applicable_target`), and the answer names the target's period. Which figure is held against
//! it follows the indicator's timing: a level at the period's end (else the latest so far, year
//! to date), an amount over the same period (else the longest one from its start). A code
//! continued through a lineage edge (old 68 into the merged 68) is followed, so a year-to-date
//! figure of the old province meets the target set for the year under the merged one. With a
//! target but no figure, the answer names the period of the latest figure there is.

use std::collections::BTreeMap;

use ansinh_model::{
    Attainment, IndicatorCode, Period, Quantity, RatioParts, RegionCode, Reported, Timing,
    applicable_target, target_period,
};
use ansinh_proto::{
    convert::{self, decimal_text},
    pb,
};
use ansinh_store::queries::{self, EndWindow, RegionRecord, TargetRecord};

use super::Statistics;
use super::regions::{region_message, same_code_lineage, version_for, versions_of};
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
    /// Each requested region's attainment of the target applying to the period.
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
        // of the same code it continues or that continue it. A target is stored under the
        // version valid at the end of the target's period, which may be a later one.
        let mut candidates: BTreeMap<String, Vec<RegionRecord>> = BTreeMap::new();
        for (code, records) in &versions {
            let primary = version_for(records, period.end())
                .cloned()
                .ok_or_else(|| ApiError::not_valid(code, period.end()))?;
            let mut list = vec![primary.clone()];
            if records.len() > 1 {
                list.extend(same_code_lineage(&mut conn, &primary).await?);
            }
            candidates.insert(code.clone(), list);
        }
        let ids: Vec<u32> = candidates.values().flatten().map(|r| r.id).collect();
        // A target covering the period ends on or after it.
        let targets = queries::targets(
            &mut conn,
            &ids,
            Some(&[subject.record.id]),
            EndWindow {
                from: Some(period.end()),
                to: None,
            },
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

        let reported = subject.reported(&figures);
        let assessed: Vec<_> = codes
            .iter()
            .map(|code| {
                let records = &candidates[code.as_str()];
                let ids: Vec<u32> = records.iter().map(|r| r.id).collect();
                let target = target_for(subject, period, &targets, &ids);
                let actual = actual_for(subject, period, &reported, &ids);
                (code, ids, target, actual)
            })
            .collect();

        // A target without a figure: where the figures stop, so the question can be asked
        // of the latest one.
        let unanswered: Vec<u32> = assessed
            .iter()
            .filter(|(_, _, target, actual)| target.is_some() && actual.is_none())
            .flat_map(|(_, ids, ..)| ids.iter().copied())
            .collect();
        let latest_reported = if unanswered.is_empty() {
            BTreeMap::new()
        } else {
            let figures = queries::figures(
                &mut conn,
                &unanswered,
                Some(&subject.indicator_ids()),
                EndWindow::default(),
            )
            .await?;
            subject.reported(&figures)
        };
        drop(conn);

        let attainments = assessed
            .into_iter()
            .map(|(code, ids, target, actual)| {
                let records = &candidates[code.as_str()];
                let region = actual
                    .as_ref()
                    .and_then(|(id, ..)| records.iter().find(|r| r.id == *id))
                    .unwrap_or(&records[0]);
                let latest = (target.is_some() && actual.is_none())
                    .then(|| latest_period(subject, &latest_reported, &ids))
                    .flatten();
                pb::TargetAttainment {
                    latest_period: latest.map(pb::Period::from),
                    ..attainment_message(
                        subject,
                        region,
                        target,
                        actual.map(|(_, period, value, reported)| (period, value, reported)),
                    )
                }
            })
            .collect();
        Ok(pb::GetTargetAttainmentResponse {
            indicator: Some(pb::Indicator::from(&subject.record.indicator)),
            period: Some(pb::Period::from(period)),
            attainments,
        })
    }
}

/// The figure held against a target for `period`: for a level, the one at the period's end,
/// else the latest inside the period (year to date); for an amount over an interval, the same
/// period, else the longest one from the period's start (year to date).
pub(super) fn actual_for(
    subject: Subject<'_>,
    period: Period,
    reported: &BTreeMap<(u32, Period), Reported>,
    region_ids: &[u32],
) -> Option<(u32, Period, Quantity, Reported)> {
    let candidates = reported.iter().filter_map(|(&(region_id, stored), r)| {
        if !region_ids.contains(&region_id) || !period.covers(&stored) {
            return None;
        }
        let fits = match subject.timing {
            Timing::Instant => stored.is_instant(),
            Timing::Interval => stored.start() == period.start(),
        };
        let value = subject.own_value(*r)?;
        fits.then_some((region_id, stored, value, *r))
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

/// The period of the latest figure (own or from its parts) of any of `region_ids`.
fn latest_period(
    subject: Subject<'_>,
    reported: &BTreeMap<(u32, Period), Reported>,
    region_ids: &[u32],
) -> Option<Period> {
    reported
        .iter()
        .filter(|((region_id, _), r)| {
            region_ids.contains(region_id) && subject.own_value(**r).is_some()
        })
        .map(|((_, period), _)| *period)
        .max_by_key(|period| (period.end(), std::cmp::Reverse(period.start())))
}

pub(super) fn position(ids: &[u32], id: u32) -> usize {
    ids.iter().position(|&x| x == id).unwrap_or(usize::MAX)
}

/// The target applying to a figure of `period` (the model's `applicable_target`) among the
/// indicator's targets of `region_ids`, with the period it was set for; of equally specific
/// ones, the first version's in `region_ids`.
pub(super) fn target_for<'a>(
    subject: Subject<'_>,
    period: Period,
    targets: &'a [TargetRecord],
    region_ids: &[u32],
) -> Option<(Period, &'a TargetRecord)> {
    let mut own: Vec<&TargetRecord> = targets
        .iter()
        .filter(|t| t.indicator_id == subject.record.id && region_ids.contains(&t.region_id))
        .collect();
    own.sort_by_key(|t| position(region_ids, t.region_id));
    applicable_target(
        period,
        own.into_iter()
            .map(|t| (target_period(subject.timing, t.period), t)),
    )
}

/// A region's attainment message: the model's assessment plus the figures it was made from.
/// `target` comes with the period it was set for.
pub(super) fn attainment_message(
    subject: Subject<'_>,
    region: &RegionRecord,
    target: Option<(Period, &TargetRecord)>,
    actual: Option<(Period, Quantity, Reported)>,
) -> pb::TargetAttainment {
    let part = |value: Option<Quantity>, indicator: Option<&queries::IndicatorRecord>| {
        Some((value?, indicator?.indicator.unit))
    };
    let parts = actual.map_or(RatioParts::NONE, |(_, _, reported)| RatioParts {
        numerator: part(reported.numerator, subject.numerator),
        denominator: part(reported.denominator, subject.denominator),
    });
    let assessment = Attainment::assess(
        actual.map(|(period, value, _)| (value, period)),
        target.map(|(period, t)| (t.target, period)),
        subject.record.indicator.unit,
        subject.kind(),
        parts,
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
        target: target
            .map(|(_, t)| decimal_text(t.target))
            .unwrap_or_default(),
        target_source: target
            .and_then(|(_, t)| t.source.clone())
            .unwrap_or_default(),
        target_period: target.map(|(period, _)| pb::Period::from(period)),
        ..convert::attainment(&assessment)
    }
}

#[cfg(test)]
mod tests {

    use super::super::fixtures::{
        catalog, exact, figure, interval, period, rate_of_stocks, region,
    };
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
    fn the_target_is_the_most_specific_covering_one_preferring_the_first_version() {
        let (participants, population, coverage, benefits) = catalog();
        let rate = rate_of_stocks(&coverage, &participants, &population);
        let target = |region_id, indicator_id, text: &str, value: &str| TargetRecord {
            region_id,
            indicator_id,
            period: period(text),
            target: value.parse().unwrap(),
            source: None,
        };
        // Levels' targets are stored at their instant: both are the level at the end of 2025.
        let targets = [
            target(3, 3, "2025-12-31", "95"),
            target(1, 3, "2025-12-31", "96"),
            target(1, 3, "2025-06-30", "93"),
        ];
        let found = |text: &str, ids: &[u32]| {
            target_for(rate, period(text), &targets, ids)
                .map(|(target_period, t)| (target_period.to_string(), t.target.to_string()))
        };
        let s = |a: &str, b: &str| Some((a.to_owned(), b.to_owned()));
        assert_eq!(found("2025", &[3, 1]), s("2025", "95"));
        assert_eq!(found("2025", &[1, 3]), s("2025", "96"));
        // The period of a figure held: inside the year, and inside the half of version 1.
        assert_eq!(found("2025-01/2025-05", &[3]), s("2025", "95"));
        assert_eq!(found("2025-01/2025-05", &[3, 1]), s("2025-H1", "93"));
        assert_eq!(found("2025-05-31", &[1]), s("2025-H1", "93"));
        assert_eq!(found("2024", &[1, 3]), None);

        // An amount's target keeps its period.
        let flow = interval(&benefits);
        let targets = [target(1, 4, "2025", "3000")];
        let (target_period, _) =
            target_for(flow, period("2025-01/2025-05"), &targets, &[1]).unwrap();
        assert_eq!(target_period.to_string(), "2025");
        assert!(target_for(flow, period("2024-11/2025-02"), &targets, &[1]).is_none());
    }

    #[test]
    fn the_latest_figure_names_where_the_data_stops() {
        let (participants, population, coverage, _) = catalog();
        let rate = rate_of_stocks(&coverage, &participants, &population);
        let figures = [
            figure(1, 3, "2023", exact("98.3")),
            figure(1, 3, "2022", exact("97")),
            // Parts alone make a figure too.
            figure(2, 1, "2024-06-30", exact("90")),
            figure(2, 2, "2024-06-30", exact("100")),
            // A numerator alone does not.
            figure(2, 1, "2024-12-31", exact("95")),
        ];
        let reported = rate.reported(&figures);
        let latest = |ids: &[u32]| latest_period(rate, &reported, ids).map(|p| p.to_string());
        assert_eq!(latest(&[1]).as_deref(), Some("2023-12-31"));
        assert_eq!(latest(&[1, 2]).as_deref(), Some("2024-06-30"));
        assert_eq!(latest(&[5]), None);
    }

    #[test]
    fn a_message_counts_the_shortfall_from_the_parts_and_names_the_targets_period() {
        let (participants, population, coverage, _) = catalog();
        let rate = rate_of_stocks(&coverage, &participants, &population);
        let target = TargetRecord {
            region_id: 1,
            indicator_id: 3,
            period: period("2025-12-31"),
            target: "95".parse().unwrap(),
            source: Some("Lam Dong provincial plan 2025".into()),
        };
        let region = region(1, "68", "2008-08-01", Some("2025-06-30"));
        let figures = [
            figure(1, 3, "2025-01/2025-05", exact("90.44")),
            figure(1, 1, "2025-01/2025-05", exact("1229935")),
        ];
        let reported = rate.reported(&figures);
        let actual = actual_for(rate, period("2025-01/2025-05"), &reported, &[1])
            .map(|(_, period, value, reported)| (period, value, reported));
        let message = attainment_message(rate, &region, Some((period("2025"), &target)), actual);
        assert_eq!(message.target_period.unwrap().text, "2025");
        assert_eq!(message.actual_period.unwrap().text, "2025-05-31");
        assert!(message.year_to_date);
        assert_eq!(message.status, pb::AttainmentStatus::NotMet as i32);
        assert_eq!(message.shortfall, "62014");
        assert!(message.shortfall_derived);
        assert_eq!(message.shortfall_qualifier, pb::Qualifier::About as i32);
        assert_eq!(message.shortfall_denominator, "1359946");
    }
}
