//! An OTLP/HTTP trace receiver (`scripts/otlp_receiver.py`, decoding the protobuf export
//! with PyPI's `opentelemetry-proto`) that writes every span it receives as a JSON line,
//! for tests that check what agora exports.

use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::Duration;

use serde_json::Value;

use crate::{free_port, guarded_server, stop_guarded, wait_until};

/// A receiver on 127.0.0.1; stopped on drop.
pub struct OtlpReceiver {
    /// Its port.
    pub port: u16,
    out: PathBuf,
    child: Option<Child>,
}

impl Drop for OtlpReceiver {
    fn drop(&mut self) {
        stop_guarded(&mut self.child);
    }
}

impl OtlpReceiver {
    /// Starts one writing its spans to `<dir>/spans.jsonl`. Panics when it cannot.
    pub fn start(dir: &Path) -> OtlpReceiver {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/otlp_receiver.py");
        let out = dir.join("spans.jsonl");
        let port = free_port();
        let child = guarded_server(
            "otlp-receiver",
            "python3 \"$1\" \"$2\" \"$3\"",
            &[
                script.display().to_string(),
                port.to_string(),
                out.display().to_string(),
            ],
        )
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run sh to start the OTLP receiver: {e}"));
        let recv = OtlpReceiver {
            port,
            out,
            child: Some(child),
        };
        let up = wait_until(Duration::from_secs(15), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        assert!(
            up,
            "the OTLP receiver did not listen on {port} (needs `pip install opentelemetry-proto`)"
        );
        recv
    }

    /// `http://127.0.0.1:port`, for `OTEL_EXPORTER_OTLP_ENDPOINT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Every span received so far.
    pub fn spans(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.out)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}
