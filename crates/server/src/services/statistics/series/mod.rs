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
    Change, Decimal, IndicatorCode, NaiveDate, Period, Quantity, RegionCode, Reported,
    combine_constituents, series_changes_in,
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
                    weight: None,
                }];
                let ancestors = match generation {
                    Some(generation) => generation.lineage_ancestors(&mut conn, region.id).await?,
                    None => Arc::new(queries::lineage_ancestors(&mut conn, region.id).await?),
                };
                constituents.extend(ancestors.iter().map(|ancestor| Constituent {
                    record: ancestor.region.clone(),
                    approximate: ancestor.approximate,
                    weight: ancestor.share.filter(|share| *share != Decimal::ONE),
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
                        weight: None,
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
    /// The share of its figures that belongs to the series region, when only a known part of
    /// it does (a divided commune whose parts' weights were imported); `None`: all of it, or an
    /// unknown part (then `approximate`).
    weight: Option<Decimal>,
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
        let reported = match constituents[own].weight {
            Some(weight) => subject
                .apportion(reported, weight)
                .map_err(|error| subject.roll_up_error(error))?,
            None => reported,
        };
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
mod tests;
