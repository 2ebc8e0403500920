//! GetTimeSeries: a region's figures of one indicator over time, with changes computed only
//! between comparable points (the model's `series_changes_in`). Which territory each point
//! covers is said, never assumed:
//!
//! - with `geography_as_of`, every point is in the boundaries of the version valid on that
//!   date, combined from the versions that make them up (old 68 + 60 + 67 before the merger,
//!   a lower bound with its completeness where some did not report);
//! - without it, every point is the figure of the version of the code valid at the point's
//!   period end, and names that version (`region` of the point); changes never cross from one
//!   version to another, and the answer's `region` is the version of the latest point, so the
//!   old Lâm Đồng's figures are never labelled with the merged province's territory.
//!
//! Answers are cached encoded, per generation.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;

use ansinh_model::{
    Change, IndicatorCode, NaiveDate, Period, Quantity, RegionCode, Reported, combine_constituents,
    series_changes_in,
};
use ansinh_proto::{
    convert::{self, decimal_text},
    pb,
};
use ansinh_store::queries::{self, EndWindow, Figure, RegionRecord};

use super::Statistics;
use super::regions::{region_message, unknown_regions, version_for, versions_of};
use crate::cache::{Generation, TimeSeriesKey};
use crate::catalog::{Subject, catalog};
use crate::error::{ApiError, Violations};
use crate::request::today;

/// A GetTimeSeries request, read.
struct TimeSeriesQuery {
    code: RegionCode,
    indicator_code: IndicatorCode,
    window: EndWindow,
    geography_as_of: Option<NaiveDate>,
}

impl TimeSeriesQuery {
    fn read(request: &pb::GetTimeSeriesRequest) -> Result<Self, ApiError> {
        let mut violations = Violations::default();
        let code = violations.region_code("region_code", &request.region_code);
        let indicator_code = violations.indicator_code("indicator_code", &request.indicator_code);
        let window = violations.end_window(&request.start_date, &request.end_date);
        let geography_as_of = violations.optional_date("geography_as_of", &request.geography_as_of);
        violations.finish_with(|| {
            Some(Self {
                code: code?,
                indicator_code: indicator_code?,
                window,
                geography_as_of,
            })
        })
    }
}

impl Statistics {
    /// GetTimeSeries, its answer encoded: from the cache when the current generation holds
    /// it, else computed, encoded and stored there.
    #[tracing::instrument(name = "get_time_series", skip_all, fields(region.code = %request.region_code, indicator.code = %request.indicator_code))]
    pub(crate) async fn time_series_encoded(
        &self,
        request: pb::GetTimeSeriesRequest,
    ) -> Result<Bytes, ApiError> {
        let TimeSeriesQuery {
            code,
            indicator_code,
            window,
            geography_as_of,
        } = TimeSeriesQuery::read(&request)?;

        let key = TimeSeriesKey {
            region_code: code.to_string(),
            indicator_code: indicator_code.to_string(),
            start_date: window.from,
            end_date: window.to,
            geography_as_of,
            // Without either date, the region version is the one valid today.
            today: (window.to.is_none() && geography_as_of.is_none()).then(today),
        };
        let generation = self.cache.generation(&self.db).await;
        if let Some(generation) = &generation {
            if let Some(encoded) = generation.time_series(&key) {
                self.cache.hit();
                return Ok(encoded);
            }
            self.cache.miss();
        }
        let date = window.to.or(key.today).unwrap_or_else(today);
        let response = self
            .time_series(
                generation.as_deref(),
                &code,
                &indicator_code,
                window,
                geography_as_of,
                date,
            )
            .await?;
        let encoded = Bytes::from(prost::Message::encode_to_vec(&response));
        if let Some(generation) = &generation {
            self.cache.put_time_series(generation, key, encoded.clone());
        }
        Ok(encoded)
    }

    /// A time series as GetTimeSeries answers it, computed from the store (and from the
    /// catalog and regions of `generation`, when the cache may serve). `date` picks the
    /// region version named when `geography_as_of` is not given and no point has a version.
    async fn time_series(
        &self,
        generation: Option<&Generation>,
        code: &RegionCode,
        indicator_code: &IndicatorCode,
        window: EndWindow,
        geography_as_of: Option<NaiveDate>,
        date: NaiveDate,
    ) -> Result<pb::GetTimeSeriesResponse, ApiError> {
        let mut conn = self.db.conn().await?;
        let catalog = catalog(generation, &mut conn).await?;
        let subject = catalog.subject(indicator_code)?;
        let versions = match generation {
            Some(generation) => {
                let versions = generation
                    .regions(&mut conn)
                    .await?
                    .versions(code.as_str())
                    .to_vec();
                if versions.is_empty() {
                    return Err(unknown_regions(&[code.as_str()]));
                }
                versions
            }
            None => versions_of(&mut conn, std::slice::from_ref(code))
                .await?
                .remove(code.as_str())
                .unwrap_or_default(),
        };

        let (region, constituents) = match geography_as_of {
            Some(date) => {
                let region = versions
                    .iter()
                    .find(|record| record.region.validity.contains(date))
                    .cloned()
                    .ok_or_else(|| ApiError::not_valid(code, date))?;
                let mut constituents = vec![Constituent {
                    record: region.clone(),
                    approximate: false,
                }];
                let ancestors = match generation {
                    Some(generation) => generation.lineage_ancestors(&mut conn, region.id).await?,
                    None => Arc::new(queries::lineage_ancestors(&mut conn, region.id).await?),
                };
                constituents.extend(ancestors.iter().map(|ancestor| Constituent {
                    record: ancestor.region.clone(),
                    approximate: ancestor.approximate,
                }));
                (region, constituents)
            }
            None => {
                let region = version_for(&versions, date)
                    .cloned()
                    .ok_or_else(|| ApiError::not_valid(code, date))?;
                let constituents = versions
                    .into_iter()
                    .map(|record| Constituent {
                        record,
                        approximate: false,
                    })
                    .collect();
                (region, constituents)
            }
        };

        // Every figure up to the window's end: the points before the window are the
        // references of the first points' changes.
        let ids: Vec<u32> = constituents.iter().map(|c| c.record.id).collect();
        let figures = queries::figures(
            &mut conn,
            &ids,
            Some(&subject.indicator_ids()),
            EndWindow {
                from: None,
                to: window.to,
            },
        )
        .await?;
        drop(conn);
        series_answer(
            subject,
            &region,
            &constituents,
            &figures,
            window.from,
            geography_as_of.is_some(),
        )
    }
}

/// The answer of GetTimeSeries from the figures of its constituents: the points combined by
/// the indicator's rule, their changes, and the points from `from` on (the earlier ones are
/// only the references of the first points' changes). `one_segment`: the series is in the
/// boundaries of `region` (`geography_as_of`), so changes run over all of it; otherwise each
/// point is its own version's, changes stay within a version, and `region` is only the answer's
/// region when no point names one.
fn series_answer(
    subject: Subject<'_>,
    region: &RegionRecord,
    constituents: &[Constituent],
    figures: &[Figure],
    from: Option<NaiveDate>,
    one_segment: bool,
) -> Result<pb::GetTimeSeriesResponse, ApiError> {
    let built = build_series(subject, constituents, figures)?;
    let changes = series_changes_in(
        built
            .points
            .iter()
            .map(|p| (p.period, p.value, segment(p, one_segment))),
        subject.record.indicator.unit,
    );
    // A point's period and value come back as the references of later points' changes (the
    // next point's, and the same period a year on): each is put on the wire once, then copied.
    let periods: Vec<pb::Period> = built.points.iter().map(|p| p.period.into()).collect();
    let values: Vec<String> = built
        .points
        .iter()
        .map(|p| decimal_text(p.value.value))
        .collect();
    let reference = |change: &Change, i: usize| {
        convert::change_from_texts(change, periods[i].clone(), values[i].clone())
    };
    // Every point names its constituents: build each one's message once, not per point.
    let constituent_messages: Vec<pb::Region> = constituents
        .iter()
        .map(|constituent| pb::Region::from(&constituent.record.region))
        .collect();
    let series_region = region_message(region);
    // Without one set of boundaries, a point is the figure of the one version valid at its end.
    let own_version = |point: &BuiltPoint| built.constituents(point).first().copied();
    let mut points = Vec::new();
    let mut latest_version = None;
    for (i, (point, change)) in built.points.iter().zip(&changes).enumerate() {
        if from.is_some_and(|from| point.period.end() < from) {
            continue;
        }
        let point_region = if one_segment {
            series_region.clone()
        } else {
            latest_version = own_version(point);
            latest_version.map(|c| constituent_messages[c].clone())
        };
        points.push(pb::TimeSeriesPoint {
            period: Some(periods[i].clone()),
            value: values[i].clone(),
            qualifier: convert::qualifier(point.value.qualifier),
            change_from_previous: change
                .from_previous
                .as_ref()
                .zip(change.previous)
                .map(|(change, j)| reference(change, j)),
            change_from_year_earlier: change
                .from_year_earlier
                .as_ref()
                .zip(change.year_earlier)
                .map(|(change, j)| reference(change, j)),
            approximate: point.approximate,
            constituents: built
                .constituents(point)
                .iter()
                .map(|&c| constituent_messages[c].clone())
                .collect(),
            completeness: point.completeness.clone(),
            region: point_region,
            change_from_previous_absence: convert::change_absence(change.previous_absence),
            change_from_year_earlier_absence: convert::change_absence(change.year_earlier_absence),
        });
    }
    Ok(pb::GetTimeSeriesResponse {
        region: match latest_version {
            Some(c) => region_message(&constituents[c].record),
            None => series_region,
        },
        indicator: Some(pb::Indicator::from(&subject.record.indicator)),
        approximate: points.iter().any(|point| point.approximate),
        points,
    })
}

/// A region version a series is built from, and whether its figures are only approximately
/// the series region's (carried across a split).
struct Constituent {
    record: RegionRecord,
    approximate: bool,
}

/// A point of the series before changes are computed.
#[derive(Debug)]
struct BuiltPoint {
    period: Period,
    value: Quantity,
    approximate: bool,
    /// The generation of boundaries the point was combined in (an index into
    /// [`BuiltSeries::generations`]): its constituents, and the points comparable with it.
    generation: usize,
    completeness: Option<pb::Completeness>,
}

/// The points of a series, in period order, and the generations they were combined in.
#[derive(Debug)]
struct BuiltSeries {
    points: Vec<BuiltPoint>,
    /// Each generation's members: indices into the constituents, ascending.
    generations: Vec<Vec<usize>>,
}

impl BuiltSeries {
    /// The constituents (indices) `point` was combined from.
    fn constituents(&self, point: &BuiltPoint) -> &[usize] {
        &self.generations[point.generation]
    }
}

/// Combines the figures of the constituents valid at each period's end, by the indicator's
/// rule, one point per period with a value, in period order.
fn build_series(
    subject: Subject<'_>,
    constituents: &[Constituent],
    figures: &[Figure],
) -> Result<BuiltSeries, ApiError> {
    // Periods grouped by the set of constituents valid at their end: a generation of
    // boundaries (before and after the merger), combined by one call of the model's rule.
    let mut generations: BTreeMap<Vec<usize>, Vec<(Period, &RegionCode, Reported)>> =
        BTreeMap::new();
    let mut valid = Vec::new();
    for ((region_id, period), reported) in subject.reported(figures) {
        let Some(own) = constituents.iter().position(|c| c.record.id == region_id) else {
            continue;
        };
        valid.clear();
        valid.extend(
            constituents
                .iter()
                .enumerate()
                .filter(|(_, c)| c.record.region.validity.contains(period.end()))
                .map(|(i, _)| i),
        );
        // A figure outside its version's validity belongs to no generation; the importer
        // resolves versions on the period's last day, so this is only defensive.
        if !valid.contains(&own) {
            continue;
        }
        let figure = (period, &constituents[own].record.region.code, reported);
        match generations.get_mut(valid.as_slice()) {
            Some(figures) => figures.push(figure),
            None => {
                generations.insert(valid.clone(), vec![figure]);
            }
        }
    }

    let mut built = BuiltSeries {
        points: Vec::new(),
        generations: Vec::with_capacity(generations.len()),
    };
    for (members, figures) in generations {
        let codes = members.iter().map(|&i| &constituents[i].record.region.code);
        let approximate = members.iter().any(|&i| constituents[i].approximate);
        let combined = combine_constituents(subject.kind(), codes, figures, approximate)
            .map_err(|error| subject.roll_up_error(error))?;
        for point in combined {
            let Some(value) = point.figure.value else {
                continue;
            };
            built.points.push(BuiltPoint {
                period: point.period,
                value,
                approximate: point.approximate,
                generation: built.generations.len(),
                completeness: (members.len() > 1).then(|| convert::completeness(&point.figure)),
            });
        }
        built.generations.push(members);
    }
    built.points.sort_by_key(|point| point.period);
    Ok(built)
}

/// The boundaries `point` is in, for comparing points: its generation, or one for the whole
/// series when it is expressed in one set of boundaries.
fn segment(point: &BuiltPoint, one_segment: bool) -> usize {
    if one_segment { 0 } else { point.generation }
}

#[cfg(test)]
mod tests {
    use ansinh_model::{IndicatorKind, Qualifier, Unit};

    use super::super::fixtures::{
        catalog, date, exact, figure, indicator, interval, quantity, rate_of_stocks, region, stock,
    };
    use super::*;
    /// The merged 68 (id 3) made of the old 68 (1) and 60 (2, carried across a split here).
    fn merger(split: bool) -> Vec<Constituent> {
        vec![
            Constituent {
                record: region(3, "68", "2025-07-01", None),
                approximate: false,
            },
            Constituent {
                record: region(1, "68", "2008-08-01", Some("2025-06-30")),
                approximate: false,
            },
            Constituent {
                record: region(2, "60", "2008-08-01", Some("2025-06-30")),
                approximate: split,
            },
        ]
    }

    #[test]
    fn an_answer_refers_each_change_to_the_point_it_was_computed_against() {
        let (participants, ..) = catalog();
        // The versions of code 68: the merged one (id 3) and the old one (id 1).
        let mut constituents = merger(false);
        constituents.truncate(2);
        let figures = [
            figure(1, 1, "2023-12-31", exact("90")),
            figure(1, 1, "2024-06-30", exact("95")),
            figure(1, 1, "2024-12-31", exact("100")),
            figure(3, 1, "2025-09-30", exact("160")),
            figure(3, 1, "2025-12-31", exact("170")),
        ];
        let wire = |change: &Option<pb::Change>| {
            change.as_ref().map(|change| {
                format!(
                    "{} {} {:+}",
                    change.reference_period.as_ref().unwrap().text,
                    change.reference_value,
                    change.absolute.parse::<i64>().unwrap()
                )
            })
        };
        let summary = |one_segment| {
            let answer = series_answer(
                stock(&participants),
                &constituents[0].record,
                &constituents,
                &figures,
                Some(date("2024-01-01")),
                one_segment,
            )
            .unwrap();
            answer
                .points
                .iter()
                .map(|p| {
                    let period = p.period.as_ref().unwrap().text.clone();
                    (
                        period,
                        p.value.clone(),
                        wire(&p.change_from_previous),
                        wire(&p.change_from_year_earlier),
                    )
                })
                .collect::<Vec<_>>()
        };
        let s = |text: &str| text.to_owned();
        // Each version on its own: no change across the merger.
        assert_eq!(
            summary(false),
            [
                (s("2024-06-30"), s("95"), Some(s("2023-12-31 90 +5")), None),
                (
                    s("2024-12-31"),
                    s("100"),
                    Some(s("2024-06-30 95 +5")),
                    Some(s("2023-12-31 90 +10"))
                ),
                (s("2025-09-30"), s("160"), None, None),
                (
                    s("2025-12-31"),
                    s("170"),
                    Some(s("2025-09-30 160 +10")),
                    None
                ),
            ]
        );
        // One set of boundaries: changes run across it.
        assert_eq!(
            summary(true),
            [
                (s("2024-06-30"), s("95"), Some(s("2023-12-31 90 +5")), None),
                (
                    s("2024-12-31"),
                    s("100"),
                    Some(s("2024-06-30 95 +5")),
                    Some(s("2023-12-31 90 +10"))
                ),
                (
                    s("2025-09-30"),
                    s("160"),
                    Some(s("2024-12-31 100 +60")),
                    None
                ),
                (
                    s("2025-12-31"),
                    s("170"),
                    Some(s("2025-09-30 160 +10")),
                    Some(s("2024-12-31 100 +70"))
                ),
            ]
        );
    }

    #[test]
    fn each_point_names_the_version_whose_figure_it_is() {
        let (participants, ..) = catalog();
        let mut constituents = merger(false);
        constituents.truncate(2);
        let old_only = [
            figure(1, 1, "2024-12-31", exact("1269187")),
            figure(1, 1, "2025-05-31", exact("1229935")),
        ];
        let answer = |figures: &[Figure], one_segment| {
            series_answer(
                stock(&participants),
                // The version the code names today: the merged one.
                &constituents[0].record,
                &constituents,
                figures,
                None,
                one_segment,
            )
            .unwrap()
        };
        let valid_to = |region: &Option<pb::Region>| region.as_ref().unwrap().valid_to.clone();
        // Only the old province's figures: the answer is the old province's, not the merged
        // one's, and so is every point.
        let own = answer(&old_only, false);
        assert_eq!(valid_to(&own.region), "2025-06-30");
        assert!(
            own.points
                .iter()
                .all(|p| valid_to(&p.region) == "2025-06-30")
        );
        assert_eq!(
            own.points[0].change_from_previous_absence,
            pb::ChangeAbsence::NoReference as i32
        );
        assert_eq!(
            own.points[1].change_from_previous_absence,
            pb::ChangeAbsence::Unspecified as i32
        );
        // With a figure of the merged province, the answer ends in its boundaries; the old
        // points still name the old version, and the first merged point has no change.
        let mut both = old_only.to_vec();
        both.push(figure(3, 1, "2025-09-30", exact("2950000")));
        let own = answer(&both, false);
        assert_eq!(valid_to(&own.region), "");
        let regions: Vec<String> = own.points.iter().map(|p| valid_to(&p.region)).collect();
        assert_eq!(regions, ["2025-06-30", "2025-06-30", ""]);
        assert_eq!(
            own.points[2].change_from_previous_absence,
            pb::ChangeAbsence::OtherBoundaries as i32
        );
        // In one set of boundaries every point is the series region's.
        let one = answer(&both, true);
        assert!(one.points.iter().all(|p| p.region == one.region));
        assert_eq!(valid_to(&one.region), "");
    }

    #[test]
    fn amounts_over_periods_of_other_lengths_have_no_change() {
        let (.., benefits) = catalog();
        let constituents = vec![Constituent {
            record: region(1, "68", "2008-08-01", Some("2025-06-30")),
            approximate: false,
        }];
        let figures = [
            figure(1, 4, "2021", quantity("2600", Qualifier::MoreThan)),
            figure(
                1,
                4,
                "2022-01/2022-07",
                quantity("1470", Qualifier::MoreThan),
            ),
            figure(1, 4, "2023-Q1", exact("500")),
            figure(1, 4, "2023", exact("2439")),
        ];
        let answer = series_answer(
            interval(&benefits),
            &constituents[0].record,
            &constituents,
            &figures,
            None,
            false,
        )
        .unwrap();
        let changes: Vec<(&str, Option<&str>, i32)> = answer
            .points
            .iter()
            .map(|p| {
                (
                    p.period.as_ref().unwrap().text.as_str(),
                    p.change_from_previous
                        .as_ref()
                        .map(|c| c.reference_period.as_ref().unwrap().text.as_str()),
                    p.change_from_previous_absence,
                )
            })
            .collect();
        let none = pb::ChangeAbsence::Unspecified as i32;
        let unlike = pb::ChangeAbsence::NotComparable as i32;
        assert_eq!(
            changes,
            [
                ("2021", None, pb::ChangeAbsence::NoReference as i32),
                ("2022-01/2022-07", None, unlike),
                ("2023-Q1", None, unlike),
                ("2023", Some("2021"), none),
            ]
        );
        assert_eq!(
            answer.points[3].change_from_year_earlier_absence,
            pb::ChangeAbsence::NoReference as i32
        );
    }

    #[test]
    fn a_series_in_later_boundaries_sums_the_versions_valid_at_each_period_end() {
        let (participants, ..) = catalog();
        let figures = [
            figure(1, 1, "2024-12-31", exact("100")),
            figure(2, 1, "2024-12-31", quantity("50", Qualifier::MoreThan)),
            figure(1, 1, "2023-12-31", exact("90")),
            figure(3, 1, "2025-09-30", exact("160")),
        ];
        let built = build_series(stock(&participants), &merger(false), &figures).unwrap();
        let points = &built.points;
        let summary: Vec<(String, String, Qualifier, usize)> = points
            .iter()
            .map(|p| {
                (
                    p.period.to_string(),
                    p.value.value.to_string(),
                    p.value.qualifier,
                    built.constituents(p).len(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                // 60 did not report for 2023: a lower bound, 1 of 2.
                ("2023-12-31".into(), "90".into(), Qualifier::MoreThan, 2),
                ("2024-12-31".into(), "150".into(), Qualifier::MoreThan, 2),
                ("2025-09-30".into(), "160".into(), Qualifier::Exact, 1),
            ]
        );
        let completeness = points[0].completeness.as_ref().unwrap();
        assert_eq!((completeness.reporting, completeness.expected), (1, 2));
        assert_eq!(completeness.missing_region_codes, ["60"]);
        assert!(
            points[2].completeness.is_none(),
            "a single region is no roll-up"
        );
        assert!(points.iter().all(|p| !p.approximate));

        let changes = |one_segment| {
            series_changes_in(
                points
                    .iter()
                    .map(|p| (p.period, p.value, segment(p, one_segment))),
                Unit::Persons,
            )
        };
        // One set of boundaries: the change runs across the merger.
        assert_eq!(
            changes(true)[2]
                .from_previous
                .unwrap()
                .absolute
                .value
                .to_string(),
            "10"
        );
        // Each version on its own: no change across generations.
        let own = changes(false);
        assert!(own[2].from_previous.is_none());
        assert_eq!(
            own[2].previous_absence,
            Some(ansinh_model::ChangeAbsence::OtherBoundaries)
        );
        assert!(own[1].from_previous.is_some());
    }

    #[test]
    fn points_carried_across_a_split_are_approximate() {
        let (participants, ..) = catalog();
        let figures = [
            figure(1, 1, "2024-12-31", quantity("100", Qualifier::Exact)),
            figure(2, 1, "2024-12-31", quantity("50", Qualifier::Exact)),
            figure(3, 1, "2025-09-30", quantity("160", Qualifier::Exact)),
        ];
        let points = build_series(stock(&participants), &merger(true), &figures)
            .unwrap()
            .points;
        assert!(points[0].approximate);
        assert!(
            !points[1].approximate,
            "after the change only the region itself counts"
        );
    }

    #[test]
    fn ratios_in_later_boundaries_are_recomputed_from_their_parts_and_reported_ratios_refused() {
        let (participants, population, coverage, _) = catalog();
        let subject = rate_of_stocks(&coverage, &participants, &population);
        let figures = [
            // The published rates (stored with the year's start) are not averaged.
            figure(1, 3, "2024", exact("94.56")),
            figure(2, 3, "2024", exact("50")),
            figure(1, 1, "2024-12-31", exact("1269187")),
            figure(1, 2, "2024-12-31", exact("1342200")),
            figure(2, 1, "2024-12-31", exact("1100000")),
            figure(2, 2, "2024-12-31", exact("1250000")),
        ];
        let points = build_series(subject, &merger(false), &figures)
            .unwrap()
            .points;
        assert_eq!(points.len(), 1);
        assert_eq!(points[0].period.to_string(), "2024-12-31");
        // 2,369,187 / 2,592,200 = 91.397...%
        assert_eq!(points[0].value.value.to_string(), "91.4");

        let plan = indicator(
            5,
            "contributions_plan_rate",
            Unit::Percent,
            IndicatorKind::ReportedRatio,
            None,
        );
        let subject = interval(&plan);
        let figures = [
            figure(1, 5, "2024", exact("100.69")),
            figure(2, 5, "2024", exact("99")),
        ];
        let error = build_series(subject, &merger(false), &figures).unwrap_err();
        assert!(matches!(
            error,
            ApiError::FailedPrecondition {
                kind: "INDICATOR_KIND",
                ..
            }
        ));
    }
}
