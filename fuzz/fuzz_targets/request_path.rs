//! `agora_server::request::parse` on any request path.
//!
//! Never panics; a malformed request is a 400 whose reason is one printable
//! line; an accepted request names a module path that passes `CheckPath`,
//! and written again the way the go command writes it (`!`-escaped, then
//! percent-escaped) it parses to the same request.
#![no_main]

use agora_core::escape;
use agora_server::request::{ProxyRequest, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    let req = match parse(raw) {
        Ok(Some(req)) => req,
        Ok(None) => return,
        Err(e) => {
            assert_eq!(e.status(), 400, "{raw:?}: {}", e.message());
            assert!(
                !e.message().chars().any(char::is_control),
                "{raw:?}: reason is not one printable line: {:?}",
                e.message()
            );
            return;
        }
    };
    let module = match &req {
        ProxyRequest::List(m) | ProxyRequest::Latest(m) | ProxyRequest::Artifact(m, _, _) => m,
    };
    agora_core::path::check_path(module.as_str())
        .unwrap_or_else(|e| panic!("{raw:?}: accepted module path fails CheckPath: {e}"));
    let m = escape::escape_path(module.as_str())
        .unwrap_or_else(|e| panic!("{raw:?}: accepted module path does not escape: {e}"));
    let again = match &req {
        ProxyRequest::List(_) => format!("/{}/@v/list", percent_escape(&m)),
        ProxyRequest::Latest(_) => format!("/{}/@latest", percent_escape(&m)),
        ProxyRequest::Artifact(_, v, a) => {
            let v = escape::escape_version(v.as_str())
                .unwrap_or_else(|e| panic!("{raw:?}: accepted version does not escape: {e}"));
            format!(
                "/{}/@v/{}.{}",
                percent_escape(&m),
                percent_escape(&v),
                a.extension()
            )
        }
    };
    match parse(&again) {
        Ok(Some(back)) => assert_eq!(back, req, "{raw:?} re-escaped as {again:?}"),
        other => panic!("{raw:?} re-escaped as {again:?} gives {other:?}"),
    }
});

/// Percent-escapes all but the characters Go's `url.PathEscape` keeps in a
/// path (`/` included, since module paths keep theirs).
fn percent_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
