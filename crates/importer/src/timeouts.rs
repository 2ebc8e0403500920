//! How long the importer waits for the database: for a connection to open
//! (`--connect-timeout`) and for the server to answer a statement (`--statement-timeout`).
//!
//! A server that is down refuses connections at once; one that stopped answering (a hung host,
//! a network that drops packets, a paused process) would otherwise hold a run for ever, since
//! the driver has no read timeout. When a limit passes, the run ends as "database unreachable"
//! (exit 3); its data transaction never committed, so nothing of it lands, and the server rolls
//! it back when it sees the connection close. Its ledger entry, which cannot be written to a
//! server that does not answer, stays `running` until the next run marks it failed.

use std::future::Future;
use std::time::Duration;

use ansinh_store::duration::{DurationError, parse_duration, show_duration};
use ansinh_store::import::StatementTimer;

/// How long to wait for the database; `None` waits as long as it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub connect: Option<Duration>,
    pub statement: Option<Duration>,
}

impl Timeouts {
    /// Long enough for a server across a slow network; a server that answers nothing in this
    /// time is not going to.
    pub const DEFAULT_CONNECT: Duration = Duration::from_secs(10);

    /// Far longer than any statement of a healthy run takes (a streamed load counts only the
    /// time the server keeps the next piece waiting; the longest single statements apply the
    /// changed rows of a run or commit it). Raise it for runs that change millions of stored
    /// rows on a slow server.
    pub const DEFAULT_STATEMENT: Duration = Duration::from_secs(300);

    /// Opens a connection with `open`, giving up after the connect timeout.
    pub async fn connect<T, E: From<Timeout>>(
        &self,
        open: impl Future<Output = Result<T, E>>,
    ) -> Result<T, E> {
        match self.connect {
            None => open.await,
            Some(limit) => tokio::time::timeout(limit, open)
                .await
                .unwrap_or_else(|_| Err(Timeout::Connect(limit).into())),
        }
    }

    /// Runs `work`, ending it (dropping it, and with it its connections) once a connection
    /// timed by `timer` has waited for the server longer than the statement timeout.
    pub async fn bound<T, E: From<Timeout>>(
        &self,
        timer: &StatementTimer,
        work: impl Future<Output = Result<T, E>>,
    ) -> Result<T, E> {
        let Some(limit) = self.statement else {
            return work.await;
        };
        tokio::select! {
            biased;
            result = work => result,
            () = waited_longer_than(timer, limit) => Err(Timeout::Statement(limit).into()),
        }
    }
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Some(Self::DEFAULT_CONNECT),
            statement: Some(Self::DEFAULT_STATEMENT),
        }
    }
}

/// Resolves once a connection of `timer` has waited for the server for `limit`; checks often
/// enough to end at most a tenth of `limit` (and at most a second) late.
async fn waited_longer_than(timer: &StatementTimer, limit: Duration) {
    let tick = (limit / 10).clamp(Duration::from_millis(10), Duration::from_secs(1));
    loop {
        tokio::time::sleep(tick).await;
        if timer.longest_wait().is_some_and(|waited| waited >= limit) {
            return;
        }
    }
}

/// The database did not answer in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Timeout {
    #[error(
        "the database did not answer within {} while a connection was being opened (--connect-timeout, ANSINH_IMPORT_CONNECT_TIMEOUT)",
        show_duration(*.0)
    )]
    Connect(Duration),
    #[error(
        "the database did not answer a statement within {} (--statement-timeout, ANSINH_IMPORT_STATEMENT_TIMEOUT)",
        show_duration(*.0)
    )]
    Statement(Duration),
}

/// A limit as the flags take it: a duration ([`parse_duration`]: `250ms`, `2s`, `5m`), or `0`
/// (or any zero duration, `0s`) for none.
pub fn parse_limit(text: &str) -> Result<Option<Duration>, String> {
    if text.trim() == "0" {
        return Ok(None);
    }
    match parse_duration(text) {
        Ok(limit) => Ok((!limit.is_zero()).then_some(limit)),
        // Without the unit, the one number that needs none is worth naming.
        Err(e @ DurationError::NoUnit { .. }) => Err(format!("{e} (0 waits as long as it takes)")),
        Err(e) => Err(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_read_as_written_and_show_as_they_are_written() {
        for (text, limit) in [
            ("250ms", Some(Duration::from_millis(250))),
            ("2s", Some(Duration::from_secs(2))),
            ("90s", Some(Duration::from_secs(90))),
            ("5m", Some(Duration::from_secs(300))),
            ("0", None),
            ("0s", None),
        ] {
            assert_eq!(parse_limit(text), Ok(limit), "{text}");
            if let Some(limit) = limit {
                assert_eq!(show_duration(limit), text);
            }
        }
        for bad in ["2", "2h", "s", "-1s", ""] {
            assert!(parse_limit(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_number_without_a_unit_is_told_that_0_needs_none() {
        assert_eq!(
            parse_limit("2").unwrap_err(),
            "'2' has no unit: write e.g. 250ms, 2s or 5m (0 waits as long as it takes)"
        );
        assert_eq!(
            parse_limit("2h").unwrap_err(),
            "'h' is not a unit: use ms, s or m"
        );
        assert_eq!(parse_limit(" 0 "), Ok(None));
        assert_eq!(parse_limit("0ms"), Ok(None));
    }

    #[tokio::test]
    async fn work_that_waits_on_nothing_runs_to_its_end() {
        let timeouts = Timeouts {
            connect: Some(Duration::from_millis(50)),
            statement: Some(Duration::from_millis(50)),
        };
        let timer = StatementTimer::default();
        let slow = async {
            tokio::time::sleep(Duration::from_millis(200)).await;
            Ok::<_, Timeout>(7)
        };
        // No connection of the timer waits: slow work on the importer's side is not the
        // server's.
        assert_eq!(timeouts.bound(&timer, slow).await, Ok(7));
        let never = std::future::pending::<Result<(), Timeout>>();
        assert_eq!(
            timeouts.connect(never).await,
            Err(Timeout::Connect(Duration::from_millis(50)))
        );
    }
}
