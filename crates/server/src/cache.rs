//! The read cache. Figures change only when an import run commits, so whatever the server
//! derives from them stays exact while the latest committed run stays the same. A
//! [`Generation`] holds what was derived in one such state: the indicator catalog, every
//! region version by code, the lineage graph, the lineage ancestors asked for, and
//! GetTimeSeries answers (bounded in size). A watcher asks MySQL for the latest committed run every
//! `check_interval` (one short backward walk of the ledger's primary key); when it changes, a
//! new, empty generation replaces the old one. A call computes its answer in the generation
//! it started in and stores it there, so an answer read before a run committed dies with its
//! generation instead of being served after the change was seen. After a commit, old answers
//! are served for at most one check interval.
//!
//! A generation serves only while its last check is recent: when MySQL stops answering the
//! check, the cache stops answering too, and calls fail with UNAVAILABLE like the rest of the
//! server instead of serving figures that may have been superseded meanwhile.
//!
//! Reference data installed by `ansinh-import migrate` is not an import run: after a migrate
//! that changed the bundled catalog or regions, restart the servers (deployments do).

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use ansinh_model::{LineageGraph, NaiveDate};
use ansinh_store::queries::{self, Ancestor, RegionCursor, RegionFilter, RegionRecord};
use ansinh_store::{AsyncMysqlConnection, StoreError};
use bytes::Bytes;
use tokio::sync::OnceCell;

use crate::catalog::CatalogView;
use crate::db::Db;
use crate::error::ApiError;

/// The memory of a cached answer beyond its bytes and key texts: the key's other fields, the
/// map's slot, the allocations' headers.
const ENTRY_OVERHEAD: u64 = 128;

/// Regions read per query while a generation loads every version.
const REGION_PAGE: u32 = 5000;

/// How the cache behaves; from the server's configuration.
#[derive(Debug, Clone, Copy)]
pub struct CacheSettings {
    /// Whether anything is cached at all.
    pub enabled: bool,
    /// How often the latest committed run is checked; zero checks it on every call.
    pub check_interval: Duration,
    /// The most memory cached answers may take; zero caches no answers.
    pub max_bytes: u64,
    /// How long a check may take; a generation whose last successful check is older than two
    /// intervals plus this stops serving.
    pub check_timeout: Duration,
}

/// What the cache did since the server started; a snapshot for metrics and benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheCounters {
    /// Answers served from the cache.
    pub hits: u64,
    /// Answers that had to be computed (cache on, answer not cached).
    pub misses: u64,
    /// Answers dropped to stay within the size bound.
    pub evictions: u64,
    /// Generations started: the first, plus one per committed run seen.
    pub generations: u64,
    /// Checks of the latest committed run that failed (MySQL unavailable or too slow).
    pub failed_checks: u64,
    /// Answers held now, in the current generation.
    pub entries: u64,
    /// Their memory, in bytes (encoded answers and keys).
    pub bytes: u64,
}

#[derive(Default)]
struct Counters {
    hits: AtomicU64,
    misses: AtomicU64,
    evictions: AtomicU64,
    generations: AtomicU64,
    failed_checks: AtomicU64,
}

/// The server's cache; cheap to clone, shared by every service.
#[derive(Clone)]
pub struct Cache {
    inner: Arc<Inner>,
}

struct Inner {
    settings: CacheSettings,
    current: RwLock<Arc<Generation>>,
    counters: Counters,
    /// The origin of [`Generation::verified_at`].
    epoch: Instant,
}

impl Cache {
    /// An empty cache; it serves nothing until its first check succeeds.
    pub fn new(settings: CacheSettings) -> Self {
        Self {
            inner: Arc::new(Inner {
                settings,
                current: RwLock::new(Arc::new(Generation::new(None, settings.max_bytes))),
                counters: Counters::default(),
                epoch: Instant::now(),
            }),
        }
    }

    /// The counters so far.
    pub fn counters(&self) -> CacheCounters {
        let c = &self.inner.counters;
        let (entries, bytes) = self
            .current()
            .responses
            .lock()
            .map_or((0, 0), |map| (map.len() as u64, map.bytes()));
        CacheCounters {
            hits: c.hits.load(Ordering::Relaxed),
            misses: c.misses.load(Ordering::Relaxed),
            evictions: c.evictions.load(Ordering::Relaxed),
            generations: c.generations.load(Ordering::Relaxed),
            failed_checks: c.failed_checks.load(Ordering::Relaxed),
            entries,
            bytes,
        }
    }

    /// The newest committed import run the current generation was started for: what the
    /// latest successful check read from the ledger of the database the server reads (a
    /// replica's lags the primary's). `None` before the first check, while the ledger has no
    /// committed run, and with the cache off, which never checks. The server reports it as
    /// `ansinh_latest_run_seen` and in the `x-ansinh-run` of StatisticsService answers.
    pub(crate) fn latest_run_seen(&self) -> Option<u64> {
        self.current().run
    }

    /// Starts a generation for `run` as a check that read it would, for tests without MySQL.
    #[cfg(test)]
    pub(crate) fn saw_run(&self, run: u64) {
        let generation = Generation::new(Some(run), self.inner.settings.max_bytes);
        generation
            .verified_at
            .store(self.now().max(1), Ordering::Relaxed);
        *self
            .inner
            .current
            .write()
            .unwrap_or_else(|e| e.into_inner()) = Arc::new(generation);
    }

    fn current(&self) -> Arc<Generation> {
        Arc::clone(&self.inner.current.read().unwrap_or_else(|e| e.into_inner()))
    }

    fn now(&self) -> u64 {
        u64::try_from(self.inner.epoch.elapsed().as_micros()).unwrap_or(u64::MAX)
    }

    /// The generation a call may read and fill, or `None` when it must go to MySQL for
    /// everything: the cache is off, or the latest committed run was not confirmed recently.
    pub(crate) async fn generation(&self, db: &Db) -> Option<Arc<Generation>> {
        let settings = &self.inner.settings;
        if !settings.enabled {
            return None;
        }
        if settings.check_interval.is_zero() {
            return self.check(db).await;
        }
        let generation = self.current();
        let max_age = 2 * settings.check_interval + settings.check_timeout;
        let verified = generation.verified_at.load(Ordering::Relaxed);
        let fresh = verified != 0
            && self.now().saturating_sub(verified)
                <= u64::try_from(max_age.as_micros()).unwrap_or(u64::MAX);
        fresh.then_some(generation)
    }

    /// Asks MySQL for the latest committed run and starts a new generation when it changed;
    /// the generation now current, or `None` when MySQL did not answer in time.
    async fn check(&self, db: &Db) -> Option<Arc<Generation>> {
        let latest = async {
            let mut conn = db.control_conn().await?;
            queries::latest_committed_run(&mut conn)
                .await
                .map_err(ApiError::from)
        };
        let latest = match tokio::time::timeout(self.inner.settings.check_timeout, latest).await {
            Ok(Ok(latest)) => latest,
            Ok(Err(error)) => {
                self.inner
                    .counters
                    .failed_checks
                    .fetch_add(1, Ordering::Relaxed);
                tracing::debug!(%error, "cache check failed");
                return None;
            }
            Err(_) => {
                self.inner
                    .counters
                    .failed_checks
                    .fetch_add(1, Ordering::Relaxed);
                tracing::debug!("cache check timed out");
                return None;
            }
        };
        let now = self.now().max(1);
        let mut current = self
            .inner
            .current
            .write()
            .unwrap_or_else(|e| e.into_inner());
        let unchanged = current.run == latest && current.verified_at.load(Ordering::Relaxed) != 0;
        if !unchanged {
            let generation = Generation::new(latest, self.inner.settings.max_bytes);
            if current.verified_at.load(Ordering::Relaxed) != 0 {
                tracing::info!(
                    import.run = latest,
                    "a new import run committed; cached answers dropped"
                );
            }
            *current = Arc::new(generation);
            self.inner
                .counters
                .generations
                .fetch_add(1, Ordering::Relaxed);
        }
        current.verified_at.store(now, Ordering::Relaxed);
        Some(Arc::clone(&current))
    }

    /// Runs until aborted: checks the latest committed run every interval. Not needed (and
    /// returns at once) when every call checks for itself or the cache is off.
    pub(crate) async fn watch(self, db: Db) {
        let settings = self.inner.settings;
        if !settings.enabled || settings.check_interval.is_zero() {
            return;
        }
        loop {
            self.check(&db).await;
            tokio::time::sleep(settings.check_interval).await;
        }
    }

    pub(crate) fn hit(&self) {
        self.inner.counters.hits.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn miss(&self) {
        self.inner.counters.misses.fetch_add(1, Ordering::Relaxed);
    }

    /// Stores an encoded GetTimeSeries answer in `generation`.
    pub(crate) fn put_time_series(
        &self,
        generation: &Generation,
        key: TimeSeriesKey,
        encoded: Bytes,
    ) {
        let bytes = (encoded.len() + key.region_code.len() + key.indicator_code.len()) as u64
            + ENTRY_OVERHEAD;
        let mut responses = generation
            .responses
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let evicted = responses.insert(key, encoded, bytes);
        if evicted > 0 {
            self.inner
                .counters
                .evictions
                .fetch_add(evicted as u64, Ordering::Relaxed);
        }
    }
}

/// The cached state of the data as of one committed run.
pub(crate) struct Generation {
    /// The latest committed run when this generation started (`None`: no run yet).
    run: Option<u64>,
    /// When the run was last confirmed to be still the latest, in microseconds since the
    /// cache's epoch; zero until the first confirmation.
    verified_at: AtomicU64,
    catalog: OnceCell<Arc<CatalogView>>,
    regions: OnceCell<Arc<RegionIndex>>,
    lineage: OnceCell<Arc<LineageGraph<u32>>>,
    ancestors: Mutex<HashMap<u32, Arc<Vec<Ancestor>>>>,
    responses: Mutex<Bounded<TimeSeriesKey, Bytes>>,
}

impl Generation {
    fn new(run: Option<u64>, max_bytes: u64) -> Self {
        Self {
            run,
            verified_at: AtomicU64::new(0),
            catalog: OnceCell::new(),
            regions: OnceCell::new(),
            lineage: OnceCell::new(),
            ancestors: Mutex::new(HashMap::new()),
            responses: Mutex::new(Bounded::new(max_bytes)),
        }
    }

    /// The catalog, loaded once per generation.
    pub(crate) async fn catalog(
        &self,
        conn: &mut AsyncMysqlConnection,
    ) -> Result<Arc<CatalogView>, ApiError> {
        self.catalog
            .get_or_try_init(|| async { CatalogView::load(conn).await.map(Arc::new) })
            .await
            .cloned()
    }

    /// Every region version by code, loaded once per generation (some 15,000 rows).
    pub(crate) async fn regions(
        &self,
        conn: &mut AsyncMysqlConnection,
    ) -> Result<Arc<RegionIndex>, ApiError> {
        self.regions
            .get_or_try_init(|| async {
                RegionIndex::load(conn)
                    .await
                    .map(Arc::new)
                    .map_err(ApiError::from)
            })
            .await
            .cloned()
    }

    /// Every lineage edge, loaded once per generation (some 10,700).
    pub(crate) async fn lineage(
        &self,
        conn: &mut AsyncMysqlConnection,
    ) -> Result<Arc<LineageGraph<u32>>, ApiError> {
        self.lineage
            .get_or_try_init(|| async {
                Ok::<_, ApiError>(Arc::new(LineageGraph::new(
                    queries::lineage_links(conn).await?,
                )))
            })
            .await
            .cloned()
    }

    /// The lineage ancestors of a region version, read once per generation and version.
    pub(crate) async fn lineage_ancestors(
        &self,
        conn: &mut AsyncMysqlConnection,
        region_id: u32,
    ) -> Result<Arc<Vec<Ancestor>>, ApiError> {
        let known = self
            .ancestors
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&region_id)
            .cloned();
        if let Some(known) = known {
            return Ok(known);
        }
        // Two calls missing together both read; the second insert is the same value.
        let ancestors = Arc::new(queries::lineage_ancestors(conn, region_id).await?);
        self.ancestors
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(region_id, Arc::clone(&ancestors));
        Ok(ancestors)
    }

    /// A cached GetTimeSeries answer, encoded.
    pub(crate) fn time_series(&self, key: &TimeSeriesKey) -> Option<Bytes> {
        self.responses
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
    }
}

/// Every region version, by code, each code's versions in order of validity.
pub(crate) struct RegionIndex {
    by_code: HashMap<String, Vec<RegionRecord>>,
    /// Where each version is in `by_code`.
    by_id: HashMap<u32, (String, usize)>,
}

impl RegionIndex {
    /// Reads every version.
    pub(crate) async fn load(conn: &mut AsyncMysqlConnection) -> Result<Self, StoreError> {
        let mut by_code: HashMap<String, Vec<RegionRecord>> = HashMap::new();
        let mut after: Option<RegionCursor> = None;
        loop {
            let page =
                queries::list_regions(conn, &RegionFilter::default(), after.as_ref(), REGION_PAGE)
                    .await?;
            after = page.last().map(RegionCursor::after);
            let done = page.len() < REGION_PAGE as usize;
            for record in page {
                by_code
                    .entry(record.region.code.to_string())
                    .or_default()
                    .push(record);
            }
            if done {
                break;
            }
        }
        for versions in by_code.values_mut() {
            versions.sort_by_key(|record| record.region.validity.from);
        }
        let by_id = by_code
            .iter()
            .flat_map(|(code, versions)| {
                (0..versions.len()).map(move |index| (versions[index].id, (code.clone(), index)))
            })
            .collect();
        Ok(Self { by_code, by_id })
    }

    /// Every version of `code`, in order of validity; empty for an unknown code.
    pub(crate) fn versions(&self, code: &str) -> &[RegionRecord] {
        self.by_code.get(code).map_or(&[], Vec::as_slice)
    }

    /// The version with row id `id`.
    pub(crate) fn version(&self, id: u32) -> Option<&RegionRecord> {
        let (code, index) = self.by_id.get(&id)?;
        self.by_code.get(code)?.get(*index)
    }
}

/// What a GetTimeSeries answer depends on: the request as read, and the day that picks the
/// region version when the request names none.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct TimeSeriesKey {
    pub(crate) region_code: String,
    pub(crate) indicator_code: String,
    pub(crate) start_date: Option<NaiveDate>,
    pub(crate) end_date: Option<NaiveDate>,
    pub(crate) geography_as_of: Option<NaiveDate>,
    /// Today, when neither `end_date` nor `geography_as_of` is given.
    pub(crate) today: Option<NaiveDate>,
}

/// A map bounded by the summed weight of its values, keeping recently used entries: entries
/// go into a young half; when the young half is full it becomes the old half and the previous
/// old half is dropped; a hit in the old half moves the entry back to the young one. Each
/// operation is O(1), and the map never holds more than `max_weight`.
struct Bounded<K, V> {
    young: HashMap<K, (V, u64)>,
    old: HashMap<K, (V, u64)>,
    young_weight: u64,
    old_weight: u64,
    half: u64,
}

impl<K: Hash + Eq, V: Clone> Bounded<K, V> {
    fn new(max_weight: u64) -> Self {
        Self {
            young: HashMap::new(),
            old: HashMap::new(),
            young_weight: 0,
            old_weight: 0,
            half: max_weight / 2,
        }
    }

    fn len(&self) -> usize {
        self.young.len() + self.old.len()
    }

    fn bytes(&self) -> u64 {
        self.young_weight + self.old_weight
    }

    fn get<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        if let Some((value, _)) = self.young.get(key) {
            return Some(value.clone());
        }
        let (key, (value, weight)) = self.old.remove_entry(key)?;
        self.old_weight -= weight;
        self.insert(key, value.clone(), weight);
        Some(value)
    }

    /// Inserts `value`; returns how many entries were dropped to make room. A value heavier
    /// than half the bound is not kept.
    fn insert(&mut self, key: K, value: V, weight: u64) -> usize {
        if weight > self.half {
            return 0;
        }
        let mut dropped = 0;
        if self.young_weight + weight > self.half {
            dropped = self.old.len();
            self.old = std::mem::take(&mut self.young);
            self.old_weight = std::mem::replace(&mut self.young_weight, 0);
        }
        if let Some((_, weight)) = self.old.remove(&key) {
            self.old_weight -= weight;
        }
        if let Some((_, previous)) = self.young.insert(key, (value, weight)) {
            self.young_weight -= previous;
        }
        self.young_weight += weight;
        dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bounded_map_never_exceeds_its_weight_and_keeps_what_is_used() {
        let mut map: Bounded<u32, u32> = Bounded::new(100);
        for key in 0..10 {
            map.insert(key, key, 10);
        }
        assert!(map.bytes() <= 100);
        // 0..5 filled the young half, 5..10 pushed them to the old half.
        assert_eq!(map.len(), 10);
        // A hit in the old half moves 0 to the young one, which is full: the young half
        // becomes old and the previous old half (1..5) goes.
        assert_eq!(map.get(&0), Some(0));
        assert!(map.bytes() <= 100);
        assert_eq!(map.get(&1), None);
        assert_eq!(map.get(&7), Some(7));
        assert_eq!(map.get(&0), Some(0));
        // Re-inserting a key replaces its weight instead of adding to it.
        map.insert(0, 42, 10);
        map.insert(0, 43, 10);
        assert_eq!(map.get(&0), Some(43));
        assert!(map.bytes() <= 100);
        // Too heavy for the map: not kept.
        assert_eq!(map.insert(99, 99, 60), 0);
        assert_eq!(map.get(&99), None);
        // A zero bound keeps nothing.
        let mut none: Bounded<u32, u32> = Bounded::new(0);
        none.insert(1, 1, 1);
        assert_eq!(none.get(&1), None);
    }
}
