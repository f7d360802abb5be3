//! A lock in etcd, through etcd's v3 JSON gateway (`/v3/...`, etcd 3.4 and later).
//!
//! The lock is the key `agora-lock/<name>`, attached to a lease of the lock's TTL:
//! taking it is one transaction that puts the key only if its create revision is 0 (it
//! does not exist); renewing is a lease keep-alive; releasing revokes the lease, which
//! deletes the key only if it is still attached to this holder's lease. A holder that
//! dies stops keeping its lease alive, and etcd deletes the key when the lease expires.
//!
//! The gateway rather than the gRPC client (`etcd-client`): the four calls needed are
//! plain JSON over the HTTP client agora already has, and the gRPC client needs `protoc`
//! and `tonic` at build time.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};

use crate::{Held, Lock, LockError, OP_TIMEOUT, bounded, token};

/// The largest gateway answer read.
const MAX_ANSWER: usize = 64 * 1024;

/// A lock on an etcd cluster.
#[derive(Clone)]
pub struct EtcdLock {
    inner: Arc<Inner>,
}

struct Inner {
    endpoints: Vec<String>,
    /// The endpoint that answered last, tried first.
    current: AtomicUsize,
    http: reqwest::Client,
}

impl EtcdLock {
    /// A lock on the cluster at `endpoints` (`host:port` or `http(s)://host:port`).
    pub fn new(endpoints: &[String]) -> Result<EtcdLock, LockError> {
        if endpoints.is_empty() {
            return Err(LockError::new("etcd", "no endpoints"));
        }
        let endpoints = endpoints
            .iter()
            .map(|e| {
                let e = e.trim_end_matches('/');
                if e.contains("://") {
                    e.to_owned()
                } else {
                    format!("http://{e}")
                }
            })
            .collect();
        let http = reqwest::Client::builder()
            .connect_timeout(OP_TIMEOUT)
            .timeout(OP_TIMEOUT)
            .build()
            .map_err(|e| LockError::new("etcd client", e))?;
        Ok(EtcdLock {
            inner: Arc::new(Inner {
                endpoints,
                current: AtomicUsize::new(0),
                http,
            }),
        })
    }

    /// Checks that the cluster answers (a lease grant and revoke).
    pub async fn ping(&self) -> Result<(), LockError> {
        let lease = self.inner.grant(Duration::from_secs(5)).await?;
        self.inner.revoke(&lease).await
    }
}

impl Inner {
    /// POSTs `body` to `path` on the current endpoint, moving on to the next endpoint
    /// when one cannot be reached.
    async fn call(&self, path: &str, body: Value) -> Result<Value, LockError> {
        let n = self.endpoints.len();
        let first = self.current.load(Ordering::Relaxed) % n;
        let mut last = None;
        for i in 0..n {
            let idx = (first + i) % n;
            let url = format!("{}{path}", self.endpoints[idx]);
            let context = format!("etcd {url}");
            let sent = bounded(&context, self.http.post(&url).json(&body).send()).await;
            let resp = match sent {
                Ok(resp) => resp,
                Err(e) => {
                    last = Some(e);
                    continue;
                }
            };
            self.current.store(idx, Ordering::Relaxed);
            let status = resp.status();
            let body = read_bounded(&context, resp).await?;
            if !status.is_success() {
                return Err(LockError::new(
                    context,
                    format!("{status}: {}", String::from_utf8_lossy(&body)),
                ));
            }
            return serde_json::from_slice(&body).map_err(|e| LockError::new(context, e));
        }
        Err(last.unwrap_or_else(|| LockError::new("etcd", "no endpoints")))
    }

    async fn grant(&self, ttl: Duration) -> Result<String, LockError> {
        let answer = self
            .call("/v3/lease/grant", json!({ "TTL": ttl.as_secs().max(1) }))
            .await?;
        match answer.get("ID") {
            Some(Value::String(id)) => Ok(id.clone()),
            Some(Value::Number(id)) => Ok(id.to_string()),
            _ => Err(LockError::new(
                "etcd lease grant",
                format!("no lease ID in {answer}"),
            )),
        }
    }

    async fn revoke(&self, lease: &str) -> Result<(), LockError> {
        match self.call("/v3/lease/revoke", json!({ "ID": lease })).await {
            Ok(_) => Ok(()),
            // An expired lease is gone already: nothing left to release.
            Err(e) if e.reason.contains("lease not found") => Ok(()),
            Err(e) => Err(e),
        }
    }
}

async fn read_bounded(context: &str, mut resp: reqwest::Response) -> Result<Vec<u8>, LockError> {
    let mut body = Vec::new();
    while let Some(chunk) = bounded(context, resp.chunk()).await? {
        if body.len() + chunk.len() > MAX_ANSWER {
            return Err(LockError::new(
                context,
                format!("answer larger than {MAX_ANSWER} bytes"),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// An int64 in the gateway's JSON (a string, or a number).
fn int(v: Option<&Value>) -> i64 {
    match v {
        Some(Value::String(s)) => s.parse().unwrap_or(0),
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0),
        _ => 0,
    }
}

#[async_trait]
impl Lock for EtcdLock {
    fn describe(&self) -> String {
        format!("etcd {}", self.inner.endpoints.join(","))
    }

    async fn try_acquire(
        &self,
        name: &str,
        ttl: Duration,
    ) -> Result<Option<Box<dyn Held>>, LockError> {
        let key = B64.encode(format!("agora-lock/{name}"));
        let lease = self.inner.grant(ttl).await?;
        let txn = json!({
            "compare": [{ "target": "CREATE", "key": key, "createRevision": "0" }],
            "success": [{ "requestPut": {
                "key": key,
                "value": B64.encode(token()),
                "lease": lease,
            }}],
        });
        let answer = match self.inner.call("/v3/kv/txn", txn).await {
            Ok(a) => a,
            Err(e) => {
                let _ = self.inner.revoke(&lease).await;
                return Err(e);
            }
        };
        if answer.get("succeeded") == Some(&Value::Bool(true)) {
            return Ok(Some(Box::new(EtcdHeld {
                inner: self.inner.clone(),
                lease,
            })));
        }
        // Someone else holds it: this lease is not needed.
        self.inner.revoke(&lease).await?;
        Ok(None)
    }
}

struct EtcdHeld {
    inner: Arc<Inner>,
    lease: String,
}

#[async_trait]
impl Held for EtcdHeld {
    async fn renew(&mut self, _ttl: Duration) -> Result<bool, LockError> {
        // A keep-alive resets the lease to the TTL it was granted with.
        let answer = self
            .inner
            .call("/v3/lease/keepalive", json!({ "ID": self.lease }))
            .await?;
        let result = answer.get("result").unwrap_or(&answer);
        Ok(int(result.get("TTL")) > 0)
    }

    async fn release(self: Box<Self>) -> Result<(), LockError> {
        self.inner.revoke(&self.lease).await
    }
}
