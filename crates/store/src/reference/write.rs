//! Writing reference rows (regions, lineage edges, indicators) as a difference: each wanted
//! row is compared with the row stored under its key, and only what differs is written, an
//! update where a value changed, an insert where the key is new. The bundled install and the
//! importer's reference files both write through here, so both mean the same by "unchanged"
//! and a second run of either changes no row.

use diesel::prelude::*;
use diesel_async::{AsyncMysqlConnection, RunQueryDsl};

use crate::StoreError;
use crate::models::{IndicatorRow, LineageRow, NewIndicator, NewLineage, NewRegion, RegionRow};
use crate::schema::{indicators, region_lineage, regions};

/// Rows per multi-row INSERT: large enough that the 14,000 regions take 15 statements, small
/// enough to stay far below `max_allowed_packet` and the 65,535 placeholders of a statement.
const BATCH_ROWS: usize = 1000;

/// What writing one reference row did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    Inserted,
    Updated,
    Unchanged,
}

/// A reference row as a writer wants it stored, and how it meets the row stored under its
/// key. One implementation per table.
pub(crate) trait Wanted: Sized + Send + Sync {
    /// The row as read back.
    type Stored: Send + Sync;

    /// The row stored under this row's key, if any.
    fn find(
        &self,
        conn: &mut AsyncMysqlConnection,
    ) -> impl Future<Output = Result<Option<Self::Stored>, StoreError>> + Send;

    /// Whether `stored` already holds every value of this row.
    fn is_stored_as(&self, stored: &Self::Stored) -> bool;

    /// Overwrites `stored` with this row's values.
    fn update(
        &self,
        conn: &mut AsyncMysqlConnection,
        stored: &Self::Stored,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Inserts rows whose keys are new, in one statement.
    fn insert(
        conn: &mut AsyncMysqlConnection,
        rows: &[Self],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Writes wanted rows of one table as their difference from the stored ones: a changed row is
/// updated at once, new rows wait for [`Writes::insert_new`] and go in batches.
pub(crate) struct Writes<W> {
    new: Vec<W>,
}

impl<W: Wanted> Writes<W> {
    pub(crate) fn new() -> Self {
        Self { new: Vec::new() }
    }

    /// Writes `wanted` given `stored`, the row under the same key if there is one (the caller
    /// looks it up, one row at a time or from all rows read at once). An `Inserted` row is
    /// in the table only after [`Writes::insert_new`].
    pub(crate) async fn write(
        &mut self,
        conn: &mut AsyncMysqlConnection,
        stored: Option<&W::Stored>,
        wanted: W,
    ) -> Result<Written, StoreError> {
        Ok(match stored {
            None => {
                self.new.push(wanted);
                Written::Inserted
            }
            Some(stored) if wanted.is_stored_as(stored) => Written::Unchanged,
            Some(stored) => {
                wanted.update(conn, stored).await?;
                Written::Updated
            }
        })
    }

    /// Inserts the rows [`Writes::write`] found new since the last call; returns how many.
    pub(crate) async fn insert_new(
        &mut self,
        conn: &mut AsyncMysqlConnection,
    ) -> Result<u64, StoreError> {
        for batch in self.new.chunks(BATCH_ROWS) {
            W::insert(conn, batch).await?;
        }
        let inserted = self.new.len() as u64;
        self.new.clear();
        Ok(inserted)
    }
}

/// Writes one row at once and returns it as now stored: the importer's way, which needs a
/// new row's id before it writes the next.
pub(crate) async fn write_one<W: Wanted + Clone>(
    conn: &mut AsyncMysqlConnection,
    wanted: W,
) -> Result<(W::Stored, Written), StoreError> {
    let stored = wanted.find(conn).await?;
    let mut writes = Writes::new();
    let written = writes.write(conn, stored.as_ref(), wanted.clone()).await?;
    writes.insert_new(conn).await?;
    let stored = match (written, stored) {
        (Written::Unchanged, Some(stored)) => Some(stored),
        _ => wanted.find(conn).await?,
    };
    Ok((stored.ok_or(diesel::result::Error::NotFound)?, written))
}

/// Regions are keyed by (code, valid_from).
impl Wanted for NewRegion<'_> {
    type Stored = RegionRow;

    async fn find(&self, conn: &mut AsyncMysqlConnection) -> Result<Option<RegionRow>, StoreError> {
        Ok(regions::table
            .filter(regions::code.eq(self.code))
            .filter(regions::valid_from.eq(self.valid_from))
            .select(RegionRow::as_select())
            .first(conn)
            .await
            .optional()?)
    }

    fn is_stored_as(&self, row: &RegionRow) -> bool {
        row.code == self.code
            && row.level == self.level
            && row.kind.as_deref() == self.kind
            && row.name == self.name
            && row.name_vi.as_deref() == self.name_vi
            && row.name_folded == self.name_folded
            && row.parent_id == self.parent_id
            && row.valid_from == self.valid_from
            && row.valid_to == self.valid_to
    }

    async fn update(
        &self,
        conn: &mut AsyncMysqlConnection,
        row: &RegionRow,
    ) -> Result<(), StoreError> {
        diesel::update(regions::table.find(row.id))
            .set(self)
            .execute(conn)
            .await?;
        Ok(())
    }

    async fn insert(conn: &mut AsyncMysqlConnection, rows: &[Self]) -> Result<(), StoreError> {
        diesel::insert_into(regions::table)
            .values(rows)
            .execute(conn)
            .await?;
        Ok(())
    }
}

/// Lineage edges are keyed by their two ends.
impl Wanted for NewLineage<'_> {
    type Stored = LineageRow;

    async fn find(
        &self,
        conn: &mut AsyncMysqlConnection,
    ) -> Result<Option<LineageRow>, StoreError> {
        Ok(region_lineage::table
            .find((self.from_region_id, self.to_region_id))
            .select(LineageRow::as_select())
            .first(conn)
            .await
            .optional()?)
    }

    fn is_stored_as(&self, row: &LineageRow) -> bool {
        row.from_region_id == self.from_region_id
            && row.to_region_id == self.to_region_id
            && row.kind == self.kind
            && row.effective_date == self.effective_date
            && row.approximate == self.approximate
            && row.weight == self.weight
    }

    async fn update(
        &self,
        conn: &mut AsyncMysqlConnection,
        row: &LineageRow,
    ) -> Result<(), StoreError> {
        diesel::update(region_lineage::table.find((row.from_region_id, row.to_region_id)))
            .set((
                region_lineage::kind.eq(self.kind),
                region_lineage::effective_date.eq(self.effective_date),
                region_lineage::approximate.eq(self.approximate),
                region_lineage::weight.eq(self.weight),
            ))
            .execute(conn)
            .await?;
        Ok(())
    }

    async fn insert(conn: &mut AsyncMysqlConnection, rows: &[Self]) -> Result<(), StoreError> {
        diesel::insert_into(region_lineage::table)
            .values(rows)
            .execute(conn)
            .await?;
        Ok(())
    }
}

/// Indicators are keyed by code; a ratio's parts are part of the row, so a ratio is written
/// once its parts have ids.
impl Wanted for NewIndicator<'_> {
    type Stored = IndicatorRow;

    async fn find(
        &self,
        conn: &mut AsyncMysqlConnection,
    ) -> Result<Option<IndicatorRow>, StoreError> {
        Ok(indicators::table
            .filter(indicators::code.eq(self.code))
            .select(IndicatorRow::as_select())
            .first(conn)
            .await
            .optional()?)
    }

    fn is_stored_as(&self, row: &IndicatorRow) -> bool {
        row.code == self.code
            && row.name == self.name
            && row.name_vi.as_deref() == self.name_vi
            && row.unit == self.unit
            && row.kind == self.kind
            && row.numerator_id == self.numerator_id
            && row.denominator_id == self.denominator_id
            && row.description.as_deref() == self.description
    }

    async fn update(
        &self,
        conn: &mut AsyncMysqlConnection,
        row: &IndicatorRow,
    ) -> Result<(), StoreError> {
        // One statement for the kind and the parts, so the parts CHECK holds when a ratio
        // turns into a non-ratio or back.
        diesel::update(indicators::table.find(row.id))
            .set((
                indicators::name.eq(self.name),
                indicators::name_vi.eq(self.name_vi),
                indicators::unit.eq(self.unit),
                indicators::kind.eq(self.kind),
                indicators::numerator_id.eq(self.numerator_id),
                indicators::denominator_id.eq(self.denominator_id),
                indicators::description.eq(self.description),
            ))
            .execute(conn)
            .await?;
        Ok(())
    }

    async fn insert(conn: &mut AsyncMysqlConnection, rows: &[Self]) -> Result<(), StoreError> {
        diesel::insert_into(indicators::table)
            .values(rows)
            .execute(conn)
            .await?;
        Ok(())
    }
}
