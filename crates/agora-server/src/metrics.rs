//! Prometheus metrics: one process-wide registry ([`metrics`]), the layer that
//! counts and times every request ([`http`]), and `GET /metrics` ([`render`]),
//! in the OpenMetrics text format that `prometheus-client` writes.
//!
//! The request path serves small zips at tens of thousands of requests a
//! second, so it never builds labels per request: each endpoint's histogram and
//! byte counter, and its counter per status code, are resolved once (the
//! status counters lazily, on first use) and then only incremented. Every
//! series is described in `docs/operations.md` (`## Metrics`).

use std::fmt::Write as _;
use std::sync::{LazyLock, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use http::{HeaderValue, Method, StatusCode, header};
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

/// What a request asked for, as the `endpoint` label says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `/@v/list`.
    List,
    /// `/@v/<version>.info`.
    Info,
    /// `/@v/<version>.mod`.
    Mod,
    /// `/@v/<version>.zip`.
    Zip,
    /// `/@latest`.
    Latest,
    /// `/catalog`.
    Catalog,
    /// `/index`.
    Index,
    /// Anything else: operations endpoints, `/metrics`, unknown paths.
    Other,
}

const ENDPOINTS: [Endpoint; 8] = [
    Endpoint::List,
    Endpoint::Info,
    Endpoint::Mod,
    Endpoint::Zip,
    Endpoint::Latest,
    Endpoint::Catalog,
    Endpoint::Index,
    Endpoint::Other,
];

impl Endpoint {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Endpoint::List => "list",
            Endpoint::Info => "info",
            Endpoint::Mod => "mod",
            Endpoint::Zip => "zip",
            Endpoint::Latest => "latest",
            Endpoint::Catalog => "catalog",
            Endpoint::Index => "index",
            Endpoint::Other => "other",
        }
    }

    /// Classifies a request path by its ending alone, so it holds with or without a
    /// path prefix and costs a few byte comparisons.
    pub fn of_path(path: &str) -> Endpoint {
        if path.ends_with("/@v/list") {
            Endpoint::List
        } else if path.ends_with("/@latest") {
            Endpoint::Latest
        } else if path.contains("/@v/") {
            if path.ends_with(".zip") {
                Endpoint::Zip
            } else if path.ends_with(".info") {
                Endpoint::Info
            } else if path.ends_with(".mod") {
                Endpoint::Mod
            } else {
                Endpoint::Other
            }
        } else if path.ends_with("/catalog") {
            Endpoint::Catalog
        } else if path.ends_with("/index") {
            Endpoint::Index
        } else {
            Endpoint::Other
        }
    }

    fn slot(self) -> usize {
        self as usize
    }
}

impl EncodeLabelValue for Endpoint {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
        encoder.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct HttpLabels {
    endpoint: Endpoint,
    code: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct EndpointLabel {
    endpoint: Endpoint,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ResultLabel {
    result: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct OpLabel {
    op: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct CacheLabels {
    cache: &'static str,
    result: &'static str,
}

/// The statuses agora answers; each gets a pre-resolved counter per endpoint.
const CODES: [u16; 16] = [
    200, 206, 304, 400, 401, 403, 404, 405, 410, 416, 500, 501, 502, 503, 504, 429,
];

fn code_slot(code: u16) -> Option<usize> {
    CODES.iter().position(|c| *c == code)
}

struct EndpointHandles {
    duration: Histogram,
    bytes: Counter,
    codes: [OnceLock<Counter>; CODES.len()],
}

/// A storage operation, as the `op` label names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageOp {
    /// `Storage::exists`.
    Exists,
    /// `Storage::list`.
    List,
    /// `Storage::info`.
    Info,
    /// `Storage::go_mod`.
    Mod,
    /// `Storage::zip` (opening it, not streaming it).
    Zip,
    /// `Storage::put`.
    Put,
    /// `Storage::catalog`.
    Catalog,
    /// `Storage::delete`.
    Delete,
}

const STORAGE_OPS: [StorageOp; 8] = [
    StorageOp::Exists,
    StorageOp::List,
    StorageOp::Info,
    StorageOp::Mod,
    StorageOp::Zip,
    StorageOp::Put,
    StorageOp::Catalog,
    StorageOp::Delete,
];

impl StorageOp {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            StorageOp::Exists => "exists",
            StorageOp::List => "list",
            StorageOp::Info => "info",
            StorageOp::Mod => "mod",
            StorageOp::Zip => "zip",
            StorageOp::Put => "put",
            StorageOp::Catalog => "catalog",
            StorageOp::Delete => "delete",
        }
    }
}

/// Which cache a lookup went to, as the `cache` label names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheKind {
    /// Stored `.info`, `.mod` and small zips kept in memory.
    SmallFiles,
    /// Upstream `list` answers.
    UpstreamList,
    /// Upstream `@latest` answers.
    UpstreamLatest,
    /// Upstream "not found" answers.
    UpstreamNotFound,
}

const CACHES: [CacheKind; 4] = [
    CacheKind::SmallFiles,
    CacheKind::UpstreamList,
    CacheKind::UpstreamLatest,
    CacheKind::UpstreamNotFound,
];

impl CacheKind {
    fn as_str(self) -> &'static str {
        match self {
            CacheKind::SmallFiles => "small_files",
            CacheKind::UpstreamList => "upstream_list",
            CacheKind::UpstreamLatest => "upstream_latest",
            CacheKind::UpstreamNotFound => "upstream_not_found",
        }
    }
}

/// How an upstream fetch ended, as the `result` label says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchResult {
    /// Fetched, checked and stored (or stored by someone else meanwhile).
    Ok,
    /// Upstream said the version does not exist.
    NotFound,
    /// Anything else: outage, timeout, refused content, storage failure.
    Error,
}

/// Every series agora exports, with its handles resolved.
pub struct Metrics {
    registry: Mutex<Registry>,
    http_requests: Family<HttpLabels, Counter>,
    endpoints: [EndpointHandles; ENDPOINTS.len()],
    fetches: [Counter; 3],
    fetch_duration: Histogram,
    fetches_in_flight: Gauge,
    singleflight_waiters: Gauge,
    singleflight_joined: Counter,
    storage: [(Histogram, Counter); STORAGE_OPS.len()],
    caches: [[Counter; 2]; CACHES.len()],
    index_errors: Counter,
    checksum_mismatches: Counter,
    sendfile_bytes: Counter,
}

const HTTP_BUCKETS: [f64; 15] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 60.0, 300.0,
];
const STORAGE_BUCKETS: [f64; 13] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0, 10.0,
];
// Athens' upstream_fetch_duration_seconds buckets.
const FETCH_BUCKETS: [f64; 9] = [0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0];

fn http_histogram() -> Histogram {
    Histogram::new(HTTP_BUCKETS)
}

fn storage_histogram() -> Histogram {
    Histogram::new(STORAGE_BUCKETS)
}

impl Metrics {
    fn new() -> Metrics {
        let mut r = Registry::with_prefix("agora");
        let http_requests = Family::<HttpLabels, Counter>::default();
        r.register(
            "http_requests",
            "HTTP requests answered, by endpoint and status code",
            http_requests.clone(),
        );
        let durations = Family::<EndpointLabel, Histogram, fn() -> Histogram>::new_with_constructor(
            http_histogram,
        );
        r.register_with_unit(
            "http_request_duration",
            "Time from receiving a request to handing its response head to the connection",
            Unit::Seconds,
            durations.clone(),
        );
        let bytes = Family::<EndpointLabel, Counter>::default();
        r.register_with_unit(
            "http_response",
            "Response body bytes announced by Content-Length, for GET requests",
            Unit::Bytes,
            bytes.clone(),
        );
        let endpoints = ENDPOINTS.map(|endpoint| {
            let label = EndpointLabel { endpoint };
            EndpointHandles {
                duration: durations.get_or_create_owned(&label),
                bytes: bytes.get_or_create_owned(&label),
                codes: Default::default(),
            }
        });
        let fetch_family = Family::<ResultLabel, Counter>::default();
        r.register(
            "upstream_fetches",
            "Fetches of a whole version from upstream, by result (ok, not_found, error)",
            fetch_family.clone(),
        );
        let fetches = ["ok", "not_found", "error"]
            .map(|result| fetch_family.get_or_create_owned(&ResultLabel { result }));
        let fetch_duration = Histogram::new(FETCH_BUCKETS);
        r.register_with_unit(
            "upstream_fetch_duration",
            "Time to fetch, check and store one version",
            Unit::Seconds,
            fetch_duration.clone(),
        );
        let fetches_in_flight = Gauge::default();
        r.register(
            "upstream_fetches_in_flight",
            "Fetches from upstream running now",
            fetches_in_flight.clone(),
        );
        let singleflight_waiters = Gauge::default();
        r.register(
            "singleflight_waiters",
            "Requests waiting now for a version being fetched (including the one that started it)",
            singleflight_waiters.clone(),
        );
        let singleflight_joined = Counter::default();
        r.register(
            "singleflight_joined",
            "Requests that joined a fetch another request had started",
            singleflight_joined.clone(),
        );
        let storage_durations =
            Family::<OpLabel, Histogram, fn() -> Histogram>::new_with_constructor(
                storage_histogram,
            );
        r.register_with_unit(
            "storage_operation_duration",
            "Time of one storage operation, by operation",
            Unit::Seconds,
            storage_durations.clone(),
        );
        let storage_errors = Family::<OpLabel, Counter>::default();
        r.register(
            "storage_errors",
            "Storage operations that failed (a miss is not a failure), by operation",
            storage_errors.clone(),
        );
        let storage = STORAGE_OPS.map(|op| {
            let label = OpLabel { op: op.as_str() };
            (
                storage_durations.get_or_create_owned(&label),
                storage_errors.get_or_create_owned(&label),
            )
        });
        let cache_family = Family::<CacheLabels, Counter>::default();
        r.register(
            "cache_lookups",
            "In-memory cache lookups, by cache and result (hit, miss)",
            cache_family.clone(),
        );
        let caches = CACHES.map(|c| {
            ["hit", "miss"].map(|result| {
                cache_family.get_or_create_owned(&CacheLabels {
                    cache: c.as_str(),
                    result,
                })
            })
        });
        let index_errors = Counter::default();
        r.register(
            "index_errors",
            "Stored versions the module index could not record",
            index_errors.clone(),
        );
        let checksum_mismatches = Counter::default();
        r.register(
            "checksum_mismatches",
            "Fetched versions refused because a hash differs from the checksum database's or the given go.sum's",
            checksum_mismatches.clone(),
        );
        let sendfile_bytes = Counter::default();
        r.register_with_unit(
            "sendfile",
            "Zip bytes handed to the kernel straight from their stored file (sendfile), a part of http_response_bytes",
            Unit::Bytes,
            sendfile_bytes.clone(),
        );
        Metrics {
            registry: Mutex::new(r),
            http_requests,
            endpoints,
            fetches,
            fetch_duration,
            fetches_in_flight,
            singleflight_waiters,
            singleflight_joined,
            storage,
            caches,
            index_errors,
            checksum_mismatches,
            sendfile_bytes,
        }
    }

    /// Counts one answered request.
    pub fn request(&self, endpoint: Endpoint, code: u16, elapsed: Duration, bytes: Option<u64>) {
        let h = &self.endpoints[endpoint.slot()];
        h.duration.observe(elapsed.as_secs_f64());
        if let Some(n) = bytes {
            h.bytes.inc_by(n);
        }
        match code_slot(code) {
            Some(i) => h.codes[i]
                .get_or_init(|| {
                    self.http_requests
                        .get_or_create_owned(&HttpLabels { endpoint, code })
                })
                .inc(),
            None => self
                .http_requests
                .get_or_create(&HttpLabels { endpoint, code })
                .inc(),
        };
    }

    /// Counts one finished upstream fetch.
    pub fn fetch(&self, result: FetchResult, elapsed: Duration) {
        let i = match result {
            FetchResult::Ok => 0,
            FetchResult::NotFound => 1,
            FetchResult::Error => 2,
        };
        self.fetches[i].inc();
        self.fetch_duration.observe(elapsed.as_secs_f64());
    }

    /// Marks a fetch running until the guard drops.
    pub fn fetch_in_flight(&self) -> GaugeGuard<'_> {
        self.fetches_in_flight.inc();
        GaugeGuard(&self.fetches_in_flight)
    }

    /// Marks a request waiting on a single flight until the guard drops; `joined`
    /// when the flight was started by another request.
    pub fn singleflight_wait(&self, joined: bool) -> GaugeGuard<'_> {
        if joined {
            self.singleflight_joined.inc();
        }
        self.singleflight_waiters.inc();
        GaugeGuard(&self.singleflight_waiters)
    }

    /// Records one storage operation.
    pub fn storage(&self, op: StorageOp, elapsed: Duration, failed: bool) {
        let (h, errors) = &self.storage[op as usize];
        h.observe(elapsed.as_secs_f64());
        if failed {
            errors.inc();
        }
    }

    /// Records one cache lookup.
    pub fn cache(&self, cache: CacheKind, hit: bool) {
        self.caches[cache as usize][usize::from(!hit)].inc();
    }

    /// Counts a version the index could not record.
    pub fn index_error(&self) {
        self.index_errors.inc();
    }

    /// Counts a fetched version refused for a checksum mismatch.
    pub fn checksum_mismatch(&self) {
        self.checksum_mismatches.inc();
    }

    /// Counts bytes sent from a stored file.
    pub fn sent_from_file(&self, bytes: usize) {
        self.sendfile_bytes.inc_by(bytes as u64);
    }

    /// The registry in the OpenMetrics text format.
    pub fn encode(&self) -> String {
        let mut out = String::with_capacity(16 << 10);
        let registry = match self.registry.lock() {
            Ok(r) => r,
            Err(poisoned) => poisoned.into_inner(),
        };
        if prometheus_client::encoding::text::encode(&mut out, &registry).is_err() {
            out.clear();
            let _ = writeln!(out, "# encoding failed\n# EOF");
        }
        out
    }
}

/// Decrements a gauge when dropped.
pub struct GaugeGuard<'a>(&'a Gauge);

impl Drop for GaugeGuard<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}

static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

/// The process's metrics.
pub fn metrics() -> &'static Metrics {
    &METRICS
}

/// The layer that counts and times every request, outermost, so that every answer
/// (errors and operations endpoints too) is counted once.
pub async fn http(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let endpoint = Endpoint::of_path(req.uri().path());
    let is_get = req.method() == Method::GET;
    let resp = next.run(req).await;
    let bytes = if is_get {
        resp.headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
    } else {
        None
    };
    metrics().request(endpoint, resp.status().as_u16(), started.elapsed(), bytes);
    resp
}

/// `GET /metrics`.
pub fn render() -> Response {
    let mut resp = Response::new(Body::from(metrics().encode()));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    *resp.status_mut() = StatusCode::OK;
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_by_path() {
        for (path, want) in [
            ("/rsc.io/quote/@v/list", Endpoint::List),
            ("/go/rsc.io/quote/@v/v1.5.2.info", Endpoint::Info),
            ("/rsc.io/quote/@v/v1.5.2.mod", Endpoint::Mod),
            ("/rsc.io/quote/@v/v1.5.2.zip", Endpoint::Zip),
            ("/rsc.io/quote/@latest", Endpoint::Latest),
            ("/catalog", Endpoint::Catalog),
            ("/index", Endpoint::Index),
            ("/metrics", Endpoint::Other),
            ("/rsc.io/quote/@v/", Endpoint::Other),
        ] {
            assert_eq!(Endpoint::of_path(path), want, "{path}");
        }
    }

    #[test]
    fn exposition_names_the_series() {
        let m = Metrics::new();
        m.request(Endpoint::Zip, 200, Duration::from_millis(1), Some(10));
        m.request(Endpoint::Zip, 200, Duration::from_millis(1), Some(5));
        m.request(Endpoint::Other, 418, Duration::from_millis(1), None);
        let text = m.encode();
        assert!(
            text.contains("agora_http_requests_total{endpoint=\"zip\",code=\"200\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("agora_http_requests_total{endpoint=\"other\",code=\"418\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("agora_http_response_bytes_total{endpoint=\"zip\"} 15"),
            "{text}"
        );
        assert!(
            text.contains("agora_http_request_duration_seconds_count{endpoint=\"zip\"} 2"),
            "{text}"
        );
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
