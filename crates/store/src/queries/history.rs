//! The versions of one figure: the value stored now and every value an import run replaced,
//! newest first, each with the run that set it, when that run committed, and the run that
//! replaced it. The importer keeps a replaced value in `observation_history` in the same
//! transaction that replaces it, so the versions are complete from the first run on.

use ansinh_model::{Period, Quantity};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::{AsyncMysqlConnection, RunQueryDsl};

use crate::StoreError;
use crate::decimal::SqlDecimal;
use crate::queries::observations::qualifier;
use crate::schema::{import_runs, observation_history, observations, sources};

/// One version of a figure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservationVersion {
    /// The value and its qualifier.
    pub value: Quantity,
    /// The source's name, if one was given.
    pub source: Option<String>,
    pub note: Option<String>,
    /// The import run that set this value.
    pub set_by_run_id: u64,
    /// When that run finished (committed).
    pub set_at: Option<NaiveDateTime>,
    /// The run that replaced this value; `None` for the value stored now.
    pub replaced_by_run_id: Option<u64>,
    /// When it was replaced.
    pub replaced_at: Option<NaiveDateTime>,
}

/// Value, qualifier code, source name, note, the run that set it.
type Stored = (SqlDecimal, u8, Option<String>, Option<String>, u64);

/// Every version of the figure of region version `region_id` and indicator `indicator_id` for
/// the stored `period`, newest first; empty when none was ever stored.
pub async fn observation_versions(
    conn: &mut AsyncMysqlConnection,
    region_id: u32,
    indicator_id: u32,
    period: Period,
) -> Result<Vec<ObservationVersion>, StoreError> {
    let current: Vec<(Stored, Option<NaiveDateTime>)> = observations::table
        .left_join(sources::table.on(sources::id.nullable().eq(observations::source_id)))
        .left_join(import_runs::table.on(import_runs::id.eq(observations::import_run_id)))
        .filter(observations::region_id.eq(region_id))
        .filter(observations::indicator_id.eq(indicator_id))
        .filter(observations::period_end.eq(period.end()))
        .filter(observations::period_start.eq(period.start()))
        .select((
            (
                observations::value,
                observations::qualifier,
                sources::name.nullable(),
                observations::note,
                observations::import_run_id,
            ),
            import_runs::finished_at.nullable(),
        ))
        .load(conn)
        .await?;
    let replaced: Vec<(Stored, Option<NaiveDateTime>, u64, NaiveDateTime)> =
        observation_history::table
            .left_join(sources::table.on(sources::id.nullable().eq(observation_history::source_id)))
            .left_join(
                import_runs::table.on(import_runs::id.eq(observation_history::set_by_run_id)),
            )
            .filter(observation_history::region_id.eq(region_id))
            .filter(observation_history::indicator_id.eq(indicator_id))
            .filter(observation_history::period_end.eq(period.end()))
            .filter(observation_history::period_start.eq(period.start()))
            .order((
                observation_history::replaced_by_run_id.desc(),
                observation_history::id.desc(),
            ))
            .select((
                (
                    observation_history::value,
                    observation_history::qualifier,
                    sources::name.nullable(),
                    observation_history::note,
                    observation_history::set_by_run_id,
                ),
                import_runs::finished_at.nullable(),
                observation_history::replaced_by_run_id,
                observation_history::replaced_at,
            ))
            .load(conn)
            .await?;
    let rows = current
        .into_iter()
        .map(|(stored, set_at)| (stored, set_at, None))
        .chain(
            replaced
                .into_iter()
                .map(|(stored, set_at, run, at)| (stored, set_at, Some((run, at)))),
        );
    rows.map(|((value, code, source, note, set_by_run_id), set_at, replaced)| {
        let qualifier = qualifier(code).map_err(|what| {
            StoreError::Corrupt(format!(
                "a version of region id {region_id} indicator id {indicator_id} for {period}: {what}"
            ))
        })?;
        Ok(ObservationVersion {
            value: Quantity::new(value.0, qualifier),
            source,
            note,
            set_by_run_id,
            set_at,
            replaced_by_run_id: replaced.map(|(run, _)| run),
            replaced_at: replaced.map(|(_, at)| at),
        })
    })
    .collect()
}
