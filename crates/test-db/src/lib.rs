//! Real MySQL databases for tests, one per test, dropped afterwards.
//!
//! Tests in this workspace assert behaviour against a real server (STYLE.md rule 7), and each
//! needs a database nobody else writes to. [`TestDatabase::new`] creates an empty, uniquely
//! named `utf8mb4` database and drops it when the value goes out of scope; migrating it is the
//! caller's business, so this crate knows nothing about the schema. The server is chosen once
//! per process: `TEST_DATABASE_URL` if set, else a MySQL/MariaDB answering as `root` without a
//! password on `127.0.0.1:3306`, else a MariaDB this crate starts itself and shares between
//! test processes. [`ThrowawayServer`] is the same machinery as a public API, for tests that
//! need a server of their own to stop and restart, and [`ReplicatedPair`] is two of them, a
//! primary and a replica that follows it by binary-log replication.
//!
//! Environment variables:
//! - `TEST_DATABASE_URL` — `mysql://user:password@host:port[/ignored]`: the server to create
//!   test databases on. Its database part is ignored; the user needs `CREATE`, `DROP` and
//!   (to clean up after a crashed test) `PROCESS`/`CONNECTION_ADMIN` privileges.
//! - `ANSINH_TEST_MARIADB_DIR` — where the shared throwaway MariaDB keeps its data directory,
//!   lock and port file; default `<cargo target dir>/test-mariadb`.

mod database;
mod mariadb;
mod replication;
mod server;
mod shared;
mod url;

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

pub use database::TestDatabase;
pub use replication::{ReplicaStatus, ReplicatedPair, ReplicationError};
pub use server::{ThrowawayError, ThrowawayServer};

/// The last `count` lines of the text file at `path` and how many lines it has (empty and 0
/// when it cannot be read): what a failed test shows of a server's log.
pub fn log_tail(path: &std::path::Path, count: usize) -> (String, usize) {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    (
        lines[lines.len().saturating_sub(count)..].join("\n"),
        lines.len(),
    )
}

/// `<pid>_<n>_<nanos>`: unique among concurrent test processes on one machine (pid), within a
/// process (counter), and across a pid being reused by a later run (clock).
pub(crate) fn unique_suffix() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.subsec_nanos());
    format!("{}_{n}_{nanos}", std::process::id())
}

/// A small pseudo-random sequence (xorshift64) for tests that spread events over time, such as
/// cancellations at random moments of a call. Print the seed with a failure so it can be rerun.
#[derive(Debug, Clone)]
pub struct Xorshift(u64);

impl Xorshift {
    /// A sequence from `seed` (any value; zero is mapped to one, which xorshift needs).
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    /// A seed from the clock, different for every run.
    pub fn clock_seed() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(1, |since| u64::from(since.subsec_nanos()) ^ since.as_secs())
    }

    /// The next value, below `bound` (which must not be zero).
    pub fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % bound
    }
}
