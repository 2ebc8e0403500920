//! Server URLs: the `mysql://user:password@host:port` part of a database URL.
//!
//! The harness is handed URLs that may name a database (`TEST_DATABASE_URL` often is the
//! application's own URL) and hands out URLs that must name the test's database, so it keeps
//! the server part and swaps the path. Connection options after `?` are kept: they describe
//! how to reach the server, not which database to use.

use std::fmt;

/// A MySQL server address without a database: `mysql://user:password@host:port`.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct ServerUrl {
    /// `scheme://authority`, never ending in `/`.
    base: String,
    /// The query string including its `?`, or empty.
    query: String,
}

impl ServerUrl {
    /// Drops the database path of `url`, if any.
    pub(crate) fn parse(url: &str) -> Result<Self, String> {
        let url = url.trim();
        let Some(scheme_end) = url.find("://") else {
            return Err("expected a URL like mysql://user:password@host:port".to_owned());
        };
        let authority_start = scheme_end + 3;
        let (before_query, query) = match url.find('?') {
            Some(q) => (&url[..q], &url[q..]),
            None => (url, ""),
        };
        let authority_end = before_query[authority_start..]
            .find('/')
            .map_or(before_query.len(), |slash| authority_start + slash);
        if authority_end == authority_start {
            return Err("the URL names no host".to_owned());
        }
        Ok(Self {
            base: before_query[..authority_end].to_owned(),
            query: query.to_owned(),
        })
    }

    /// `mysql://root@127.0.0.1:<port>`: how the harness reaches a local server it trusts.
    ///
    /// `prefer_socket=false` keeps mysql_async on TCP: by default it asks the server for its
    /// Unix socket and reconnects through it, which would make "stop the server under a client"
    /// tests exercise a transport production never uses.
    pub(crate) fn local_root(port: u16) -> Self {
        Self {
            base: format!("mysql://root@127.0.0.1:{port}"),
            query: "?prefer_socket=false".to_owned(),
        }
    }

    /// The URL that connects to the server without selecting a database.
    pub(crate) fn server(&self) -> String {
        format!("{}{}", self.base, self.query)
    }

    /// The URL that connects to `database` on this server.
    pub(crate) fn with_database(&self, database: &str) -> String {
        format!("{}/{}{}", self.base, database, self.query)
    }

    /// `host:port` only, for messages: the URL may carry a password.
    pub(crate) fn host(&self) -> &str {
        let authority = &self.base[self.base.find("://").map_or(0, |i| i + 3)..];
        authority
            .rsplit_once('@')
            .map_or(authority, |(_, host)| host)
    }
}

impl fmt::Debug for ServerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ServerUrl({})", self.host())
    }
}

#[cfg(test)]
mod tests {
    use super::ServerUrl;

    #[test]
    fn database_part_is_replaced_and_options_kept() {
        let url = ServerUrl::parse("mysql://u:p@db.example:3307/app?prefer_socket=false").unwrap();
        assert_eq!(
            url.server(),
            "mysql://u:p@db.example:3307?prefer_socket=false"
        );
        assert_eq!(
            url.with_database("t1"),
            "mysql://u:p@db.example:3307/t1?prefer_socket=false"
        );
        assert_eq!(url.host(), "db.example:3307");
    }

    #[test]
    fn url_without_database_is_accepted() {
        let url = ServerUrl::parse("mysql://root@127.0.0.1:3306").unwrap();
        assert_eq!(url.with_database("x"), "mysql://root@127.0.0.1:3306/x");
        let url = ServerUrl::parse("mysql://root@127.0.0.1:3306/").unwrap();
        assert_eq!(url.server(), "mysql://root@127.0.0.1:3306");
    }

    #[test]
    fn garbage_is_rejected() {
        assert!(ServerUrl::parse("127.0.0.1:3306").is_err());
        assert!(ServerUrl::parse("mysql:///db").is_err());
    }
}
