//! Athens' `/catalog`, end to end: the real go command downloads modules through agora,
//! and walking `/catalog` a few entries at a time lists exactly those versions (plus what
//! another tool put in storage completely, and nothing it left half-written), in Athens'
//! JSON shape, under the path prefix. Bad page sizes and tokens are one-line 400s, and a
//! storage outage is a 503, never a 404 or an empty list.
//!
//! Run on the disk backend and on a moto S3 bucket (Athens' `s3` layout). Ground truth is
//! the go command's own `go mod download -json` output against the reference proxy.

use std::collections::BTreeSet;
use std::fs;

use agora_testkit::*;
use serde_json::Value;

/// Prefix siblings (`rsc.io/quote`, `/v2`, `/v3`), case, +incompatible, a pseudo-version,
/// and the same version string in several modules.
const SPECS: &[&str] = &[
    "rsc.io/quote@v1.5.2",
    "rsc.io/quote@v1.5.1",
    "rsc.io/quote/v2@v2.0.1",
    "rsc.io/quote/v3@v3.0.0",
    "rsc.io/QUOTE@v1.5.2",
    "rsc.io/breaker@v2.0.0+incompatible",
    "rsc.io/sampler@v1.3.0",
    "golang.org/x/text@v0.0.0-20170915032832-14c0d48ead0c",
];

const PREFIX: &str = "/go";

/// Percent-encodes everything but RFC 3986's unreserved characters, as a client must
/// encode a token (`+` in `+incompatible` would otherwise arrive as a space).
fn query_escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// One `/catalog` page: its entries and `next`, after checking the response's shape.
fn page(agora: &Agora, target: &str) -> (Vec<(String, String)>, Option<String>) {
    let resp = agora.get(target);
    assert_eq!(resp.status, 200, "{target}: {}", resp.summary());
    assert_eq!(
        resp.header("content-type"),
        Some("application/json; charset=utf-8"),
        "{target}"
    );
    let text = resp.text();
    assert!(
        text.ends_with("}\n") && text.matches('\n').count() == 1,
        "{target}: one JSON line and a newline, got {text:?}"
    );
    let v: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{target}: not JSON ({e}): {text:?}"));
    let obj = v.as_object().expect("a JSON object");
    assert!(
        obj.keys().all(|k| k == "modules" || k == "next"),
        "{target}: unexpected fields in {text}"
    );
    let entries = obj["modules"]
        .as_array()
        .unwrap_or_else(|| panic!("{target}: modules is not an array: {text}"))
        .iter()
        .map(|e| {
            let e = e.as_object().expect("an entry object");
            assert_eq!(e.len(), 2, "{target}: entry fields {e:?}");
            (
                e["module"].as_str().expect("module").to_owned(),
                e["version"].as_str().expect("version").to_owned(),
            )
        })
        .collect();
    let next = obj.get("next").map(|n| {
        let n = n.as_str().expect("next is a string").to_owned();
        assert!(!n.is_empty(), "{target}: next is present but empty");
        n
    });
    (entries, next)
}

/// Walks the whole catalog `size` entries at a time.
fn walk(agora: &Agora, size: usize) -> Vec<(String, String)> {
    let mut all = Vec::new();
    let mut token = String::new();
    for _ in 0..500 {
        let target = if token.is_empty() {
            format!("{PREFIX}/catalog?pagesize={size}")
        } else {
            format!(
                "{PREFIX}/catalog?pagesize={size}&token={}",
                query_escape(&token)
            )
        };
        let (entries, next) = page(agora, &target);
        assert!(entries.len() <= size, "{target}: {} entries", entries.len());
        all.extend(entries.iter().cloned());
        match next {
            Some(n) => {
                assert_eq!(entries.len(), size, "{target}: a short page with a next");
                token = n;
            }
            None => return all,
        }
    }
    panic!("/catalog never ended");
}

fn assert_one_line(status: u16, what: &str, resp: &HttpResponse) {
    assert_eq!(resp.status, status, "{what}: {}", resp.summary());
    assert_eq!(
        resp.header("content-type"),
        Some("text/plain; charset=utf-8"),
        "{what}"
    );
    let text = resp.text();
    assert!(
        text.ends_with('\n') && text.matches('\n').count() == 1 && text.trim().len() > 5,
        "{what}: expected a one-line reason, got {text:?}"
    );
}

#[derive(Clone, Copy, Debug)]
enum Backend {
    Disk,
    S3,
}

fn lists_exactly_what_was_downloaded(backend: Backend) {
    let t = TestDir::new(&format!("catalog-{backend:?}"));
    let mut cfg = AgoraConfig::new(t.path(), ref_proxy().goproxy_url());
    let bucket = match backend {
        Backend::Disk => None,
        Backend::S3 => {
            let moto = shared_moto();
            let bucket = moto.create_bucket("catalog");
            cfg = BucketLayout::S3.agora_config(
                t.path(),
                ref_proxy().goproxy_url(),
                moto.addr(),
                &bucket,
            );
            Some(bucket)
        }
    };
    cfg.extra_env
        .push(("ATHENS_PATH_PREFIX".to_owned(), PREFIX.to_owned()));
    let agora = Agora::start(&cfg);

    // An empty store: one empty page.
    assert_eq!(
        page(&agora, &format!("{PREFIX}/catalog")),
        (vec![], None),
        "empty store"
    );

    let specs: Vec<String> = SPECS.iter().map(|s| (*s).to_owned()).collect();
    let via = GoEnv::new(
        t.path(),
        "client",
        format!("{}{PREFIX}", agora.goproxy_url()),
    );
    let got = via.mod_download(&specs);
    for spec in &specs {
        assert!(
            got[spec].ok(),
            "{spec} through agora: {}",
            got[spec].error_line()
        );
    }
    let mut want: BTreeSet<(String, String)> = got
        .values()
        .map(|d| (d.path.clone(), d.version.clone()))
        .collect();
    assert_eq!(want.len(), specs.len());

    // Another tool's writes: a complete version (listed, as Athens lists pre-filled
    // storage) and a half-written one (not listed).
    let seeded = ("example.com/seeded".to_owned(), "v1.0.0".to_owned());
    match (&backend, &bucket) {
        (Backend::Disk, _) => {
            let root = &cfg.storage_root;
            let full = athens_version_dir(root, &seeded.0, &seeded.1);
            fs::create_dir_all(&full).expect("seed dir");
            fs::write(full.join("go.mod"), "module example.com/seeded\n").expect("seed");
            fs::write(full.join("source.zip"), "zip").expect("seed");
            fs::write(full.join("v1.0.0.info"), "{\"Version\":\"v1.0.0\"}").expect("seed");
            let half = athens_version_dir(root, "example.com/half", "v1.0.0");
            fs::create_dir_all(&half).expect("seed dir");
            fs::write(half.join("go.mod"), "module example.com/half\n").expect("seed");
        }
        (Backend::S3, Some(bucket)) => {
            shared_moto().boto3(
                "for k in sys.argv[2:]:\n    c.put_object(Bucket=sys.argv[1], Key=k, Body=b'{}')\n",
                &[
                    bucket,
                    "example.com/seeded/@v/v1.0.0.info",
                    "example.com/seeded/@v/v1.0.0.mod",
                    "example.com/seeded/@v/v1.0.0.zip",
                    "example.com/half/@v/v1.0.0.mod",
                    "example.com/half/@v/v1.0.0.zip",
                ],
            );
        }
        (Backend::S3, None) => unreachable!("an S3 run has a bucket"),
    }
    want.insert(seeded);

    // One page (the default size), then pages of 3 and of 1: the same list, each
    // version exactly once.
    let (whole, next) = page(&agora, &format!("{PREFIX}/catalog"));
    assert_eq!(next, None, "everything fits the default page");
    let listed: BTreeSet<(String, String)> = whole.iter().cloned().collect();
    assert_eq!(listed.len(), whole.len(), "duplicates in {whole:?}");
    assert_eq!(
        listed,
        want,
        "/catalog vs what the go command downloaded (extra: {:?}, missing: {:?})",
        listed.difference(&want).collect::<Vec<_>>(),
        want.difference(&listed).collect::<Vec<_>>()
    );
    assert_eq!(walk(&agora, 3), whole, "pages of 3");
    assert_eq!(walk(&agora, 1), whole, "pages of 1");

    // HEAD: the headers of GET, no body.
    let head = agora.request("HEAD", &format!("{PREFIX}/catalog?pagesize=2"));
    assert_eq!(head.status, 200, "HEAD: {}", head.summary());
    assert_eq!(
        head.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    assert!(head.body.is_empty(), "HEAD sent a body");

    // Only under the prefix.
    assert_eq!(
        agora.get("/catalog").status,
        404,
        "/catalog outside the prefix"
    );

    // Bad input: one-line 400s (Athens: 500 for a non-number, nothing for <= 0).
    for q in ["pagesize=abc", "pagesize=0", "pagesize=-5", "pagesize=1.5"] {
        let resp = agora.get(&format!("{PREFIX}/catalog?{q}"));
        assert_one_line(400, q, &resp);
    }
    for token in ["nonsense", "-bad|v1.0.0", "rsc.io/quote|"] {
        let q = format!("token={}", query_escape(token));
        let resp = agora.get(&format!("{PREFIX}/catalog?{q}"));
        assert_one_line(400, &q, &resp);
    }
    // A huge page size is capped, not refused.
    let (entries, _) = page(&agora, &format!("{PREFIX}/catalog?pagesize=99999999999"));
    assert_eq!(entries, whole);
}

#[test]
fn disk_catalog_lists_exactly_what_was_downloaded() {
    lists_exactly_what_was_downloaded(Backend::Disk);
}

#[test]
fn s3_catalog_lists_exactly_what_was_downloaded() {
    lists_exactly_what_was_downloaded(Backend::S3);
}

#[test]
fn storage_outage_is_503_not_an_empty_catalog() {
    let t = TestDir::new("catalog-outage");
    let cfg = AgoraConfig::new(t.path(), ref_proxy().goproxy_url());
    let agora = Agora::start(&cfg);
    let zip = agora.get("/rsc.io/quote/@v/v1.5.2.zip");
    assert_eq!(zip.status, 200, "{}", zip.summary());
    let root = cfg.storage_root.clone();
    let moved = t.path().join("storage.moved");
    fs::rename(&root, &moved).expect("move the storage root away");
    let resp = agora.get("/catalog");
    assert_one_line(503, "/catalog with the storage root gone", &resp);
    fs::write(&root, "not a directory\n").expect("a file where the root was");
    let resp = agora.get("/catalog");
    assert_one_line(503, "/catalog with a file as the storage root", &resp);
    fs::remove_file(&root).expect("remove the file");
    fs::rename(&moved, &root).expect("restore the storage root");
    let (entries, next) = page(&agora, "/catalog?pagesize=5");
    assert_eq!(
        (entries, next),
        (vec![("rsc.io/quote".to_owned(), "v1.5.2".to_owned())], None)
    );
}
