//! ListObservations and ExportObservations: the stored figures of a filter, a page at a time
//! behind a signed cursor, or all of them as a stream that holds a connection only while it
//! reads a chunk.

use std::collections::BTreeSet;

use ansinh_model::{IndicatorCode, RegionCode};
use ansinh_proto::{
    convert::{self, decimal_text},
    pb,
};
use ansinh_store::AsyncMysqlConnection;
use ansinh_store::queries::{
    self, EndWindow, ObservationCursor, ObservationFilter, ObservationRecord,
};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Status;
use tracing::Instrument;

use super::Statistics;
use super::regions::{region_message, versions_of};
use crate::cache::Generation;
use crate::catalog::{catalog, unknown_indicator};
use crate::db::Db;
use crate::error::{ApiError, Violations};
use crate::request::page_token;

/// Rows fetched per query while exporting: large enough to amortise a round trip, small enough
/// that a connection is held only briefly.
const EXPORT_CHUNK: u32 = 1000;
/// Observations buffered between the database and a client; when it is full the export waits
/// for the client (backpressure) without holding a connection.
const EXPORT_BUFFER: usize = 2 * EXPORT_CHUNK as usize;

/// The filter of ListObservations and ExportObservations, as the request gave it.
struct ObservationQuery {
    region_codes: Vec<RegionCode>,
    indicator_codes: Vec<IndicatorCode>,
    window: EndWindow,
    include_descendants: bool,
}

impl ObservationQuery {
    /// Reads the filter's fields, recording what is wrong with them in `violations`.
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
    /// indicator codes to ids in the catalog of `generation` (no query per code); NOT_FOUND for
    /// codes that name nothing.
    async fn resolve(
        &self,
        conn: &mut AsyncMysqlConnection,
        generation: Option<&Generation>,
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
                        .await?
                        .into_iter()
                        .map(|(id, _)| id),
                );
            }
            Some(ids.into_iter().collect())
        };
        let indicator_ids = if self.indicator_codes.is_empty() {
            None
        } else {
            let catalog = catalog(generation, conn).await?;
            let ids = self
                .indicator_codes
                .iter()
                .map(|code| {
                    catalog
                        .record(code.as_str())
                        .map(|record| record.id)
                        .ok_or_else(|| unknown_indicator(code))
                })
                .collect::<Result<_, _>>()?;
            Some(ids)
        };
        Ok(ObservationFilter {
            region_ids,
            indicator_ids,
            period_end: self.window,
        })
    }
}

/// A ListObservations request: its filter, page size and where the page starts.
pub(super) struct ListQuery {
    filter: ObservationQuery,
    page_size: u32,
    cursor: Option<ObservationCursor>,
}

impl ListQuery {
    pub(super) fn read(
        request: &pb::ListObservationsRequest,
        tokens: &page_token::Tokens,
    ) -> Result<Self, ApiError> {
        let mut violations = Violations::default();
        let filter = ObservationQuery::read(
            &mut violations,
            &request.region_codes,
            &request.indicator_codes,
            &request.start_date,
            &request.end_date,
            request.include_descendants,
        );
        let page_size = violations.page_size("page_size", request.page_size);
        let cursor = if request.page_token.is_empty() {
            None
        } else {
            let fingerprint = filter.fingerprint();
            let fingerprint: Vec<&str> = fingerprint.iter().map(String::as_str).collect();
            violations
                .check("page_token", tokens.decode(&request.page_token, &fingerprint))
                .and_then(|fields| {
                    let cursor = parse_cursor(&fields);
                    if cursor.is_none() {
                        violations.add(
                            "page_token",
                            "is not a page token of ListObservations; pass the next_page_token of the previous response unchanged",
                        );
                    }
                    cursor
                })
        };
        violations.finish()?;
        Ok(Self {
            filter,
            page_size,
            cursor,
        })
    }
}

/// An ExportObservations request: its filter.
pub(super) struct ExportQuery(ObservationQuery);

impl ExportQuery {
    pub(super) fn read(request: &pb::ExportObservationsRequest) -> Result<Self, ApiError> {
        let mut violations = Violations::default();
        let filter = ObservationQuery::read(
            &mut violations,
            &request.region_codes,
            &request.indicator_codes,
            &request.start_date,
            &request.end_date,
            request.include_descendants,
        );
        violations.finish()?;
        Ok(Self(filter))
    }
}

impl Statistics {
    /// One page of observations, and the token of the next when there is one.
    pub(super) async fn observation_page(
        &self,
        query: ListQuery,
    ) -> Result<pb::ListObservationsResponse, ApiError> {
        let generation = self.cache.generation(&self.db).await;
        let mut conn = self.db.conn().await?;
        let filter = query
            .filter
            .resolve(&mut conn, generation.as_deref())
            .await?;
        let page_size = query.page_size as usize;
        let mut records = queries::list_observations(
            &mut conn,
            &filter,
            query.cursor.as_ref(),
            query.page_size + 1,
        )
        .await?;
        drop(conn);
        let next_page_token = if records.len() > page_size {
            records.truncate(page_size);
            let last = ObservationCursor::after(records.last().expect("a full page"));
            let fingerprint = query.filter.fingerprint();
            let fingerprint: Vec<&str> = fingerprint.iter().map(String::as_str).collect();
            let fields = cursor_fields(&last);
            let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
            self.page_tokens.encode(&fingerprint, &fields)
        } else {
            String::new()
        };
        tracing::debug!(observations = records.len(), "page listed");
        Ok(pb::ListObservationsResponse {
            observations: records.iter().map(observation_message).collect(),
            next_page_token,
        })
    }

    /// Starts streaming every observation of the filter. The filter is resolved before the
    /// stream starts, so a bad code is a status, not a broken stream.
    pub(super) async fn export(
        &self,
        query: ExportQuery,
    ) -> Result<ReceiverStream<Result<pb::Observation, Status>>, ApiError> {
        let filter = {
            let generation = self.cache.generation(&self.db).await;
            let mut conn = self.db.conn().await?;
            query.0.resolve(&mut conn, generation.as_deref()).await?
        };
        let (sender, receiver) = mpsc::channel(EXPORT_BUFFER);
        tokio::spawn(export(self.db.clone(), filter, sender).instrument(tracing::Span::current()));
        Ok(ReceiverStream::new(receiver))
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
            let chunk =
                queries::list_observations(&mut conn, &filter, cursor.as_ref(), EXPORT_CHUNK)
                    .await?;
            Ok::<_, ApiError>(chunk)
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

#[cfg(test)]
mod tests {
    use super::super::fixtures::date;
    use super::*;

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
