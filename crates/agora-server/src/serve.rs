//! Accepting connections and driving HTTP/1.1 on them, with the socket options
//! and timers a server facing untrusted clients needs.
//!
//! `axum::serve` leaves both out: its accepted sockets keep Nagle's algorithm on
//! (a streamed body's first write waits for the client's delayed ACK of the
//! header write, about 40 ms per request on a reused connection), and hyper gets
//! no timer, so a client that never finishes its request head holds a connection
//! and a task forever. Plain connections also send kept zips with `sendfile`
//! (see [`crate::zerocopy`]).

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::response::Response;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;
use tracing::{debug, info, warn};

use crate::zerocopy::{ZeroCopy, ZeroCopyIo};

/// Connection-level limits.
#[derive(Debug, Clone)]
pub struct ConnectionOptions {
    /// How long a client may take to send a request head, counted from the
    /// moment the connection is ready for one: on a new connection, and between
    /// requests on a kept-alive one (so it also bounds idle keep-alive).
    pub header_timeout: Duration,
}

impl Default for ConnectionOptions {
    fn default() -> Self {
        ConnectionOptions {
            header_timeout: Duration::from_secs(30),
        }
    }
}

/// Serves `router` on `listener` until `shutdown` resolves, then lets
/// in-flight requests finish for at most `grace`.
pub async fn serve<F>(
    listener: TcpListener,
    router: Router,
    shutdown: F,
    grace: Duration,
) -> io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    serve_with(
        listener,
        router,
        shutdown,
        grace,
        &ConnectionOptions::default(),
    )
    .await
}

/// [`serve`] with explicit connection limits.
///
/// Plain TCP speaks HTTP/1.1 only: the go command uses HTTP/2 only over TLS
/// (chosen by ALPN), and sniffing for an h2c preface would itself be a read
/// with no deadline.
pub async fn serve_with<F>(
    listener: TcpListener,
    router: Router,
    shutdown: F,
    grace: Duration,
    options: &ConnectionOptions,
) -> io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    serve_inner(listener, router, shutdown, grace, options, None).await
}

/// [`serve_with`] over TLS (see [`crate::tls::server_config`]). The handshake
/// runs on the connection's own task and must finish within the header
/// timeout, so a client that opens a connection and sends nothing is dropped
/// then; a failed handshake ends that connection only.
pub async fn serve_tls<F>(
    listener: TcpListener,
    router: Router,
    shutdown: F,
    grace: Duration,
    options: &ConnectionOptions,
    tls: Arc<rustls::ServerConfig>,
) -> io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    let acceptor = TlsAcceptor::from(tls);
    serve_inner(listener, router, shutdown, grace, options, Some(acceptor)).await
}

async fn serve_inner<F>(
    listener: TcpListener,
    router: Router,
    shutdown: F,
    grace: Duration,
    options: &ConnectionOptions,
    tls: Option<TlsAcceptor>,
) -> io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(options.header_timeout)
        .keep_alive(true);
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_error(e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Headers and body go out in separate writes; with Nagle on, the body
        // waits for the ACK of the headers.
        if let Err(e) = stream.set_nodelay(true) {
            debug!(error = %e, "could not set TCP_NODELAY");
        }
        if let Some(acceptor) = &tls {
            let service = TowerToHyperService::new(router.clone());
            let (acceptor, http, watcher) = (acceptor.clone(), http.clone(), graceful.watcher());
            let timeout = options.header_timeout;
            tokio::spawn(tls_connection(
                acceptor, stream, peer, timeout, http, service, watcher,
            ));
            continue;
        }
        // Plain connections send kept zips from their files (zerocopy.rs).
        let slot = Arc::new(ZeroCopy::default());
        let service = ServiceExt::<http::Request<Incoming>>::map_response(router.clone(), {
            let slot = slot.clone();
            move |mut resp: Response| {
                slot.take_from(&mut resp);
                resp
            }
        });
        let service = TowerToHyperService::new(service);
        let conn = http.serve_connection(ZeroCopyIo::new(stream, slot), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                // Timeouts, resets and malformed requests are the client's
                // business; hyper already answered what it could.
                debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    info!(
        grace_secs = grace.as_secs(),
        "shutting down; waiting for in-flight requests"
    );
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(grace) => {
            warn!("shutdown timeout reached with requests still in flight");
        }
    }
    Ok(())
}

/// One TLS connection: the handshake (or a 400 for plain HTTP) within
/// `timeout`, then HTTP/1.1 under the graceful-shutdown watcher.
async fn tls_connection(
    acceptor: TlsAcceptor,
    stream: TcpStream,
    peer: SocketAddr,
    timeout: Duration,
    http: http1::Builder,
    service: TowerToHyperService<Router>,
    watcher: Watcher,
) {
    let handshake = async {
        // Plain HTTP on the HTTPS port gets a readable answer, as from Go's
        // server, rather than a dropped connection.
        let mut first = [0u8; 1];
        if stream.peek(&mut first).await? == 1 && first[0] != TLS_HANDSHAKE {
            let mut stream = stream;
            // Take in the request first: closing with unread data would
            // reset the connection before the client reads the answer.
            let _ = stream.read(&mut [0u8; 4096]).await;
            let _ = stream.write_all(PLAIN_HTTP_ANSWER).await;
            let _ = stream.shutdown().await;
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "plain HTTP sent to the HTTPS port",
            ));
        }
        acceptor.accept(stream).await
    };
    let stream = match tokio::time::timeout(timeout, handshake).await {
        Ok(Ok(stream)) => stream,
        // rustls reports protocol failures (a client that distrusts the
        // certificate, plain HTTP on the TLS port) as InvalidData.
        Ok(Err(e)) if e.kind() == io::ErrorKind::InvalidData => {
            info!(%peer, error = %e, "TLS handshake failed");
            return;
        }
        Ok(Err(e)) => {
            debug!(%peer, error = %e, "TLS handshake failed");
            return;
        }
        Err(_) => {
            debug!(%peer, "TLS handshake timed out");
            return;
        }
    };
    let conn = http.serve_connection(TokioIo::new(stream), service);
    if let Err(e) = watcher.watch(conn).await {
        debug!(error = %e, "connection ended with an error");
    }
}

/// The first byte of a TLS connection: a handshake record.
const TLS_HANDSHAKE: u8 = 0x16;

const PLAIN_HTTP_ANSWER: &[u8] = b"HTTP/1.0 400 Bad Request\r\n\
Content-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n\
Client sent an HTTP request to an HTTPS server.\n";

/// Errors from `accept` concern one connection (the peer reset it before we
/// took it) or the process (out of file descriptors). Neither ends the
/// server; the second would spin, so it backs off.
async fn accept_error(e: io::Error) {
    match e.kind() {
        io::ErrorKind::ConnectionAborted
        | io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionRefused
        | io::ErrorKind::Interrupted => debug!(error = %e, "accept failed"),
        _ => {
            warn!(error = %e, "accept failed; pausing");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
