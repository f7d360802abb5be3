//! The server's TLS configuration, read from PEM files with rustls and its
//! `ring` provider (the one reqwest already brings in).
//!
//! Only HTTP/1.1 is offered by ALPN: hyper's HTTP/1.1 connection has the
//! request-head timer that closes idle and silent clients
//! ([`crate::ConnectionOptions::header_timeout`]), while its HTTP/2 server has
//! no such timer, so a client could hold an HTTP/2 connection open without
//! sending anything.

use std::path::Path;
use std::sync::Arc;

use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Reads a certificate chain and its private key into a server configuration
/// (TLS 1.2 and 1.3, no client certificates, ALPN `http/1.1`).
///
/// # Errors
/// The reason, naming the file: unreadable, no certificate or key in it, or a
/// key that does not belong to the certificate.
pub fn server_config(cert_file: &Path, key_file: &Path) -> Result<Arc<ServerConfig>, String> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert_file)
        .and_then(Iterator::collect)
        .map_err(|e| format!("reading certificates from {}: {e}", cert_file.display()))?;
    if certs.is_empty() {
        return Err(format!("no certificate in {}", cert_file.display()));
    }
    let key = PrivateKeyDer::from_pem_file(key_file)
        .map_err(|e| format!("reading a private key from {}: {e}", key_file.display()))?;
    let mut config =
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| {
                format!(
                    "{} and {} do not make a usable certificate and key: {e}",
                    cert_file.display(),
                    key_file.display()
                )
            })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
