//! Athens' external HTTP storage: a client for the protocol of gomods/athens
//! `pkg/storage/external`, which lets a separate HTTP service hold the modules.
//!
//! # Protocol (exactly Athens' client)
//!
//! The module path is `!`-case-escaped; the version is sent as it is (only characters that
//! cannot stand in a URL path are percent-encoded, which servers decode):
//!
//! ```text
//! GET    {base}/{module}/@v/list              newline-separated versions
//! GET    {base}/{module}/@v/{version}.info    .mod   .zip (size from Content-Length)
//! POST   {base}/{module}/@v/{version}.save    multipart/form-data: mod.info, mod.mod, mod.zip
//! DELETE {base}/{module}/@v/{version}.delete
//! ```
//!
//! # Semantics
//!
//! * **Status codes.** 404 and 410 mean absent ([`ErrorKind::NotFound`]); a list answered
//!   404/410 is an empty list. A refused connection, a timeout, a 5xx or any other
//!   unexpected answer is [`ErrorKind::Unavailable`], never absence.
//! * **`exists`** means all three artifacts are there: `.info`, then `.mod`, then the zip
//!   (asked for with `Range: bytes=0-0`, so a server that honours ranges sends one byte;
//!   one that does not starts sending the whole zip, and the connection is dropped after
//!   the headers). The first 404/410 answers false. Plain reads (`info`, `go_mod`, `zip`)
//!   are one request each and trust the server for the rest of the version: whether a
//!   version is all-or-nothing on the server is up to the server's own backend.
//! * **Create-only** is only as good as the server. The protocol has no conditional save:
//!   `put` asks `exists` first and reports [`ErrorKind::AlreadyExists`] without sending
//!   anything; a save answered 409, or answered with any error while the version turns out
//!   to exist afterwards (Athens' reference server answers every failed save with 400), is
//!   `AlreadyExists` too. Two writers racing past the check both send a save, and only a
//!   server whose backend refuses the second (as agora's own server does, backed by any
//!   agora storage) keeps the first. agora never overwrites on its side.
//! * **Zip reads** stream. A read of a later part of the zip (an HTTP Range request to
//!   agora) asks the server for that range, with `If-Match` when the server gave an ETag;
//!   a server that ignores `Range` sends the whole zip and the leading bytes are skipped.
//! * **Saves stream** the zip from the local spool file into the multipart body, with a
//!   computed Content-Length; nothing is read whole into memory.
//! * **`ready`** lists a module no one can have (`GET {base}/agora-ready-probe.invalid/@v/list`):
//!   any 2xx, 404 or 410 means the server is reachable and answering the protocol; a
//!   refused connection, a timeout, a 5xx or another status means not ready.
//! * There is no catalog in the protocol (Athens' client has none either).

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io;
use std::ops::Range;
use std::time::Duration;

use agora_core::{ModulePath, Version};
use async_trait::async_trait;
use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt, stream};
use reqwest::header::{self, HeaderValue};
use reqwest::{Client, Method, Response, StatusCode};
use tracing::debug;

use crate::{ByteStream, NewVersion, Storage, StorageError, ZipObject, ZipSource};

/// The module `ready` lists: `.invalid` is reserved (RFC 2606), so no real module has it.
const PROBE_MODULE: &str = "agora-ready-probe.invalid";

/// How much of an error body goes into a message.
const ERROR_BODY_LIMIT: usize = 200;

/// A module cache kept by a server speaking Athens' external storage protocol.
#[derive(Debug, Clone)]
pub struct ExternalStorage {
    client: Client,
    base: String,
}

impl ExternalStorage {
    /// A client for the server at `url` (`http://` or `https://`; a trailing `/` is
    /// ignored, and a path is kept as the base of every request). No request is made until
    /// first use; call [`Storage::ready`] to probe it.
    ///
    /// # Errors
    /// [`ErrorKind::Unavailable`](crate::ErrorKind::Unavailable) when `url` is not an
    /// http(s) URL or no HTTP client can be built.
    pub fn new(url: &str) -> Result<Self, StorageError> {
        // The binary installs ring as the process-wide rustls provider; tests and other
        // embedders may not have, and reqwest is built without a provider of its own.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let base = url.trim().trim_end_matches('/').to_owned();
        let parsed = reqwest::Url::parse(&base).map_err(|e| {
            StorageError::io(
                format!("external storage URL {base:?}"),
                io::Error::new(io::ErrorKind::InvalidInput, e),
            )
        })?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(StorageError::io(
                format!("external storage URL {base:?}"),
                io::Error::new(io::ErrorKind::InvalidInput, "expected an http(s) URL"),
            ));
        }
        let client = Client::builder()
            .connect_timeout(Duration::from_secs(5))
            // No whole-request timeout: a zip streams for as long as the client reads. A
            // stalled connection is caught by the read timeout instead.
            .read_timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| StorageError::io("building the HTTP client", io::Error::other(e)))?;
        Ok(ExternalStorage { client, base })
    }

    /// `{base}/{escaped module}/@v/{rest}`.
    fn url(&self, module: &ModulePath, rest: &str) -> String {
        format!("{}/{}/@v/{rest}", self.base, module.escaped())
    }

    fn version_url(&self, module: &ModulePath, version: &Version, ext: &str) -> String {
        self.url(module, &format!("{}.{ext}", path_encode(version.as_str())))
    }

    /// Sends a request; a failure to get any answer is `Unavailable`.
    async fn send(
        &self,
        req: reqwest::RequestBuilder,
        what: &str,
    ) -> Result<Response, StorageError> {
        req.send().await.map_err(|e| transport(what, e))
    }

    /// GETs a small artifact whole.
    async fn get_small(
        &self,
        module: &ModulePath,
        version: &Version,
        ext: &str,
    ) -> Result<Bytes, StorageError> {
        let url = self.version_url(module, version, ext);
        let what = format!("GET {url}");
        let resp = self.send(self.client.get(&url), &what).await?;
        if resp.status() != StatusCode::OK {
            return Err(status_error(&what, resp).await);
        }
        resp.bytes().await.map_err(|e| transport(&what, e))
    }

    /// Whether one artifact is there: `Ok(false)` only on 404/410.
    async fn artifact_present(
        &self,
        module: &ModulePath,
        version: &Version,
        ext: &str,
    ) -> Result<bool, StorageError> {
        let url = self.version_url(module, version, ext);
        let what = format!("GET {url}");
        let mut req = self.client.get(&url);
        if ext == "zip" {
            req = req.header(header::RANGE, "bytes=0-0");
        }
        let resp = self.send(req, &what).await?;
        match resp.status() {
            // The body is dropped unread: for a zip from a server that ignores Range, that
            // closes the connection instead of downloading the zip.
            StatusCode::OK | StatusCode::PARTIAL_CONTENT => Ok(true),
            // An empty zip cannot satisfy bytes=0-0, but it is there.
            StatusCode::RANGE_NOT_SATISFIABLE if ext == "zip" => Ok(true),
            _ => match status_error(&what, resp).await {
                e if e.is_not_found() => Ok(false),
                e => Err(e),
            },
        }
    }

    /// The multipart body of a save: parts `mod.info`, `mod.mod`, `mod.zip` in that
    /// order (as Athens' client sends them), the zip streamed from `file`.
    fn save_body(
        new: &NewVersion,
        file: tokio::fs::File,
        zip_len: u64,
    ) -> (String, u64, ByteStream) {
        let boundary = boundary();
        let part = |name: &str| {
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; \
                 filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
        };
        let mut head = Vec::with_capacity(new.info.len() + new.go_mod.len() + 512);
        head.extend_from_slice(part("mod.info").as_bytes());
        head.extend_from_slice(&new.info);
        head.extend_from_slice(b"\r\n");
        head.extend_from_slice(part("mod.mod").as_bytes());
        head.extend_from_slice(&new.go_mod);
        head.extend_from_slice(b"\r\n");
        head.extend_from_slice(part("mod.zip").as_bytes());
        let tail = format!("\r\n--{boundary}--\r\n");
        let len = head.len() as u64 + zip_len + tail.len() as u64;
        let body = stream::once(async move { Ok(Bytes::from(head)) })
            .chain(tokio_util::io::ReaderStream::with_capacity(
                file,
                256 * 1024,
            ))
            .chain(stream::once(async move { Ok(Bytes::from(tail)) }));
        (
            format!("multipart/form-data; boundary={boundary}"),
            len,
            Box::pin(body),
        )
    }
}

#[async_trait]
impl Storage for ExternalStorage {
    fn describe(&self) -> String {
        format!("external:{}", self.base)
    }

    async fn list(&self, module: &ModulePath) -> Result<Vec<String>, StorageError> {
        let url = self.url(module, "list");
        let what = format!("GET {url}");
        let resp = self.send(self.client.get(&url), &what).await?;
        if resp.status() != StatusCode::OK {
            return match status_error(&what, resp).await {
                e if e.is_not_found() => Ok(Vec::new()),
                e => Err(e),
            };
        }
        let text = resp.bytes().await.map_err(|e| transport(&what, e))?;
        let text = String::from_utf8_lossy(&text);
        Ok(text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect())
    }

    async fn exists(&self, module: &ModulePath, version: &Version) -> Result<bool, StorageError> {
        // `.info` first: it is what most backends write last.
        for ext in ["info", "mod", "zip"] {
            if !self.artifact_present(module, version, ext).await? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    async fn info(&self, module: &ModulePath, version: &Version) -> Result<Bytes, StorageError> {
        self.get_small(module, version, "info").await
    }

    async fn go_mod(&self, module: &ModulePath, version: &Version) -> Result<Bytes, StorageError> {
        self.get_small(module, version, "mod").await
    }

    async fn zip(&self, module: &ModulePath, version: &Version) -> Result<ZipObject, StorageError> {
        let url = self.version_url(module, version, "zip");
        let what = format!("GET {url}");
        let resp = self.send(self.client.get(&url), &what).await?;
        if resp.status() != StatusCode::OK {
            return Err(status_error(&what, resp).await);
        }
        let size = resp
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .ok_or_else(|| {
                StorageError::corrupt(format!("{what}: the zip came without a Content-Length"))
            })?;
        let etag = resp
            .headers()
            .get(header::ETAG)
            .filter(|v| !v.as_bytes().starts_with(b"W/"))
            .cloned();
        let last_modified = resp
            .headers()
            .get(header::LAST_MODIFIED)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        // Only characters that are safe inside an HTTP entity tag.
        let raw_tag = match (&etag, &last_modified) {
            (Some(etag), _) => String::from_utf8_lossy(etag.as_bytes()).into_owned(),
            (None, Some(lm)) => format!("{lm}-{size:x}"),
            // Without either, a version is taken never to change (create-only), which
            // holds unless it is deleted and stored again with a zip of the same size.
            (None, None) => format!("x{size:x}"),
        };
        let tag: String = raw_tag
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        Ok(ZipObject::new(
            size,
            tag,
            Box::new(ExternalZip {
                client: self.client.clone(),
                url,
                etag,
                opened: resp,
            }),
        ))
    }

    async fn put(
        &self,
        module: &ModulePath,
        version: &Version,
        new: NewVersion,
    ) -> Result<(), StorageError> {
        // Opened before anything else: once open, the caller may remove the spool file.
        let file = tokio::fs::File::open(&new.zip)
            .await
            .map_err(|e| StorageError::io(format!("opening {}", new.zip.display()), e))?;
        let zip_len = file
            .metadata()
            .await
            .map_err(|e| StorageError::io(format!("reading {}", new.zip.display()), e))?
            .len();
        if self.exists(module, version).await? {
            return Err(already(version));
        }
        let url = self.version_url(module, version, "save");
        let what = format!("POST {url}");
        let (content_type, len, body) = Self::save_body(&new, file, zip_len);
        let req = self
            .client
            .post(&url)
            .header(header::CONTENT_TYPE, content_type)
            .header(header::CONTENT_LENGTH, HeaderValue::from(len))
            .body(reqwest::Body::wrap_stream(body));
        let resp = self.send(req, &what).await?;
        let status = resp.status();
        if status.is_success() {
            debug!(
                module = module.as_str(),
                version = version.as_str(),
                "stored"
            );
            return Ok(());
        }
        if status == StatusCode::CONFLICT {
            return Err(already(version));
        }
        let err = status_error(&what, resp).await;
        // Athens' reference server answers every failed save with 400, a lost race included.
        if self.exists(module, version).await.unwrap_or(false) {
            return Err(already(version));
        }
        Err(StorageError::io(
            "storing version",
            io::Error::other(err.to_string()),
        ))
    }

    async fn delete(&self, module: &ModulePath, version: &Version) -> Result<(), StorageError> {
        let url = self.version_url(module, version, "delete");
        let what = format!("DELETE {url}");
        let resp = self
            .send(self.client.request(Method::DELETE, &url), &what)
            .await?;
        if resp.status().is_success() {
            Ok(())
        } else {
            Err(status_error(&what, resp).await)
        }
    }

    async fn ready(&self) -> Result<(), StorageError> {
        let url = format!("{}/{PROBE_MODULE}/@v/list", self.base);
        let what = format!("probing external storage with GET {url}");
        let resp = self.send(self.client.get(&url), &what).await?;
        let status = resp.status();
        if status.is_success() || matches!(status.as_u16(), 404 | 410) {
            Ok(())
        } else {
            Err(StorageError::io(
                "external storage not ready",
                io::Error::other(status_error(&what, resp).await.to_string()),
            ))
        }
    }
}

/// Percent-encodes what cannot stand as it is in a URL path segment. Versions are sent
/// unescaped, as Athens' client does; `+` (`+incompatible`) and `!` stay literal.
fn path_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~+!".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A multipart boundary that no zip will contain by chance (128 random bits).
fn boundary() -> String {
    let a = RandomState::new().build_hasher().finish();
    let mut h = RandomState::new().build_hasher();
    h.write_u64(a);
    format!("agora-{a:016x}{:016x}", h.finish())
}

fn already(version: &Version) -> StorageError {
    StorageError::already_exists(format!("{} is already stored", version.as_str()))
}

/// A request that got no (complete) answer.
fn transport(what: &str, e: reqwest::Error) -> StorageError {
    let kind = if e.is_timeout() {
        io::ErrorKind::TimedOut
    } else {
        io::ErrorKind::Other
    };
    StorageError::io(what, io::Error::new(kind, error_chain(&e)))
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        out.push_str(": ");
        out.push_str(&s.to_string());
        cur = s.source();
    }
    out
}

/// The error for an unexpected status: 404 and 410 are absence, everything else is the
/// server failing to answer. The message carries the start of the server's reason.
async fn status_error(what: &str, resp: Response) -> StorageError {
    let status = resp.status();
    let body = resp.bytes().await.unwrap_or_default();
    let reason: String = String::from_utf8_lossy(&body)
        .lines()
        .next()
        .unwrap_or("")
        .chars()
        .take(ERROR_BODY_LIMIT)
        .collect();
    let message = if reason.trim().is_empty() {
        format!("{what}: {status}")
    } else {
        format!("{what}: {status}: {}", reason.trim())
    };
    match status.as_u16() {
        404 | 410 => StorageError::not_found(message),
        _ => StorageError::io("external storage", io::Error::other(message)),
    }
}

/// An opened zip: the response to the opening GET, whose body serves reads from the
/// start; later ranges are asked for again.
struct ExternalZip {
    client: Client,
    url: String,
    etag: Option<HeaderValue>,
    opened: Response,
}

#[async_trait]
impl ZipSource for ExternalZip {
    async fn stream(self: Box<Self>, range: Range<u64>) -> Result<ByteStream, StorageError> {
        if range.start >= range.end {
            return Ok(Box::pin(stream::empty()));
        }
        let len = range.end - range.start;
        if range.start == 0 {
            return Ok(slice(body_stream(self.opened), 0, len));
        }
        // Never splice two different zips: the range must come from the same object.
        drop(self.opened);
        let what = format!("GET {} (bytes {}-{})", self.url, range.start, range.end - 1);
        let mut req = self.client.get(&self.url).header(
            header::RANGE,
            format!("bytes={}-{}", range.start, range.end - 1),
        );
        if let Some(etag) = &self.etag {
            req = req.header(header::IF_MATCH, etag.clone());
        }
        let resp = req.send().await.map_err(|e| transport(&what, e))?;
        match resp.status() {
            StatusCode::PARTIAL_CONTENT => {
                let starts_right = resp
                    .headers()
                    .get(header::CONTENT_RANGE)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.starts_with(&format!("bytes {}-", range.start)));
                if !starts_right {
                    return Err(StorageError::corrupt(format!(
                        "{what}: a 206 without the asked-for Content-Range"
                    )));
                }
                Ok(slice(body_stream(resp), 0, len))
            }
            // The server ignores Range: skip to the start.
            StatusCode::OK => Ok(slice(body_stream(resp), range.start, len)),
            StatusCode::PRECONDITION_FAILED => Err(StorageError::corrupt(format!(
                "{what}: the zip changed since it was opened"
            ))),
            _ => match status_error(&what, resp).await {
                e if e.is_not_found() => Err(StorageError::corrupt(format!(
                    "{what}: the zip vanished while opened"
                ))),
                e => Err(e),
            },
        }
    }
}

fn body_stream(resp: Response) -> ByteStream {
    Box::pin(
        resp.bytes_stream()
            .map_err(|e| io::Error::other(error_chain(&e))),
    )
}

/// The `take` bytes of `inner` after the first `skip`; an error if it ends early.
fn slice(inner: ByteStream, skip: u64, take: u64) -> ByteStream {
    Box::pin(stream::try_unfold(
        (inner, skip, take),
        |(mut inner, mut skip, mut take)| async move {
            while take > 0 {
                let Some(mut chunk) = inner.try_next().await? else {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the external storage ended the zip early",
                    ));
                };
                if skip >= chunk.len() as u64 {
                    skip -= chunk.len() as u64;
                    continue;
                }
                chunk = chunk.slice(skip as usize..);
                skip = 0;
                if chunk.len() as u64 > take {
                    chunk.truncate(take as usize);
                }
                take -= chunk.len() as u64;
                return Ok(Some((chunk, (inner, skip, take))));
            }
            Ok(None)
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_stay_literal_in_paths() {
        assert_eq!(path_encode("v2.0.0+incompatible"), "v2.0.0+incompatible");
        assert_eq!(path_encode("v1.0.0-RC1"), "v1.0.0-RC1");
        assert_eq!(path_encode("a b#c%"), "a%20b%23c%25");
    }

    #[test]
    fn urls_escape_the_module_only() {
        let s = ExternalStorage::new("http://127.0.0.1:1/base/").unwrap();
        let m = ModulePath::new("github.com/BurntSushi/toml").unwrap();
        assert_eq!(
            s.version_url(&m, &Version::from_trusted("v1.0.0-RC1"), "info"),
            "http://127.0.0.1:1/base/github.com/!burnt!sushi/toml/@v/v1.0.0-RC1.info"
        );
        assert_eq!(
            s.url(&m, "list"),
            "http://127.0.0.1:1/base/github.com/!burnt!sushi/toml/@v/list"
        );
    }

    #[test]
    fn only_http_urls() {
        for bad in ["", "ftp://x/", "127.0.0.1:8080", "http://"] {
            assert!(ExternalStorage::new(bad).is_err(), "{bad}");
        }
        assert!(ExternalStorage::new("https://storage.example/").is_ok());
    }

    #[tokio::test]
    async fn slicing_skips_and_takes_across_chunks() {
        let chunks: Vec<io::Result<Bytes>> = vec![
            Ok(Bytes::from_static(b"abc")),
            Ok(Bytes::from_static(b"defg")),
            Ok(Bytes::from_static(b"hij")),
        ];
        let got: Vec<Bytes> = slice(Box::pin(stream::iter(chunks)), 2, 6)
            .try_collect()
            .await
            .unwrap();
        assert_eq!(got.concat(), b"cdefgh");
        let short: Vec<io::Result<Bytes>> = vec![Ok(Bytes::from_static(b"ab"))];
        let res: io::Result<Vec<Bytes>> = slice(Box::pin(stream::iter(short)), 0, 3)
            .try_collect()
            .await;
        assert_eq!(res.unwrap_err().kind(), io::ErrorKind::UnexpectedEof);
    }
}
