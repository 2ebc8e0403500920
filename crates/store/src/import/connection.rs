//! A diesel connection whose `LOAD DATA LOCAL INFILE` reads from memory.
//!
//! diesel-async gives no access to its inner `mysql_async::Conn`, so the connection is built
//! here from a `mysql_async::Conn` that was opened with a global infile handler; the handler
//! hands the server whatever buffer the importer registered under the requested name.
//! `LOAD DATA` cannot be prepared, so it runs through `batch_execute` (the text protocol);
//! every other statement is a diesel `sql_query` with binds.
//!
//! A buffer is either whole ([`InfileBuffers::put`]) or a stream
//! ([`InfileBuffers::put_stream`]) that the importer keeps feeding while the server loads, so
//! reading and checking the input overlaps with the server's work.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::task::Poll;

use bytes::Bytes;
use diesel_async::{AsyncConnection, AsyncMysqlConnection, SimpleAsyncConnection};
use futures_util::{FutureExt, StreamExt};

use super::Result;
use super::watch::{Slot, StatementTimer};
use crate::StoreError;

/// Bytes per packet of LOAD DATA input.
const PACKET_BYTES: usize = 1 << 20;

pub type ImportConnection = AsyncMysqlConnection;

/// The pieces of a streamed `LOAD DATA` input; the statement ends when the stream does.
pub type InfileStream = futures_util::stream::BoxStream<'static, Bytes>;

enum Pending {
    Whole(Bytes),
    Stream(InfileStream),
}

/// Buffers waiting to be read by a `LOAD DATA LOCAL INFILE '<name>'` statement. Each is taken
/// by the first request for its name; a name nobody registered reads as an error, so the
/// server can never read a file from the importer's disk.
#[derive(Clone, Default)]
pub struct InfileBuffers {
    pending: Arc<Mutex<HashMap<String, Pending>>>,
}

impl InfileBuffers {
    pub fn put(&self, name: &str, data: Bytes) {
        self.insert(name, Pending::Whole(data));
    }

    /// Registers a stream: the statement that reads `name` sends each piece as it comes.
    pub fn put_stream(&self, name: &str, data: InfileStream) {
        self.insert(name, Pending::Stream(data));
    }

    /// Drops what is registered under `name` and was not read (the statement failed before
    /// asking for it), so that whoever feeds a stream sees it closed instead of waiting.
    pub fn discard(&self, name: &str) {
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(name);
    }

    fn insert(&self, name: &str, data: Pending) {
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name.to_owned(), data);
    }

    fn take(&self, name: &[u8]) -> Option<Pending> {
        let name = std::str::from_utf8(name).ok()?;
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(name)
    }
}

/// `data` cut into pieces of at most [`PACKET_BYTES`].
fn packets(data: Bytes) -> impl Iterator<Item = Bytes> {
    (0..data.len())
        .step_by(PACKET_BYTES)
        .map(move |at| data.slice(at..data.len().min(at + PACKET_BYTES)))
}

/// Opens a connection to `url` that serves `LOAD DATA LOCAL INFILE` from `buffers`.
pub async fn connect(url: &str, buffers: InfileBuffers) -> Result<ImportConnection> {
    open(url, buffers, None).await
}

/// [`connect`], with the connection's statements timed by `timer`; a streamed load counts as
/// waiting for the server only while the driver has a piece it cannot hand on.
pub async fn connect_watched(
    url: &str,
    buffers: InfileBuffers,
    timer: &StatementTimer,
) -> Result<ImportConnection> {
    open(url, buffers, Some(timer.slot())).await
}

/// `data` as the driver reads it, telling `slot` whether the driver waits for the server
/// (it has a piece to send, or has sent the last) or for the importer (no piece is ready).
fn timed(mut data: mysql_async::InfileData, slot: Arc<Slot>) -> mysql_async::InfileData {
    Box::pin(futures_util::stream::poll_fn(move |cx| {
        let next = data.poll_next_unpin(cx);
        match next {
            Poll::Pending => slot.answered(),
            Poll::Ready(_) => slot.waiting(),
        }
        next
    }))
}

async fn open(
    url: &str,
    buffers: InfileBuffers,
    slot: Option<Arc<Slot>>,
) -> Result<ImportConnection> {
    let bad = |e: String| StoreError::Connect(diesel::ConnectionError::BadConnection(e));
    let opts = mysql_async::Opts::from_url(url).map_err(|e| bad(e.to_string()))?;
    let handler_slot = slot.clone();
    let handler = move |name: &[u8]| {
        let data = buffers.take(name);
        let name = String::from_utf8_lossy(name).into_owned();
        let slot = handler_slot.clone();
        async move {
            let data = match data {
                // The driver sends each item as one packet: keep them well below
                // max_allowed_packet.
                Some(Pending::Whole(data)) => {
                    let pieces: Vec<std::io::Result<Bytes>> = packets(data).map(Ok).collect();
                    let stream = futures_util::stream::iter(pieces);
                    Box::pin(stream) as mysql_async::InfileData
                }
                Some(Pending::Stream(stream)) => {
                    let stream = stream.flat_map(|piece| {
                        futures_util::stream::iter(packets(piece).map(Ok).collect::<Vec<_>>())
                    });
                    Box::pin(stream) as mysql_async::InfileData
                }
                None => {
                    return Err(mysql_async::LocalInfileError::OtherError(
                        format!("no data registered for {name}").into(),
                    ));
                }
            };
            Ok(match slot {
                Some(slot) => timed(data, slot),
                None => data,
            })
        }
        .boxed()
    };
    let opts = mysql_async::OptsBuilder::from_opts(opts).local_infile_handler(Some(handler));
    let conn = mysql_async::Conn::new(opts)
        .await
        .map_err(|e| bad(e.to_string()))?;
    let mut conn = AsyncMysqlConnection::try_from(conn).await?;
    if let Some(slot) = slot {
        conn.set_instrumentation(super::watch::Timing(slot));
    }
    conn.batch_execute(crate::pool::SESSION_SETUP).await?;
    Ok(conn)
}

#[derive(diesel::QueryableByName)]
struct SessionId {
    #[diesel(sql_type = diesel::sql_types::Unsigned<diesel::sql_types::BigInt>)]
    id: u64,
}

/// The server's id of `conn`'s session, for [`kill_session`].
pub async fn session_id(conn: &mut AsyncMysqlConnection) -> Result<u64> {
    use diesel_async::RunQueryDsl;
    let session: SessionId = diesel::sql_query("SELECT CONNECTION_ID() AS id")
        .get_result(conn)
        .await?;
    Ok(session.id)
}

/// Ends session `id` on the server, from another session of the same user: its statement
/// stops and its transaction rolls back. For a run that gave up waiting for that session; a
/// client that merely drops its connection leaves a live server working on the statement
/// (and holding its locks) until the statement ends by itself.
pub async fn kill_session(conn: &mut AsyncMysqlConnection, id: u64) -> Result<()> {
    use diesel_async::RunQueryDsl;
    diesel::sql_query("KILL ?")
        .bind::<diesel::sql_types::Unsigned<diesel::sql_types::BigInt>, _>(id)
        .execute(conn)
        .await?;
    Ok(())
}
