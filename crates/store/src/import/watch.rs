//! Timing how long the server keeps an import run's connections waiting, so that a server that
//! stopped answering (a hung host, a network that drops packets, a paused process) can end the
//! run instead of holding it for ever: mysql_async has no read timeout, and a server that is
//! stopped while its sockets stay open never closes the connection either.
//!
//! Each watched connection reports through diesel's instrumentation when a statement is sent
//! (`StartQuery`) and when its answer has been read (`FinishQuery`). While a streamed
//! `LOAD DATA` runs, each piece the driver takes counts as an answer, and the time the driver
//! waits for the importer's next piece is not the server's (see
//! [`connect_watched`](super::connect_watched)). [`StatementTimer::longest_wait`] says how long
//! the server has kept a connection waiting; the importer decides what is too long.

use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use diesel::connection::{Instrumentation, InstrumentationEvent};
use diesel_async::{AsyncConnection, AsyncMysqlConnection};

/// The connections of one run whose statements are timed. Clones share the connections.
#[derive(Debug, Clone, Default)]
pub struct StatementTimer {
    /// A connection that is dropped drops its slot, and the timer forgets it.
    slots: Arc<Mutex<Vec<Weak<Slot>>>>,
}

/// Since when one connection has been waiting for the server, if it is.
#[derive(Debug, Default)]
pub(super) struct Slot {
    waiting_since: Mutex<Option<Instant>>,
}

impl Slot {
    /// The connection sent something and waits for the server (again from now).
    pub(super) fn waiting(&self) {
        *self.waiting_since.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
    }

    /// The connection has its answer, or waits for the importer rather than the server.
    pub(super) fn answered(&self) {
        *self.waiting_since.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    fn waited(&self, now: Instant) -> Option<Duration> {
        self.waiting_since
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .map(|since| now.saturating_duration_since(since))
    }
}

impl StatementTimer {
    /// Times every statement on `conn` from now on.
    pub fn attach(&self, conn: &mut AsyncMysqlConnection) {
        conn.set_instrumentation(Timing(self.slot()));
    }

    /// A new slot, for a connection that is being opened.
    pub(super) fn slot(&self) -> Arc<Slot> {
        let slot = Arc::new(Slot::default());
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots.retain(|s| s.strong_count() > 0);
        slots.push(Arc::downgrade(&slot));
        slot
    }

    /// How long the connection that has waited longest for the server has been waiting; `None`
    /// when none is waiting.
    pub fn longest_wait(&self) -> Option<Duration> {
        let now = Instant::now();
        self.slots
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter_map(Weak::upgrade)
            .filter_map(|slot| slot.waited(now))
            .max()
    }
}

/// The instrumentation of a watched connection.
pub(super) struct Timing(pub(super) Arc<Slot>);

impl Instrumentation for Timing {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        match event {
            InstrumentationEvent::StartQuery { .. } => self.0.waiting(),
            InstrumentationEvent::FinishQuery { .. } => self.0.answered(),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_wait_is_that_of_a_connection_still_waiting() {
        let timer = StatementTimer::default();
        assert_eq!(timer.longest_wait(), None);
        let first = timer.slot();
        let second = timer.slot();
        first.waiting();
        std::thread::sleep(Duration::from_millis(20));
        second.waiting();
        let wait = timer.longest_wait().expect("two connections wait");
        assert!(wait >= Duration::from_millis(20), "{wait:?}");
        first.answered();
        assert!(timer.longest_wait().expect("one waits") < wait);
        // A dropped connection waits no more.
        drop(second);
        assert_eq!(timer.longest_wait(), None);
    }
}
