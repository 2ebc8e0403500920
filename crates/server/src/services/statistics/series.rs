//! GetTimeSeries: a region's figures of one indicator over time, each point combined from the
//! region versions valid at its period's end (or, with `geography_as_of`, from the versions
//! that make up one set of boundaries), with changes computed only between comparable points.
//! Answers are cached encoded, per generation.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;

use ansinh_model::{
    Change, IndicatorCode, NaiveDate, Period, Quantity, RegionCode, Reported, SeriesPoint, Unit,
    combine_constituents, series_changes,
};
use ansinh_proto::{
    convert::{self, decimal_text},
    pb,
};
use ansinh_store::queries::{self, EndWindow, Figure, RegionRecord};

use super::Statistics;
use super::regions::{not_valid, region_message, unknown_regions, version_for, versions_of};
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
    /// region version when `geography_as_of` is not given.
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
                    .ok_or_else(|| not_valid(code, date))?;
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
                    .ok_or_else(|| not_valid(code, date))?;
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
/// only the references of the first points' changes). `one_segment`: the series is in one set
/// of boundaries (`geography_as_of`), so changes run over all of it.
fn series_answer(
    subject: Subject<'_>,
    region: &RegionRecord,
    constituents: &[Constituent],
    figures: &[Figure],
    from: Option<NaiveDate>,
    one_segment: bool,
) -> Result<pb::GetTimeSeriesResponse, ApiError> {
    let built = build_series(subject, constituents, figures)?;
    let segments = segments(&built.points, one_segment);
    let changes = changes_by_segment(&built.points, &segments, subject.record.indicator.unit);
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
    let mut points = Vec::new();
    for (i, (point, change)) in built.points.iter().zip(&changes).enumerate() {
        if from.is_some_and(|from| point.period.end() < from) {
            continue;
        }
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
        });
    }
    Ok(pb::GetTimeSeriesResponse {
        region: region_message(region),
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

/// The segment of points comparable with `point`: its generation, or one for the whole
/// series when it is expressed in one set of boundaries.
fn segment(point: &BuiltPoint, one_segment: bool) -> usize {
    if one_segment { 0 } else { point.generation }
}

/// The points of each segment of comparable points (see [`segment`]), as indices in time order.
fn segments(points: &[BuiltPoint], one_segment: bool) -> Vec<Vec<usize>> {
    let mut segments: Vec<Vec<usize>> = Vec::new();
    for (i, point) in points.iter().enumerate() {
        let segment = segment(point, one_segment);
        if segments.len() <= segment {
            segments.resize_with(segment + 1, Vec::new);
        }
        segments[segment].push(i);
    }
    segments
}

/// Changes between points, within each of `segments` (from [`segments`]), one per point; the
/// points they refer to (`previous`, `year_earlier`) are indices into `points`.
fn changes_by_segment(
    points: &[BuiltPoint],
    segments: &[Vec<usize>],
    unit: Unit,
) -> Vec<SeriesPoint> {
    let mut result: Vec<Option<SeriesPoint>> = points.iter().map(|_| None).collect();
    for indices in segments {
        let series = series_changes(
            indices.iter().map(|&i| (points[i].period, points[i].value)),
            unit,
        );
        for (&i, mut point) in indices.iter().zip(series) {
            point.previous = point.previous.map(|j| indices[j]);
            point.year_earlier = point.year_earlier.map(|j| indices[j]);
            result[i] = Some(point);
        }
    }
    result
        .into_iter()
        .map(|p| p.expect("every point is in a segment"))
        .collect()
}

#[cfg(test)]
mod tests {
    use ansinh_model::{IndicatorKind, Qualifier};

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

        // One set of boundaries: the change runs across the merger.
        let changes = changes_by_segment(points, &segments(points, true), Unit::Persons);
        assert_eq!(
            changes[2].from_previous.unwrap().absolute.value.to_string(),
            "10"
        );
        // Each version on its own: no change across generations.
        let changes = changes_by_segment(points, &segments(points, false), Unit::Persons);
        assert!(changes[2].from_previous.is_none());
        assert!(changes[1].from_previous.is_some());
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
