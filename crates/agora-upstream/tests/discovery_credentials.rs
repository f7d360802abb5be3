//! Discovery with credentials against a real (plain-HTTP) server: a netrc
//! machine matching the host is never sent over http, even under GOINSECURE,
//! as the go command's `GOAUTH=netrc` sends credentials over https only.
//! (The https side is covered by `Credentials::http_authorization`'s table.)

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use agora_upstream::credentials::{Credentials, parse_netrc};
use agora_upstream::discovery::{VcsPolicy, repo_root_with_credentials};

type Log = Arc<Mutex<Vec<Vec<String>>>>;

/// Records each plain-HTTP request's head; TLS handshakes are dropped.
fn serve(stream: TcpStream, port: u16, log: &Log) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut head = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let line = line.trim_end().to_owned();
        if line.is_empty() {
            break;
        }
        if head.is_empty() && !line.starts_with("GET ") {
            // A TLS ClientHello (the https attempt): not HTTP.
            return Ok(());
        }
        head.push(line);
    }
    log.lock().expect("request log").push(head);
    let body = format!(
        "<html><head><meta name=\"go-import\" content=\"127.0.0.1:{port}/private git \
         https://code.example.test/private.git\"></head></html>\n"
    );
    let mut out = stream;
    write!(
        out,
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: \
         close\r\n\r\n{body}",
        body.len()
    )?;
    out.flush()
}

#[tokio::test]
async fn credentials_are_never_sent_over_plain_http() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let log: Log = Arc::default();
    let server_log = Arc::clone(&log);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let log = Arc::clone(&server_log);
            std::thread::spawn(move || {
                let _ = serve(stream, port, &log);
            });
        }
    });

    let host = format!("127.0.0.1:{port}");
    let creds = Credentials::from_netrc(&parse_netrc(&format!(
        "machine {host} login u password p4ss\nmachine 127.0.0.1 login u password p4ss\n"
    )));
    // The https URL would get them: the machine matches.
    assert!(
        creds
            .http_authorization(&format!("https://{host}/private?go-get=1"))
            .is_some()
    );
    let client = reqwest::Client::builder().build().unwrap();
    let path = format!("{host}/private");
    let rr = repo_root_with_credentials(&client, &path, &host, &VcsPolicy::default(), &creds)
        .await
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    assert_eq!(rr.repo_url, "https://code.example.test/private.git");

    let heads = log.lock().unwrap().clone();
    assert!(!heads.is_empty(), "the server saw no HTTP request");
    for head in &heads {
        assert!(
            head.iter()
                .all(|h| !h.to_ascii_lowercase().starts_with("authorization:")),
            "credentials sent over http: {head:?}"
        );
    }
}
