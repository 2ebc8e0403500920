//! StatisticsService: the figures and what follows from them. Each call reads the request,
//! resolves codes to region versions and catalog entries, fetches the figures it needs in a
//! few indexed queries, and hands them to the model's rules — `roll_up` and
//! `combine_constituents` for sums and recomputed ratios, `series_changes` for changes,
//! `Attainment::assess` for targets, `rank` for rankings. What is decided here is only which
//! stored figures a question is about:
//!
//! - a figure's period is read through the catalog's timing: stocks and ratios of stocks are
//!   levels at the instant their period ends, so `hi_coverage_rate` for `2024` is the figure
//!   ending 2024-12-31 whichever start it was stored with;
//! - the region version of a question is the one valid on the last day of its period; a code
//!   continued through a lineage edge (old 68 into the merged 68) is followed for targets, so
//!   a year-to-date figure of the old province meets the target set for the year;
//! - a series without `geography_as_of` is each figure in the boundaries of its own time, and
//!   its changes are computed only between figures of the same region version: across a
//!   boundary change a difference measures the redrawing, not a trend. With `geography_as_of`
//!   every point is in the same boundaries, so changes run over the whole series.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use bytes::Bytes;

use ansinh_model::{
    Attainment, Catalog, Change, IndicatorCode, IndicatorKind, NaiveDate, Period, Quantity,
    RegionCode, RegionLevel, Reported, RollUp, RollUpError, SeriesPoint, Timing, Unit,
    combine_constituents, rank, roll_up, series_changes,
};
use ansinh_proto::{
    convert::{self, decimal_text, region_level},
    pb,
};
use ansinh_store::queries::{
    self, EndWindow, Figure, IndicatorRecord, ObservationCursor, ObservationFilter,
    ObservationRecord, RegionRecord, TargetRecord,
};
use ansinh_store::{AsyncMysqlConnection, StoreError};
use chrono::Datelike;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};
use tracing::Instrument;

use crate::{
    cache::{Cache, Generation, TimeSeriesKey},
    db::Db,
    error::{ApiError, Violations},
    request::{page_token, today},
};

/// Rows fetched per query while exporting: large enough to amortise a round trip, small enough
/// that a connection is held only briefly.
const EXPORT_CHUNK: u32 = 1000;
/// Observations buffered between the database and a client; when it is full the export waits
/// for the client (backpressure) without holding a connection.
const EXPORT_BUFFER: usize = 2 * EXPORT_CHUNK as usize;

/// The StatisticsService implementation.
pub(crate) struct Statistics {
    db: Db,
    cache: Cache,
    page_tokens: page_token::Tokens,
}

impl Statistics {
    pub(crate) fn new(db: Db, cache: Cache, page_tokens: page_token::Tokens) -> Self {
        Self {
            db,
            cache,
            page_tokens,
        }
    }

    /// GetTimeSeries, its answer encoded: from the cache when the current generation holds
    /// it, else computed, encoded and stored there.
    #[tracing::instrument(name = "get_time_series", skip_all, fields(region.code = %request.region_code, indicator.code = %request.indicator_code))]
    pub(crate) async fn time_series_encoded(
        &self,
        request: pb::GetTimeSeriesRequest,
    ) -> Result<Bytes, ApiError> {
        let mut violations = Violations::default();
        let code = violations.region_code("region_code", &request.region_code);
        let indicator_code = violations.indicator_code("indicator_code", &request.indicator_code);
        let window = violations.end_window(&request.start_date, &request.end_date);
        let geography_as_of = violations.optional_date("geography_as_of", &request.geography_as_of);
        violations.finish()?;
        let (code, indicator_code) = (code.expect("checked"), indicator_code.expect("checked"));

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
                    None => Arc::new(
                        queries::lineage_ancestors(&mut conn, region.id)
                            .await
                            .map_err(store)?,
                    ),
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
        .await
        .map_err(store)?;
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

fn store(error: StoreError) -> ApiError {
    ApiError::from(error)
}

// ---------------------------------------------------------------------------------------------
// The catalog and the indicator a question is about.

/// The catalog as stored, with row ids, checked as a whole so that timing is known.
pub(crate) struct CatalogView {
    catalog: Catalog,
    by_code: BTreeMap<String, IndicatorRecord>,
}

/// The catalog of `generation`, else read now.
async fn catalog(
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
        let records = queries::list_indicators(conn).await.map_err(store)?;
        let catalog = Catalog::new(records.iter().map(|record| record.indicator.clone()))
            .map_err(|error| ApiError::Internal(Box::new(error)))?;
        let by_code = records
            .into_iter()
            .map(|record| (record.indicator.code.to_string(), record))
            .collect();
        Ok(Self { catalog, by_code })
    }

    fn record(&self, code: &str) -> Option<&IndicatorRecord> {
        self.by_code.get(code)
    }

    /// The indicator `code` with its ratio parts, or NOT_FOUND.
    fn subject(&self, code: &IndicatorCode) -> Result<Subject<'_>, ApiError> {
        let record = self
            .record(code.as_str())
            .ok_or_else(|| unknown_indicator(code))?;
        Ok(self.subject_of(record))
    }

    fn subject_of<'a>(&'a self, record: &'a IndicatorRecord) -> Subject<'a> {
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

fn unknown_indicator(code: &impl std::fmt::Display) -> ApiError {
    ApiError::NotFound(format!(
        "no indicator with code {code} in the catalog; IndicatorService.ListIndicators lists them"
    ))
}

/// An indicator and, for a ratio, its parts: the figures a question about it needs.
#[derive(Clone, Copy)]
struct Subject<'a> {
    record: &'a IndicatorRecord,
    timing: Timing,
    numerator: Option<&'a IndicatorRecord>,
    denominator: Option<&'a IndicatorRecord>,
}

impl Subject<'_> {
    fn kind(&self) -> IndicatorKind {
        self.record.indicator.kind
    }

    fn code(&self) -> &IndicatorCode {
        &self.record.indicator.code
    }

    /// The ids of the indicator and its parts.
    fn indicator_ids(&self) -> Vec<u32> {
        [Some(self.record), self.numerator, self.denominator]
            .into_iter()
            .flatten()
            .map(|record| record.id)
            .collect()
    }

    /// The period a figure for `period` is stored under.
    fn stored_period(&self, period: Period) -> Period {
        self.timing.period(period)
    }

    /// What each region reported for each stored period, from `figures` of the indicator and
    /// its parts. A level stored once with a whole-year start and once as an instant is one
    /// figure; the instant, read last in key order, wins.
    fn reported(&self, figures: &[Figure]) -> BTreeMap<(u32, Period), Reported> {
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

    /// One region's own figure: its value, or for a ratio without one, the rate of its parts.
    fn own_value(&self, reported: Reported) -> Option<Quantity> {
        roll_up(self.kind(), [((), reported)])
            .ok()
            .and_then(|figure| figure.value)
    }

    /// The roll-up error as the caller's problem with this indicator.
    fn roll_up_error(&self, error: RollUpError) -> ApiError {
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

// ---------------------------------------------------------------------------------------------
// Regions.

fn not_valid(code: &impl std::fmt::Display, date: NaiveDate) -> ApiError {
    ApiError::NotFound(format!("no region with code {code} is valid on {date}"))
}

fn unknown_regions(codes: &[&str]) -> ApiError {
    ApiError::NotFound(if codes.len() == 1 {
        format!("no region with code {}", codes[0])
    } else {
        format!("no regions with codes {}", codes.join(", "))
    })
}

/// Every version of each code, grouped by code; NOT_FOUND naming every code without one.
async fn versions_of(
    conn: &mut AsyncMysqlConnection,
    codes: &[RegionCode],
) -> Result<BTreeMap<String, Vec<RegionRecord>>, ApiError> {
    let texts: Vec<&str> = codes.iter().map(RegionCode::as_str).collect();
    let mut by_code: BTreeMap<String, Vec<RegionRecord>> = BTreeMap::new();
    for record in queries::region_versions(conn, &texts)
        .await
        .map_err(store)?
    {
        by_code
            .entry(record.region.code.to_string())
            .or_default()
            .push(record);
    }
    let mut unknown: Vec<&str> = texts
        .iter()
        .copied()
        .filter(|code| !by_code.contains_key(*code))
        .collect();
    unknown.dedup();
    if unknown.is_empty() {
        Ok(by_code)
    } else {
        Err(unknown_regions(&unknown))
    }
}

/// The version valid on `date`, else the latest one that started before it, else the first.
fn version_for(versions: &[RegionRecord], date: NaiveDate) -> Option<&RegionRecord> {
    versions
        .iter()
        .find(|record| record.region.validity.contains(date))
        .or_else(|| {
            versions
                .iter()
                .filter(|record| record.region.validity.from <= date)
                .max_by_key(|record| record.region.validity.from)
        })
        .or_else(|| versions.first())
}

/// Versions of the same code linked to `record` by a lineage edge (old 68 and the merged 68):
/// the same name carried on, so a target set for one applies to the other's figures.
async fn same_code_lineage(
    conn: &mut AsyncMysqlConnection,
    record: &RegionRecord,
) -> Result<Vec<RegionRecord>, ApiError> {
    let mut linked = queries::lineage_predecessors(conn, record.id)
        .await
        .map_err(store)?;
    linked.extend(
        queries::lineage_successors(conn, record.id)
            .await
            .map_err(store)?,
    );
    Ok(linked
        .into_iter()
        .map(|edge| edge.region)
        .filter(|other| other.region.code == record.region.code && other.id != record.id)
        .collect())
}

fn region_message(record: &RegionRecord) -> Option<pb::Region> {
    Some(pb::Region::from(&record.region))
}

// ---------------------------------------------------------------------------------------------
// Request readers shared by several methods.

impl Violations {
    /// A required child level.
    fn level(&mut self, field: &str, value: i32) -> Option<RegionLevel> {
        match pb::RegionLevel::try_from(value) {
            Err(_) => {
                self.add(field, format!("{value} is not a RegionLevel value"));
                None
            }
            Ok(level) => {
                let level = region_level(level);
                if level.is_none() {
                    self.add(
                        field,
                        "is required: the level of the children, such as REGION_LEVEL_PROVINCE",
                    );
                }
                level
            }
        }
    }

    /// A window of period end dates; the end must not come before the start.
    fn end_window(&mut self, start: &str, end: &str) -> EndWindow {
        let from = self.optional_date("start_date", start);
        let to = self.optional_date("end_date", end);
        if let (Some(from), Some(to)) = (from, to)
            && to < from
        {
            self.add(
                "end_date",
                format!(
                    "{to} is before start_date {from}; give a window that ends after it starts"
                ),
            );
        }
        EndWindow { from, to }
    }

    /// Repeated region codes; each bad one is reported with its index.
    fn region_codes(&mut self, field: &str, texts: &[String]) -> Vec<RegionCode> {
        texts
            .iter()
            .enumerate()
            .filter_map(|(i, text)| self.region_code(&format!("{field}[{i}]"), text))
            .collect()
    }

    /// Repeated indicator codes; each bad one is reported with its index.
    fn indicator_codes(&mut self, field: &str, texts: &[String]) -> Vec<IndicatorCode> {
        texts
            .iter()
            .enumerate()
            .filter_map(|(i, text)| self.indicator_code(&format!("{field}[{i}]"), text))
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// ListObservations and ExportObservations.

/// The filter of ListObservations and ExportObservations, as the request gave it.
struct ObservationQuery {
    region_codes: Vec<RegionCode>,
    indicator_codes: Vec<IndicatorCode>,
    window: EndWindow,
    include_descendants: bool,
}

impl ObservationQuery {
    fn read(
        violations: &mut Violations,
        region_codes: &[String],
        indicator_codes: &[String],
        start_date: &str,
        end_date: &str,
        include_descendants: bool,
    ) -> Self {
        Self {
            region_codes: violations.region_codes("region_codes", region_codes),
            indicator_codes: violations.indicator_codes("indicator_codes", indicator_codes),
            window: violations.end_window(start_date, end_date),
            include_descendants,
        }
    }

    /// The fields a page token is bound to.
    fn fingerprint(&self) -> [String; 5] {
        let join = |codes: Vec<&str>| codes.join(",");
        [
            join(self.region_codes.iter().map(RegionCode::as_str).collect()),
            join(
                self.indicator_codes
                    .iter()
                    .map(IndicatorCode::as_str)
                    .collect(),
            ),
            self.window.from.map(|d| d.to_string()).unwrap_or_default(),
            self.window.to.map(|d| d.to_string()).unwrap_or_default(),
            u8::from(self.include_descendants).to_string(),
        ]
    }

    /// The store filter: codes resolved to every version (and their descendants when asked),
    /// indicator codes to catalog ids; NOT_FOUND for codes that name nothing.
    async fn resolve(
        &self,
        conn: &mut AsyncMysqlConnection,
    ) -> Result<ObservationFilter, ApiError> {
        let region_ids = if self.region_codes.is_empty() {
            None
        } else {
            let versions = versions_of(conn, &self.region_codes).await?;
            let mut ids: BTreeSet<u32> = versions.values().flatten().map(|r| r.id).collect();
            if self.include_descendants {
                let roots: Vec<u32> = ids.iter().copied().collect();
                ids.extend(
                    queries::descendant_ids(conn, &roots, None)
                        .await
                        .map_err(store)?
                        .into_iter()
                        .map(|(id, _)| id),
                );
            }
            Some(ids.into_iter().collect())
        };
        let indicator_ids = if self.indicator_codes.is_empty() {
            None
        } else {
            let mut ids = Vec::with_capacity(self.indicator_codes.len());
            for code in &self.indicator_codes {
                let record = queries::indicator_by_code(conn, code)
                    .await
                    .map_err(store)?
                    .ok_or_else(|| unknown_indicator(code))?;
                ids.push(record.id);
            }
            Some(ids)
        };
        Ok(ObservationFilter {
            region_ids,
            indicator_ids,
            period_end: self.window,
        })
    }
}

fn observation_message(record: &ObservationRecord) -> pb::Observation {
    pb::Observation {
        region: region_message(&record.region),
        indicator_code: record.indicator_code.to_string(),
        period: Some(pb::Period::from(record.period)),
        value: decimal_text(record.value.value),
        unit: pb::Unit::from(record.unit).into(),
        qualifier: convert::qualifier(record.value.qualifier),
        source: record.source.clone().unwrap_or_default(),
        note: record.note.clone().unwrap_or_default(),
        import_run_id: record.import_run_id.to_string(),
    }
}

fn cursor_fields(cursor: &ObservationCursor) -> [String; 4] {
    [
        cursor.region_id.to_string(),
        cursor.indicator_id.to_string(),
        cursor.period_end.to_string(),
        cursor.period_start.to_string(),
    ]
}

fn parse_cursor(fields: &[String]) -> Option<ObservationCursor> {
    match fields {
        [region_id, indicator_id, end, start] => Some(ObservationCursor {
            region_id: region_id.parse().ok()?,
            indicator_id: indicator_id.parse().ok()?,
            period_end: end.parse().ok()?,
            period_start: start.parse().ok()?,
        }),
        _ => None,
    }
}

/// Sends every observation of `filter` to `sender`, a chunk per query, until done or until
/// the receiver (the client's stream) is gone. A connection is held only while a chunk is read.
async fn export(
    db: Db,
    filter: ObservationFilter,
    sender: mpsc::Sender<Result<pb::Observation, Status>>,
) {
    let mut cursor: Option<ObservationCursor> = None;
    let mut sent: u64 = 0;
    loop {
        if sender.is_closed() {
            tracing::info!(export.rows = sent, "client went away; export stopped");
            return;
        }
        let chunk = async {
            let mut conn = db.conn().await?;
            queries::list_observations(&mut conn, &filter, cursor.as_ref(), EXPORT_CHUNK)
                .await
                .map_err(store)
        }
        .await;
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(error) => {
                let _ = sender.send(Err(Status::from(error))).await;
                return;
            }
        };
        let last_chunk = chunk.len() < EXPORT_CHUNK as usize;
        cursor = chunk.last().map(ObservationCursor::after);
        for record in &chunk {
            if sender.send(Ok(observation_message(record))).await.is_err() {
                tracing::info!(export.rows = sent, "client went away; export stopped");
                return;
            }
            sent += 1;
        }
        if last_chunk {
            tracing::debug!(export.rows = sent, "export finished");
            return;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// GetTimeSeries.

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

// ---------------------------------------------------------------------------------------------
// Targets.

/// The figure a target of `target_period` is held against: for a level, the one at the
/// period's end, else the latest inside the period (year to date); for an amount over an
/// interval, the same period, else the longest one from the period's start (year to date).
fn actual_for(
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

fn position(ids: &[u32], id: u32) -> usize {
    ids.iter().position(|&x| x == id).unwrap_or(usize::MAX)
}

/// The target set for `target_period`, preferring the first version in `region_ids`.
fn target_for<'a>(
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
fn target_span(target: &TargetRecord) -> Period {
    if !target.period.is_instant() {
        return target.period;
    }
    let end = target.period.end();
    NaiveDate::from_ymd_opt(end.year(), 1, 1)
        .and_then(|start| Period::from_bounds(start, end).ok())
        .unwrap_or(target.period)
}

/// A region's attainment message: the model's assessment plus the figures it was made from.
fn attainment_message(
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

// ---------------------------------------------------------------------------------------------
// The service.

#[tonic::async_trait]
impl pb::statistics_service_server::StatisticsService for Statistics {
    #[tracing::instrument(skip_all)]
    async fn list_observations(
        &self,
        request: Request<pb::ListObservationsRequest>,
    ) -> Result<Response<pb::ListObservationsResponse>, Status> {
        let request = request.into_inner();
        let mut violations = Violations::default();
        let query = ObservationQuery::read(
            &mut violations,
            &request.region_codes,
            &request.indicator_codes,
            &request.start_date,
            &request.end_date,
            request.include_descendants,
        );
        let page_size = violations.page_size("page_size", request.page_size);
        let fingerprint = query.fingerprint();
        let fingerprint: Vec<&str> = fingerprint.iter().map(String::as_str).collect();
        let cursor = if request.page_token.is_empty() {
            None
        } else {
            match violations.check(
                "page_token",
                self.page_tokens.decode(&request.page_token, &fingerprint),
            ) {
                Some(fields) => {
                    let cursor = parse_cursor(&fields);
                    if cursor.is_none() {
                        violations.add(
                            "page_token",
                            "is not a page token of ListObservations; pass the next_page_token of the previous response unchanged",
                        );
                    }
                    cursor
                }
                None => None,
            }
        };
        violations.finish()?;

        let mut conn = self.db.conn().await?;
        let filter = query.resolve(&mut conn).await?;
        let mut records =
            queries::list_observations(&mut conn, &filter, cursor.as_ref(), page_size + 1)
                .await
                .map_err(store)?;
        let next_page_token = if records.len() > page_size as usize {
            records.truncate(page_size as usize);
            let last = ObservationCursor::after(records.last().expect("a full page"));
            let fields = cursor_fields(&last);
            let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
            self.page_tokens.encode(&fingerprint, &fields)
        } else {
            String::new()
        };
        tracing::debug!(observations = records.len(), "page listed");
        Ok(Response::new(pb::ListObservationsResponse {
            observations: records.iter().map(observation_message).collect(),
            next_page_token,
        }))
    }

    type ExportObservationsStream = ReceiverStream<Result<pb::Observation, Status>>;

    #[tracing::instrument(skip_all)]
    async fn export_observations(
        &self,
        request: Request<pb::ExportObservationsRequest>,
    ) -> Result<Response<Self::ExportObservationsStream>, Status> {
        let request = request.into_inner();
        let mut violations = Violations::default();
        let query = ObservationQuery::read(
            &mut violations,
            &request.region_codes,
            &request.indicator_codes,
            &request.start_date,
            &request.end_date,
            request.include_descendants,
        );
        violations.finish()?;

        // The filter is resolved before the stream starts, so a bad code is a status, not a
        // broken stream.
        let filter = {
            let mut conn = self.db.conn().await?;
            query.resolve(&mut conn).await?
        };
        let (sender, receiver) = mpsc::channel(EXPORT_BUFFER);
        tokio::spawn(export(self.db.clone(), filter, sender).instrument(tracing::Span::current()));
        Ok(Response::new(ReceiverStream::new(receiver)))
    }

    /// Served by [`super::encoded`] without decoding cached answers; this is the same answer
    /// for a server built from the generated service alone.
    async fn get_time_series(
        &self,
        request: Request<pb::GetTimeSeriesRequest>,
    ) -> Result<Response<pb::GetTimeSeriesResponse>, Status> {
        let encoded = self.time_series_encoded(request.into_inner()).await?;
        let response = <pb::GetTimeSeriesResponse as prost::Message>::decode(encoded)
            .map_err(|error| ApiError::Internal(Box::new(error)))?;
        Ok(Response::new(response))
    }

    #[tracing::instrument(skip_all, fields(region.code = %request.get_ref().parent_code, indicator.code = %request.get_ref().indicator_code))]
    async fn aggregate(
        &self,
        request: Request<pb::AggregateRequest>,
    ) -> Result<Response<pb::AggregateResponse>, Status> {
        let request = request.into_inner();
        let mut violations = Violations::default();
        let parent_code = violations.region_code("parent_code", &request.parent_code);
        let level = violations.level("level", request.level);
        let indicator_code = violations.indicator_code("indicator_code", &request.indicator_code);
        let period = violations.period("period", &request.period);
        violations.finish()?;
        let (parent_code, level, indicator_code, period) = (
            parent_code.expect("checked"),
            level.expect("checked"),
            indicator_code.expect("checked"),
            period.expect("checked"),
        );

        let generation = self.cache.generation(&self.db).await;
        let mut conn = self.db.conn().await?;
        let catalog = catalog(generation.as_deref(), &mut conn).await?;
        let subject = catalog.subject(&indicator_code)?;
        let stored = subject.stored_period(period);
        let (parent, children) =
            parent_and_children(&mut conn, &parent_code, level, stored.end()).await?;
        let ids: Vec<u32> = children.iter().map(|c| c.id).collect();
        let figures = queries::figures(
            &mut conn,
            &ids,
            Some(&subject.indicator_ids()),
            EndWindow::on(stored.end()),
        )
        .await
        .map_err(store)?;
        drop(conn);

        let mut reported = subject.reported(&figures);
        let rolled: RollUp<RegionCode> = roll_up(
            subject.kind(),
            children.iter().map(|child| {
                let figure = reported
                    .remove(&(child.id, stored))
                    .unwrap_or(Reported::NOTHING);
                (child.region.code.clone(), figure)
            }),
        )
        .map_err(|error| subject.roll_up_error(error))?;
        let is_ratio = subject.kind() == IndicatorKind::Ratio;
        Ok(Response::new(pb::AggregateResponse {
            parent: region_message(&parent),
            indicator: Some(pb::Indicator::from(&subject.record.indicator)),
            period: Some(pb::Period::from(stored)),
            value: convert::optional_decimal_text(rolled.value.map(|v| v.value)),
            qualifier: rolled.value.map_or(pb::Qualifier::Unspecified.into(), |v| {
                convert::qualifier(v.qualifier)
            }),
            numerator_value: if is_ratio {
                convert::optional_decimal_text(rolled.numerator.map(|v| v.value))
            } else {
                String::new()
            },
            denominator_value: if is_ratio {
                convert::optional_decimal_text(rolled.denominator.map(|v| v.value))
            } else {
                String::new()
            },
            completeness: Some(convert::completeness(&rolled)),
        }))
    }

    #[tracing::instrument(skip_all, fields(indicator.code = %request.get_ref().indicator_code, regions = request.get_ref().region_codes.len()))]
    async fn get_target_attainment(
        &self,
        request: Request<pb::GetTargetAttainmentRequest>,
    ) -> Result<Response<pb::GetTargetAttainmentResponse>, Status> {
        let request = request.into_inner();
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
        violations.finish()?;
        let (indicator_code, period) = (indicator_code.expect("checked"), period.expect("checked"));

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
        .await
        .map_err(store)?;
        let figures = queries::figures(
            &mut conn,
            &ids,
            Some(&subject.indicator_ids()),
            EndWindow {
                from: Some(period.start()),
                to: Some(period.end()),
            },
        )
        .await
        .map_err(store)?;
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
        Ok(Response::new(pb::GetTargetAttainmentResponse {
            indicator: Some(pb::Indicator::from(&subject.record.indicator)),
            period: Some(pb::Period::from(period)),
            attainments,
        }))
    }

    #[tracing::instrument(skip_all, fields(region.code = %request.get_ref().parent_code, indicator.code = %request.get_ref().indicator_code))]
    async fn rank_regions(
        &self,
        request: Request<pb::RankRegionsRequest>,
    ) -> Result<Response<pb::RankRegionsResponse>, Status> {
        let request = request.into_inner();
        let mut violations = Violations::default();
        let parent_code = violations.region_code("parent_code", &request.parent_code);
        let level = violations.level("level", request.level);
        let indicator_code = violations.indicator_code("indicator_code", &request.indicator_code);
        let period = violations.period("period", &request.period);
        let limit = violations.page_size("limit", request.limit) as usize;
        violations.finish()?;
        let (parent_code, level, indicator_code, period) = (
            parent_code.expect("checked"),
            level.expect("checked"),
            indicator_code.expect("checked"),
            period.expect("checked"),
        );

        let generation = self.cache.generation(&self.db).await;
        let mut conn = self.db.conn().await?;
        let catalog = catalog(generation.as_deref(), &mut conn).await?;
        let subject = catalog.subject(&indicator_code)?;
        let stored = subject.stored_period(period);
        let (parent, children) =
            parent_and_children(&mut conn, &parent_code, level, stored.end()).await?;
        let mut ids: Vec<u32> = children.iter().map(|c| c.id).collect();
        ids.push(parent.id);
        let figures = queries::figures(
            &mut conn,
            &ids,
            Some(&subject.indicator_ids()),
            EndWindow::on(stored.end()),
        )
        .await
        .map_err(store)?;
        drop(conn);

        let reported = subject.reported(&figures);
        let value_of = |id: u32| {
            reported
                .get(&(id, stored))
                .and_then(|figure| subject.own_value(*figure))
        };
        let parent_value = value_of(parent.id);
        let mut missing = Vec::new();
        let mut entries = Vec::new();
        for (i, child) in children.iter().enumerate() {
            match value_of(child.id) {
                Some(value) => entries.push((i, value)),
                None => missing.push(child.region.code.clone()),
            }
        }
        let completeness = convert::completeness(&RollUp::<RegionCode> {
            value: None,
            numerator: None,
            denominator: None,
            reporting: entries.len(),
            expected: children.len(),
            missing,
        });
        // Keys are positions in the code-ordered children, so ties list in code order.
        let ranked = rank(entries, request.ascending, parent_value);
        Ok(Response::new(pb::RankRegionsResponse {
            parent: region_message(&parent),
            indicator: Some(pb::Indicator::from(&subject.record.indicator)),
            period: Some(pb::Period::from(stored)),
            parent_value: convert::optional_decimal_text(parent_value.map(|v| v.value)),
            parent_qualifier: parent_value.map_or(pb::Qualifier::Unspecified.into(), |v| {
                convert::qualifier(v.qualifier)
            }),
            entries: ranked
                .into_iter()
                .take(limit)
                .map(|entry| pb::RankedRegion {
                    rank: i32::try_from(entry.rank).unwrap_or(i32::MAX),
                    region: region_message(&children[entry.key]),
                    value: decimal_text(entry.value.value),
                    qualifier: convert::qualifier(entry.value.qualifier),
                    difference_from_parent: convert::optional_decimal_text(
                        entry.difference_from_reference.map(|d| d.value),
                    ),
                })
                .collect(),
            completeness: Some(completeness),
        }))
    }

    #[tracing::instrument(skip_all, fields(region.code = %request.get_ref().region_code))]
    async fn get_region_summary(
        &self,
        request: Request<pb::GetRegionSummaryRequest>,
    ) -> Result<Response<pb::GetRegionSummaryResponse>, Status> {
        let request = request.into_inner();
        let mut violations = Violations::default();
        let code = violations.region_code("region_code", &request.region_code);
        let as_of = violations.date_or_today("as_of", &request.as_of);
        violations.finish()?;
        let code = code.expect("checked");

        let generation = self.cache.generation(&self.db).await;
        let mut conn = self.db.conn().await?;
        let region = queries::region_at(&mut conn, &code, as_of)
            .await
            .map_err(store)?
            .ok_or_else(|| not_valid(&code, as_of))?;
        let catalog = catalog(generation.as_deref(), &mut conn).await?;
        let figures = queries::figures(&mut conn, &[region.id], None, EndWindow::until(as_of))
            .await
            .map_err(store)?;
        let mut target_regions = vec![region.id];
        target_regions.extend(
            same_code_lineage(&mut conn, &region)
                .await?
                .into_iter()
                .map(|r| r.id),
        );
        let targets = queries::targets(&mut conn, &target_regions, None, EndWindow::default())
            .await
            .map_err(store)?;
        drop(conn);

        let with_data: BTreeSet<u32> = figures.iter().map(|f| f.indicator_id).collect();
        let mut indicators = Vec::new();
        // The catalog is ordered by code, and so is the summary.
        for record in catalog.by_code.values() {
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
            let target = targets
                .iter()
                .filter(|t| t.indicator_id == record.id)
                .filter(|t| target_span(t).contains_date(period.end()))
                .min_by_key(|t| (t.period.end(), position(&target_regions, t.region_id)));
            let target = target.map(|t| {
                attainment_message(
                    subject,
                    &region,
                    target_span(t),
                    Some(t),
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
        Ok(Response::new(pb::GetRegionSummaryResponse {
            region: region_message(&region),
            as_of: convert::date_text(as_of),
            indicators,
        }))
    }
}

/// The parent version valid on `date` and its descendants at `level` valid then, ordered by
/// code. INVALID_ARGUMENT when `level` cannot be below the parent's.
async fn parent_and_children(
    conn: &mut AsyncMysqlConnection,
    parent_code: &RegionCode,
    level: RegionLevel,
    date: NaiveDate,
) -> Result<(RegionRecord, Vec<RegionRecord>), ApiError> {
    let parent = queries::region_at(conn, parent_code, date)
        .await
        .map_err(store)?
        .ok_or_else(|| not_valid(parent_code, date))?;
    let parent_level = parent.region.level;
    if parent_level != RegionLevel::Group && !parent_level.is_above(level) {
        return Err(ApiError::field(
            "level",
            format!(
                "{level} is not below {parent_code}, a {parent_level}; ask for a level under the parent's"
            ),
        ));
    }
    let children = queries::descendants_at_level(conn, parent.id, level, date)
        .await
        .map_err(store)?;
    Ok((parent, children))
}

#[cfg(test)]
mod tests {
    use ansinh_model::{Indicator, Qualifier, Region, Validity};

    use super::*;

    fn date(text: &str) -> NaiveDate {
        ansinh_model::parse_date(text).unwrap()
    }

    fn period(text: &str) -> Period {
        Period::parse(text).unwrap()
    }

    fn quantity(text: &str, qualifier: Qualifier) -> Quantity {
        Quantity::new(text.parse().unwrap(), qualifier)
    }

    fn indicator(
        id: u32,
        code: &str,
        unit: Unit,
        kind: IndicatorKind,
        parts: Option<(&str, &str)>,
    ) -> IndicatorRecord {
        IndicatorRecord {
            id,
            indicator: Indicator::new(
                code.parse().unwrap(),
                code,
                None,
                unit,
                kind,
                parts.map(|(n, _)| n.parse().unwrap()),
                parts.map(|(_, d)| d.parse().unwrap()),
                None,
            )
            .unwrap(),
        }
    }

    fn region(id: u32, code: &str, from: &str, to: Option<&str>) -> RegionRecord {
        RegionRecord {
            id,
            parent_id: None,
            region: Region::new(
                code.parse().unwrap(),
                RegionLevel::Province,
                format!("Province {code}"),
                None,
                None,
                None,
                Validity::new(date(from), to.map(date)).unwrap(),
            )
            .unwrap(),
        }
    }

    /// hi_participants (1), population (2), hi_coverage_rate (3) = 1 / 2, benefits_paid (4).
    fn catalog() -> (
        IndicatorRecord,
        IndicatorRecord,
        IndicatorRecord,
        IndicatorRecord,
    ) {
        (
            indicator(
                1,
                "hi_participants",
                Unit::Persons,
                IndicatorKind::Stock,
                None,
            ),
            indicator(2, "population", Unit::Persons, IndicatorKind::Stock, None),
            indicator(
                3,
                "hi_coverage_rate",
                Unit::Percent,
                IndicatorKind::Ratio,
                Some(("hi_participants", "population")),
            ),
            indicator(4, "benefits_paid", Unit::Vnd, IndicatorKind::Flow, None),
        )
    }

    fn stock(record: &IndicatorRecord) -> Subject<'_> {
        Subject {
            record,
            timing: Timing::Instant,
            numerator: None,
            denominator: None,
        }
    }

    fn figure(region_id: u32, indicator_id: u32, text: &str, value: Quantity) -> Figure {
        Figure {
            region_id,
            indicator_id,
            period: period(text),
            value,
        }
    }

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
        let exact = |text| quantity(text, Qualifier::Exact);
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
        let exact = |text| quantity(text, Qualifier::Exact);
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
        let subject = Subject {
            record: &coverage,
            timing: Timing::Instant,
            numerator: Some(&participants),
            denominator: Some(&population),
        };
        let exact = |text| quantity(text, Qualifier::Exact);
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
        let subject = Subject {
            record: &plan,
            timing: Timing::Interval,
            numerator: None,
            denominator: None,
        };
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

    #[test]
    fn the_actual_for_a_target_is_the_period_end_figure_else_the_latest_so_far() {
        let (participants, population, coverage, benefits) = catalog();
        let rate = Subject {
            record: &coverage,
            timing: Timing::Instant,
            numerator: Some(&participants),
            denominator: Some(&population),
        };
        let exact = |text| quantity(text, Qualifier::Exact);
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
        let flow = Subject {
            record: &benefits,
            timing: Timing::Interval,
            numerator: None,
            denominator: None,
        };
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
        let rate = Subject {
            record: &coverage,
            timing: Timing::Instant,
            numerator: Some(&participants),
            denominator: Some(&population),
        };
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

    #[test]
    fn a_region_version_is_the_one_valid_then_else_the_latest_before() {
        let versions = [
            region(1, "68", "2008-08-01", Some("2025-06-30")),
            region(3, "68", "2025-07-01", None),
        ];
        assert_eq!(version_for(&versions, date("2024-06-01")).unwrap().id, 1);
        assert_eq!(version_for(&versions, date("2025-08-01")).unwrap().id, 3);
        let abolished = [region(7, "60", "2008-08-01", Some("2025-06-30"))];
        assert_eq!(version_for(&abolished, date("2026-01-01")).unwrap().id, 7);
        assert_eq!(version_for(&abolished, date("2000-01-01")).unwrap().id, 7);
    }

    #[test]
    fn page_cursors_survive_the_token_round_trip() {
        let cursor = ObservationCursor {
            region_id: 68,
            indicator_id: 4,
            period_end: date("2024-12-31"),
            period_start: date("2024-01-01"),
        };
        assert_eq!(parse_cursor(&cursor_fields(&cursor)), Some(cursor));
        assert_eq!(parse_cursor(&["1".into(), "2".into()]), None);
        assert_eq!(
            parse_cursor(&[
                "x".into(),
                "2".into(),
                "2024-12-31".into(),
                "2024-01-01".into()
            ]),
            None
        );
    }
}
