//! A diesel connection whose `LOAD DATA LOCAL INFILE` reads from memory.
//!
//! diesel-async gives no access to its inner `mysql_async::Conn`, so the connection is built
//! here from a `mysql_async::Conn` that was opened with a global infile handler; the handler
//! hands the server whatever buffer the importer registered under the requested name.
//! `LOAD DATA` cannot be prepared, so it runs through `batch_execute` (the text protocol);
//! every other statement is a diesel `sql_query` with binds.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use diesel_async::{AsyncMysqlConnection, SimpleAsyncConnection};
use futures_util::FutureExt;

use super::Result;
use crate::StoreError;

/// Bytes per packet of LOAD DATA input.
const PACKET_BYTES: usize = 1 << 20;

pub type ImportConnection = AsyncMysqlConnection;

/// Buffers waiting to be read by a `LOAD DATA LOCAL INFILE '<name>'` statement. Each is taken
/// by the first request for its name; a name nobody registered reads as an error, so the
/// server can never read a file from the importer's disk.
#[derive(Clone, Default)]
pub struct InfileBuffers {
    pending: Arc<Mutex<HashMap<String, Bytes>>>,
}

impl InfileBuffers {
    pub fn put(&self, name: &str, data: Bytes) {
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name.to_owned(), data);
    }

    fn take(&self, name: &[u8]) -> Option<Bytes> {
        let name = std::str::from_utf8(name).ok()?;
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(name)
    }
}

/// Opens a connection to `url` that serves `LOAD DATA LOCAL INFILE` from `buffers`.
pub async fn connect(url: &str, buffers: InfileBuffers) -> Result<ImportConnection> {
    let bad = |e: String| StoreError::Connect(diesel::ConnectionError::BadConnection(e));
    let opts = mysql_async::Opts::from_url(url).map_err(|e| bad(e.to_string()))?;
    let handler = move |name: &[u8]| {
        let data = buffers.take(name);
        let name = String::from_utf8_lossy(name).into_owned();
        async move {
            match data {
                Some(data) => {
                    // The driver sends each item as one packet: keep them well below
                    // max_allowed_packet.
                    let pieces: Vec<std::io::Result<Bytes>> = (0..data.len())
                        .step_by(PACKET_BYTES)
                        .map(|at| Ok(data.slice(at..data.len().min(at + PACKET_BYTES))))
                        .collect();
                    let stream = futures_util::stream::iter(pieces);
                    Ok(Box::pin(stream) as mysql_async::InfileData)
                }
                None => Err(mysql_async::LocalInfileError::OtherError(
                    format!("no data registered for {name}").into(),
                )),
            }
        }
        .boxed()
    };
    let opts = mysql_async::OptsBuilder::from_opts(opts).local_infile_handler(Some(handler));
    let conn = mysql_async::Conn::new(opts)
        .await
        .map_err(|e| bad(e.to_string()))?;
    let mut conn = AsyncMysqlConnection::try_from(conn).await?;
    conn.batch_execute(crate::pool::SESSION_SETUP).await?;
    Ok(conn)
}
