//! TLS for tests: a throwaway CA and a server certificate for 127.0.0.1 made with the
//! `openssl` command ([`TestCert::new`]), and a raw HTTP/1.1 client over rustls that
//! trusts only that CA ([`https_request`]).

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};

use crate::http::{HttpResponse, parse_response};

/// A CA and a server certificate it signed, for `127.0.0.1` and `localhost`.
#[derive(Debug, Clone)]
pub struct TestCert {
    /// The CA certificate (PEM): what clients trust (`SSL_CERT_FILE`).
    pub ca: PathBuf,
    /// The server certificate (PEM).
    pub cert: PathBuf,
    /// The server's private key (PEM, PKCS#8).
    pub key: PathBuf,
}

impl TestCert {
    /// Makes the files under `dir` with `openssl` (P-256 keys, valid for two days).
    pub fn new(dir: &Path) -> TestCert {
        std::fs::create_dir_all(dir).expect("create the certificate directory");
        let p = |n: &str| dir.join(n);
        std::fs::write(
            p("leaf.ext"),
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n\
             keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
        )
        .expect("write the extensions file");
        // Run in `dir`, so every file name below is relative to it.
        let ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
        let steps = [
            format!("req -x509 {ec} -days 2 -subj /CN=agora-test-CA -keyout ca.key -out ca.pem"),
            format!("req {ec} -subj /CN=127.0.0.1 -keyout key.pem -out leaf.csr"),
            "x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
             -extfile leaf.ext -out cert.pem"
                .to_owned(),
        ];
        for step in steps {
            let args: Vec<&str> = step.split_whitespace().collect();
            let out = Command::new("openssl")
                .args(&args)
                .current_dir(dir)
                .output()
                .expect("run openssl (scripts/test.sh installs it)");
            assert!(
                out.status.success(),
                "openssl {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        TestCert {
            ca: p("ca.pem"),
            cert: p("cert.pem"),
            key: p("key.pem"),
        }
    }
}

/// Sends `METHOD target HTTP/1.1` with `headers` and `Connection: close` over TLS to
/// `addr` (server name `127.0.0.1`), trusting only the CA in `ca`, and reads the whole
/// response.
pub fn https_request(
    addr: SocketAddr,
    ca: &Path,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
) -> io::Result<HttpResponse> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca).map_err(io::Error::other)? {
        roots
            .add(cert.map_err(io::Error::other)?)
            .map_err(io::Error::other)?;
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(io::Error::other)?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = ServerName::try_from(addr.ip().to_string()).map_err(io::Error::other)?;
    let conn = rustls::ClientConnection::new(Arc::new(config), name).map_err(io::Error::other)?;
    let mut stream = rustls::StreamOwned::new(conn, crate::http::connect(addr)?);
    stream.write_all(crate::http::request_head(addr, method, target, headers).as_bytes())?;
    let mut raw = Vec::new();
    match stream.read_to_end(&mut raw) {
        Ok(_) => {}
        // A server that closes without close_notify after a complete response.
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof && !raw.is_empty() => {}
        Err(e) => return Err(e),
    }
    parse_response(&raw, method.eq_ignore_ascii_case("HEAD"))
}
