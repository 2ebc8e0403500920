//! TLS for the gRPC port: the server's certificate and key, and for mutual TLS the CA that
//! client certificates must chain to. The files are read and checked here, at startup, so that
//! a missing or malformed PEM stops the server with a message naming the file and what is wrong
//! with it, instead of surfacing as failed handshakes once clients arrive.
//!
//! rustls runs on the ring provider (tonic's `tls-ring` feature); TLS 1.2 and 1.3, ALPN `h2`.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use rustls_pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};
use tonic::transport::{Certificate, Identity, ServerTlsConfig};

/// A client that has not finished its handshake after this long is dropped, so that half-open
/// connections cannot pile up.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the TLS files cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read at all.
    #[error("cannot read the TLS {what} {}: {source}", path.display())]
    Read {
        /// "certificate", "private key" or "client CA".
        what: &'static str,
        /// The file named in the configuration.
        path: PathBuf,
        /// Why reading failed.
        source: std::io::Error,
    },
    /// A file was read but holds nothing usable.
    #[error("the TLS {what} {} {reason}", path.display())]
    Pem {
        /// "certificate", "private key" or "client CA".
        what: &'static str,
        /// The file named in the configuration.
        path: PathBuf,
        /// What is wrong and what was expected.
        reason: String,
    },
    /// rustls refused the combination, e.g. a key that is not the certificate's.
    #[error("rustls refused the TLS configuration (is the key the certificate's?): {0}")]
    Rejected(String),
}

/// The TLS files named in the configuration.
pub(crate) struct TlsFiles<'a> {
    pub(crate) cert: &'a Path,
    pub(crate) key: &'a Path,
    pub(crate) client_ca: Option<&'a Path>,
}

/// Reads and checks the files; the result is ready for `Server::tls_config`.
pub(crate) fn server_config(files: &TlsFiles<'_>) -> Result<ServerTlsConfig, TlsError> {
    let cert = read("certificate", files.cert)?;
    certificates("certificate", files.cert, &cert)?;
    let key = read("private key", files.key)?;
    PrivateKeyDer::from_pem_slice(&key).map_err(|error| TlsError::Pem {
        what: "private key",
        path: files.key.to_owned(),
        reason: pem_reason(
            &error,
            "a PKCS#8 (BEGIN PRIVATE KEY), PKCS#1 (BEGIN RSA PRIVATE KEY) or SEC1 (BEGIN EC PRIVATE KEY) key",
        ),
    })?;

    let mut config = ServerTlsConfig::new()
        .identity(Identity::from_pem(cert, key))
        .timeout(HANDSHAKE_TIMEOUT);
    if let Some(path) = files.client_ca {
        config = config.client_ca_root(Certificate::from_pem(client_ca(path)?));
    }
    Ok(config)
}

/// Reads the client CA file and checks that every certificate in it can be a trust anchor:
/// tonic drops those that cannot without a word, and then fails on an empty set of roots with
/// a message that names neither the file nor the certificate.
fn client_ca(path: &Path) -> Result<Vec<u8>, TlsError> {
    let ca = read("client CA", path)?;
    certificates("client CA", path, &ca)?;
    for (index, der) in CertificateDer::pem_slice_iter(&ca).flatten().enumerate() {
        rustls::RootCertStore::empty()
            .add(der)
            .map_err(|error| TlsError::Pem {
                what: "client CA",
                path: path.to_owned(),
                reason: format!(
                    "holds a certificate (number {}) that cannot be a CA to trust: {error}",
                    index + 1
                ),
            })?;
    }
    Ok(ca)
}

fn read(what: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        what,
        path: path.to_owned(),
        source,
    })
}

/// Checks that `pem` holds at least one certificate and nothing malformed.
fn certificates(what: &'static str, path: &Path, pem: &[u8]) -> Result<(), TlsError> {
    let invalid = |reason: String| TlsError::Pem {
        what,
        path: path.to_owned(),
        reason,
    };
    let mut count = 0;
    for certificate in CertificateDer::pem_slice_iter(pem) {
        certificate.map_err(|error| invalid(pem_reason(&error, "PEM certificates")))?;
        count += 1;
    }
    if count == 0 {
        return Err(invalid(pem_reason(
            &rustls_pki_types::pem::Error::NoItemsFound,
            "PEM certificates",
        )));
    }
    Ok(())
}

fn pem_reason(error: &rustls_pki_types::pem::Error, expected: &str) -> String {
    match error {
        rustls_pki_types::pem::Error::NoItemsFound => {
            format!("holds none of the expected blocks: expected {expected}")
        }
        other => format!("is not valid PEM ({other}): expected {expected}"),
    }
}

/// Every message of `error`'s source chain: tonic's own message alone says only "transport
/// error", the reason is in its sources.
pub(crate) fn describe_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut messages = vec![error.to_string()];
    let mut source = error.source();
    while let Some(error) = source {
        messages.push(error.to_string());
        source = error.source();
    }
    messages.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str, contents: &str) -> PathBuf {
        let path =
            std::env::temp_dir().join(format!("ansinh-server-tls-{}-{name}", std::process::id()));
        std::fs::write(&path, contents).unwrap();
        path
    }

    #[test]
    fn a_missing_file_is_named_with_its_role() {
        let error = server_config(&TlsFiles {
            cert: Path::new("/nonexistent/server.pem"),
            key: Path::new("/nonexistent/server.key"),
            client_ca: None,
        })
        .unwrap_err()
        .to_string();
        assert!(
            error.starts_with("cannot read the TLS certificate /nonexistent/server.pem:"),
            "{error}"
        );
    }

    #[test]
    fn a_client_ca_that_is_no_certificate_is_named() {
        let ca = scratch(
            "not-a-ca.pem",
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        );
        let error = client_ca(&ca).unwrap_err().to_string();
        std::fs::remove_file(&ca).unwrap();
        assert!(error.starts_with("the TLS client CA "), "{error}");
        assert!(error.contains("not-a-ca.pem"), "{error}");
        assert!(error.contains("(number 1) that cannot be a CA"), "{error}");
    }

    #[test]
    fn a_file_without_the_expected_pem_block_says_what_was_expected() {
        let cert = scratch("not-a-cert.pem", "hello\n");
        let error = server_config(&TlsFiles {
            cert: &cert,
            key: &cert,
            client_ca: None,
        })
        .unwrap_err()
        .to_string();
        std::fs::remove_file(&cert).unwrap();
        assert!(error.contains("not-a-cert.pem"), "{error}");
        assert!(error.contains("expected PEM certificates"), "{error}");
    }
}
