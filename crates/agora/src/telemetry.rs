//! Trace export over OTLP/HTTP (protobuf), configured by the standard
//! OpenTelemetry variables and off when none names an endpoint.
//!
//! On when `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or
//! `OTEL_EXPORTER_OTLP_ENDPOINT` is set (and `OTEL_SDK_DISABLED` is not
//! `true`, and `OTEL_TRACES_EXPORTER` is not `none`); the exporter reads
//! those, `OTEL_EXPORTER_OTLP_[TRACES_]HEADERS` and `..._TIMEOUT` itself, and
//! the SDK reads `OTEL_SERVICE_NAME` (default `agora`),
//! `OTEL_RESOURCE_ATTRIBUTES` and `OTEL_TRACES_SAMPLER[_ARG]`. Off, nothing
//! here runs: no exporter, no layer, and the spans that exist for export only
//! (target `agora_otel`) stay disabled by the log filter.
//!
//! An incoming W3C `traceparent` is continued: the request span is made a
//! child of it (`agora_server::layers::set_span_hook`).

use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// Whether the environment asks for trace export.
pub fn requested(env: &dyn Fn(&str) -> Option<String>) -> bool {
    let set = |k: &str| env(k).is_some_and(|v| !v.trim().is_empty());
    let disabled = env("OTEL_SDK_DISABLED").is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
        || env("OTEL_TRACES_EXPORTER").is_some_and(|v| v.trim().eq_ignore_ascii_case("none"));
    !disabled && (set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") || set("OTEL_EXPORTER_OTLP_ENDPOINT"))
}

/// The tracer provider and a tracer of it. Must be made (and shut down)
/// outside the async runtime: the exporter's blocking HTTP client runs its
/// own.
pub fn start() -> Result<(SdkTracerProvider, SdkTracer), String> {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .build()
        .map_err(|e| format!("OTLP exporter: {e}"))?;
    let mut resource = opentelemetry_sdk::Resource::builder();
    if std::env::var_os("OTEL_SERVICE_NAME").is_none() {
        resource = resource.with_service_name("agora");
    }
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource.build())
        .build();
    let tracer = provider.tracer("agora");
    agora_server::layers::set_span_hook(continue_trace);
    Ok((provider, tracer))
}

struct Headers<'a>(&'a http::HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

/// Makes the request span a child of the client's `traceparent`, when it
/// sent a valid one.
fn continue_trace(headers: &http::HeaderMap, span: &tracing::Span) {
    if !headers.contains_key("traceparent") {
        return;
    }
    let cx = TraceContextPropagator::new().extract(&Headers(headers));
    let _ = span.set_parent(cx);
}
