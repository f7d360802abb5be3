//! Tests of `load` as a whole: layering, both file formats, both environment dialects,
//! errors and `show`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::{
    ConfigError, FileFormat, LogFormat, LogLevel, NetworkMode, Settings, Source, StorageSettings,
    load,
};

const HOME: &str = "/home/op";

/// An environment with only `HOME` set, plus `pairs`.
fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let mut map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    map.entry("HOME".to_owned())
        .or_insert_with(|| HOME.to_owned());
    move |k: &str| map.get(k).cloned()
}

fn repo_file(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn err(file: Option<&Path>, env: &[(&str, &str)]) -> String {
    load(file, &env_of(env)).unwrap_err().to_string()
}

/// Every `AGORA_*` variable and the setting it sets.
fn agora_env() -> Vec<(&'static str, &'static str)> {
    crate::settings::all_specs()
        .map(|s| (s.env, s.key))
        .collect()
}

fn defaults() -> Settings {
    let data = PathBuf::from(HOME).join(".local/share/agora");
    Settings {
        server: crate::ServerSettings {
            listen: "127.0.0.1:3000".into(),
            path_prefix: String::new(),
            shutdown_timeout: Duration::from_secs(60),
            header_timeout: Duration::from_secs(30),
            cache_bytes: 16 << 20,
            unix_socket: None,
        },
        log: crate::LogSettings {
            level: LogLevel::Info,
            format: LogFormat::Plain,
        },
        storage: StorageSettings::Disk {
            root: data.join("storage"),
        },
        upstream: crate::UpstreamSettings {
            goproxy: crate::ProxyList::parse("https://proxy.golang.org,direct").unwrap(),
            goprivate: String::new(),
            gonoproxy: String::new(),
            gonosumdb: String::new(),
            goinsecure: String::new(),
            network_mode: NetworkMode::Strict,
            timeout: Duration::from_secs(300),
            stash_timeout: Duration::from_secs(600),
            netrc_path: None,
            github_token: None,
            go_binary: "go".into(),
            go_fetcher_vcs: Vec::new(),
            go_fetcher_workers: 10,
            max_fetches: 32,
        },
        single_flight: crate::SingleFlightSettings {
            lock: crate::LockSettings::Memory,
            ttl: Duration::from_secs(30),
            timeout: Duration::from_secs(600),
        },
        sumdb: crate::SumdbSettings {
            athens_urls: vec!["https://sum.golang.org".to_owned()],
            databases: Vec::new(),
            verify: true,
            private_key_file: None,
        },
        tmp_dir: data.join("tmp"),
        data_dir: data,
        cache: crate::CacheSettings {
            list_ttl: Duration::from_secs(60),
            negative_ttl: Duration::from_secs(60),
        },
        index: crate::IndexSettings::None,
        tls: crate::TlsSettings::default(),
        auth: crate::AuthSettings::default(),
        download: crate::DownloadSettings {
            mode: crate::DownloadModeSetting::Mode(agora_core::download_mode::Mode::Sync),
            url: None,
        },
        filter: crate::FilterSettings {
            file: None,
            direct_url: None,
            validator: None,
            validator_timeout: Duration::from_secs(10),
        },
    }
}

const AGORA_KEYS: &[&str] = &[
    "data_dir",
    "tmp_dir",
    "server.listen",
    "server.path_prefix",
    "server.shutdown_timeout",
    "server.header_timeout",
    "server.cache_bytes",
    "server.unix_socket",
    "log.level",
    "log.format",
    "storage.type",
    "storage.disk.root",
    "upstream.goproxy",
    "upstream.goprivate",
    "upstream.gonoproxy",
    "upstream.gonosumdb",
    "upstream.goinsecure",
    "upstream.network_mode",
    "upstream.timeout",
    "upstream.stash_timeout",
    "upstream.netrc_path",
    "upstream.github_token",
    "upstream.go_binary",
    "upstream.go_fetcher_vcs",
    "upstream.go_fetcher_workers",
    "tls.cert_file",
    "tls.key_file",
    "auth.basic_user",
    "auth.basic_password",
    "auth.file",
    "download.mode",
    "download.url",
    "filter.file",
    "filter.direct_url",
    "filter.validator",
    "filter.validator_timeout",
    "sumdb.athens_urls",
    "sumdb.databases",
    "sumdb.verify",
    "sumdb.private_key_file",
];

/// The keys of the S3, MinIO, Azure and external tables, which exist only when that storage
/// is selected.
const OBJECT_STORAGE_KEYS: [&str; 26] = [
    "storage.s3.bucket",
    "storage.s3.region",
    "storage.s3.endpoint",
    "storage.s3.access_key_id",
    "storage.s3.secret_access_key",
    "storage.s3.session_token",
    "storage.s3.force_path_style",
    "storage.minio.endpoint",
    "storage.minio.access_key_id",
    "storage.minio.secret_access_key",
    "storage.minio.bucket",
    "storage.minio.region",
    "storage.minio.use_ssl",
    "storage.azure.account_name",
    "storage.azure.account_key",
    "storage.azure.container",
    "storage.azure.connection_string",
    "storage.gcp.bucket",
    "storage.gcp.json_key",
    "storage.gcp.emulator_host",
    "storage.external.url",
    "storage.mongo.url",
    "storage.mongo.database",
    "storage.mongo.collection",
    "storage.mongo.cert_path",
    "storage.mongo.insecure",
];

// ---------------------------------------------------------------------------------------
// Defaults and the example files

#[test]
fn no_file_gives_the_defaults() {
    let loaded = load(None, &env_of(&[])).unwrap();
    assert_eq!(loaded.settings, defaults());
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    assert_eq!(loaded.file, None);
    for key in AGORA_KEYS {
        assert_eq!(loaded.source(key), Some(&Source::Default), "{key}");
    }
}

#[test]
fn agora_example_yields_exactly_the_defaults() {
    let path = repo_file("config/agora.example.toml");
    let loaded = load(Some(&path), &env_of(&[])).unwrap();
    assert_eq!(loaded.settings, defaults());
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    assert_eq!(
        loaded.file.as_ref().map(|f| f.format),
        Some(FileFormat::Agora)
    );
    // Keys set in the example are attributed to it.
    assert_eq!(
        loaded.source("upstream.timeout"),
        Some(&Source::File { path: path.clone() })
    );
}

#[test]
fn agora_example_documents_every_key_and_env_name() {
    let text = std::fs::read_to_string(repo_file("config/agora.example.toml")).unwrap();
    for key in AGORA_KEYS.iter().chain(&OBJECT_STORAGE_KEYS) {
        let leaf = key.rsplit('.').next().unwrap();
        assert!(
            text.lines().any(|l| l
                .trim_start_matches("# ")
                .starts_with(&format!("{leaf} = "))),
            "{key} missing from the example"
        );
    }
    for (name, _) in &agora_env() {
        assert!(text.contains(name), "{name} missing from the example");
    }
}

#[test]
fn athens_example_is_accepted_and_mapped() {
    let path = repo_file("config/athens.example.toml");
    let loaded = load(Some(&path), &env_of(&[])).unwrap();
    assert!(loaded.warnings.is_empty(), "{:#?}", loaded.warnings);
    assert_eq!(
        loaded.file.as_ref().map(|f| f.format),
        Some(FileFormat::Athens)
    );
    let mut want = defaults();
    want.server.listen = "0.0.0.0:3000".into();
    want.storage = StorageSettings::Disk {
        root: "/var/lib/athens".into(),
    };
    want.upstream.goprivate = "git.corp.example.com".into();
    // Athens' lock defaults: a 900 s TTL and a 15 s wait.
    want.single_flight.ttl = Duration::from_secs(900);
    want.single_flight.timeout = Duration::from_secs(15);
    // Athens' default GlobalEndpoint, written out in its sample file.
    want.filter.direct_url = Some("http://localhost:3001".into());
    assert_eq!(loaded.settings, want);
    let file = Source::File { path: path.clone() };
    assert_eq!(loaded.source("server.listen"), Some(&file));
    assert_eq!(loaded.source("upstream.goprivate"), Some(&file));
    assert_eq!(loaded.source("data_dir"), Some(&Source::Default));
}

// ---------------------------------------------------------------------------------------
// Layering

#[test]
fn env_overrides_agora_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &dir,
        "agora.toml",
        r#"
data_dir = "/srv/agora"
[server]
listen = "0.0.0.0:8080"
path_prefix = "/go"
[upstream]
timeout = 10
goprivate = "*.corp.example.com"
"#,
    );
    let loaded = load(
        Some(&path),
        &env_of(&[("AGORA_TIMEOUT", "20"), ("AGORA_LISTEN", ":9000")]),
    )
    .unwrap();
    let s = &loaded.settings;
    assert_eq!(s.server.listen, "0.0.0.0:9000");
    assert_eq!(s.upstream.timeout, Duration::from_secs(20));
    assert_eq!(s.server.path_prefix, "/go");
    assert_eq!(s.upstream.goprivate, "*.corp.example.com");
    // Derived defaults follow the effective data_dir.
    assert_eq!(s.tmp_dir, PathBuf::from("/srv/agora/tmp"));
    assert_eq!(
        s.storage,
        StorageSettings::Disk {
            root: "/srv/agora/storage".into()
        }
    );
    assert_eq!(
        loaded.source("upstream.timeout"),
        Some(&Source::Env {
            name: "AGORA_TIMEOUT".into()
        })
    );
    assert_eq!(
        loaded.source("server.path_prefix"),
        Some(&Source::File { path: path.clone() })
    );
    assert_eq!(loaded.source("tmp_dir"), Some(&Source::Default));
}

#[test]
fn athens_env_overrides_athens_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &dir,
        "config.toml",
        "Port = \":3000\"\nTimeout = 300\nStorageType = \"memory\"\nLogLevel = \"debug\"\n",
    );
    let loaded = load(
        Some(&path),
        &env_of(&[
            ("ATHENS_TIMEOUT", "30"),
            ("ATHENS_STORAGE_TYPE", "disk"),
            ("ATHENS_DISK_STORAGE_ROOT", "/data"),
            ("ATHENS_LOG_LEVEL", "warning"),
        ]),
    )
    .unwrap();
    let s = &loaded.settings;
    assert_eq!(s.upstream.timeout, Duration::from_secs(30));
    assert_eq!(
        s.storage,
        StorageSettings::Disk {
            root: "/data".into()
        }
    );
    assert_eq!(s.log.level, LogLevel::Warn);
    assert_eq!(s.server.listen, "0.0.0.0:3000");
}

#[test]
fn athens_file_gets_athens_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "config.toml", "GoEnv = \"development\"\n");
    let loaded = load(Some(&path), &env_of(&[])).unwrap();
    let s = &loaded.settings;
    assert_eq!(s.server.listen, "0.0.0.0:3000");
    assert_eq!(s.log.level, LogLevel::Debug);
    assert_eq!(s.storage, StorageSettings::Memory);
    assert_eq!(s.upstream.goproxy, "direct");
    let athens_default = Source::AthensDefault { file: path.clone() };
    assert_eq!(loaded.source("server.listen"), Some(&athens_default));
    assert_eq!(loaded.source("upstream.goproxy"), Some(&athens_default));
    assert_eq!(loaded.source("data_dir"), Some(&Source::Default));
    assert_eq!(loaded.source("storage.disk.root"), None);
}

#[test]
fn every_agora_env_name_is_wired() {
    // The S3 and MinIO keys count only with that storage selected and its required
    // settings present (given here through Athens' names, with equal values).
    let s3_base: &[(&str, &str)] = &[
        ("AGORA_STORAGE_TYPE", "s3"),
        ("ATHENS_S3_BUCKET_NAME", "b"),
        ("AWS_ACCESS_KEY_ID", "k"),
        ("AWS_SECRET_ACCESS_KEY", "s"),
    ];
    let minio_base: &[(&str, &str)] = &[
        ("AGORA_STORAGE_TYPE", "minio"),
        ("ATHENS_MINIO_ENDPOINT", "m:9000"),
        ("ATHENS_MINIO_ACCESS_KEY_ID", "k"),
        ("ATHENS_MINIO_SECRET_ACCESS_KEY", "s"),
        ("ATHENS_MINIO_BUCKET_NAME", "b"),
    ];
    let azure_base: &[(&str, &str)] = &[
        ("AGORA_STORAGE_TYPE", "azure"),
        ("ATHENS_AZURE_CONTAINER_NAME", "c"),
        ("ATHENS_AZURE_ACCOUNT_NAME", "a"),
    ];
    let gcp_base: &[(&str, &str)] = &[
        ("AGORA_STORAGE_TYPE", "gcp"),
        ("ATHENS_STORAGE_GCP_BUCKET", "b"),
    ];
    let external_base: &[(&str, &str)] = &[("AGORA_STORAGE_TYPE", "external")];
    let mongo_base: &[(&str, &str)] = &[
        ("AGORA_STORAGE_TYPE", "mongo"),
        ("ATHENS_MONGO_STORAGE_URL", "mongodb://h"),
    ];
    for (name, key) in &agora_env() {
        let base: &[(&str, &str)] = if key.starts_with("storage.s3.") {
            s3_base
        } else if key.starts_with("storage.minio.") {
            minio_base
        } else if key.starts_with("storage.azure.") {
            azure_base
        } else if key.starts_with("storage.gcp.") {
            gcp_base
        } else if key.starts_with("storage.external.") {
            external_base
        } else if key.starts_with("storage.mongo.") {
            mongo_base
        } else if key.starts_with("index.postgres.") {
            &[("AGORA_INDEX_TYPE", "postgres")]
        } else if key.starts_with("single_flight.redis.") {
            &[("AGORA_SINGLE_FLIGHT_TYPE", "redis")]
        } else if key.starts_with("single_flight.redis_sentinel.") {
            &[("AGORA_SINGLE_FLIGHT_TYPE", "redis-sentinel")]
        } else if key.starts_with("single_flight.etcd.") {
            &[("AGORA_SINGLE_FLIGHT_TYPE", "etcd")]
        } else if key.starts_with("tls.") {
            // Set as a pair; the other half comes from agora's name.
            &[("AGORA_TLS_CERT_FILE", "/c"), ("AGORA_TLS_KEY_FILE", "/k")]
        } else if key.starts_with("auth.basic_") {
            &[
                ("AGORA_BASIC_AUTH_USER", "u"),
                ("AGORA_BASIC_AUTH_PASS", "p"),
            ]
        } else {
            &[]
        };
        let value = match *key {
            "tls.cert_file" => "/c",
            "tls.key_file" => "/k",
            "auth.basic_user" => "u",
            "auth.basic_password" => "p",
            k if k.ends_with(".bucket") => "b",
            k if k.ends_with(".region") => "eu-west-1",
            "storage.s3.endpoint" => "http://127.0.0.1:9000",
            "storage.external.url" => "http://127.0.0.1:9999",
            "storage.mongo.url" => "mongodb://h",
            "storage.mongo.cert_path" => "/etc/ca.pem",
            "storage.mongo.insecure" => "true",
            "storage.minio.endpoint" => "m:9000",
            k if k.ends_with(".access_key_id") => "k",
            k if k.ends_with(".secret_access_key") => "s",
            "storage.s3.session_token" => "t",
            "storage.azure.account_name" => "a",
            "storage.azure.container" => "c",
            "storage.azure.account_key" => "a2V5",
            "storage.azure.connection_string" => "AccountName=a;AccountKey=a2V5",
            "storage.gcp.json_key" => "e30=",
            "storage.gcp.emulator_host" => "127.0.0.1:9023",
            "storage.s3.force_path_style" | "storage.minio.use_ssl" => "true",
            "data_dir" | "tmp_dir" | "storage.disk.root" => "/x",
            "server.listen" => "0.0.0.0:1",
            "server.path_prefix" => "/p",
            "server.unix_socket" => "/run/agora.sock",
            "log.level" => "debug",
            "log.format" => "json",
            "storage.type" => "disk",
            "upstream.goproxy" => "direct",
            "upstream.network_mode" => "offline",
            "upstream.go_binary" => "/usr/local/go/bin/go",
            "upstream.go_fetcher_vcs" => "hg",
            "upstream.go_fetcher_workers" => "3",
            k if k.ends_with("timeout") => "7",
            // Any other setting: a pattern if it takes one, else its default, which is
            // valid too.
            k => match crate::settings::spec(k) {
                Some(spec) if (spec.parse)("example.com/*").is_err() => spec.default,
                _ => "example.com/*",
            },
        };
        let mut pairs = base.to_vec();
        pairs.push((name, value));
        let loaded = load(None, &env_of(&pairs)).unwrap();
        assert_eq!(
            loaded.source(key),
            Some(&Source::Env {
                name: (*name).to_owned()
            }),
            "{name}"
        );
    }
}

#[test]
fn every_athens_env_name_is_wired() {
    let cases: &[(&str, &str, &str)] = &[
        ("ATHENS_PORT", "8080", "server.listen"),
        ("ATHENS_PATH_PREFIX", "/go", "server.path_prefix"),
        ("ATHENS_SHUTDOWN_TIMEOUT", "5", "server.shutdown_timeout"),
        ("ATHENS_UNIX_SOCKET", "/run/a.sock", "server.unix_socket"),
        ("ATHENS_LOG_LEVEL", "panic", "log.level"),
        ("ATHENS_LOG_FORMAT", "json", "log.format"),
        ("ATHENS_STORAGE_TYPE", "memory", "storage.type"),
        ("ATHENS_DISK_STORAGE_ROOT", "/d", "storage.disk.root"),
        ("ATHENS_NETWORK_MODE", "fallback", "upstream.network_mode"),
        ("ATHENS_TIMEOUT", "9", "upstream.timeout"),
        ("ATHENS_STASH_TIMEOUT", "99", "upstream.stash_timeout"),
        ("GO_BINARY_PATH", "/opt/go/bin/go", "upstream.go_binary"),
        ("ATHENS_GOGET_WORKERS", "4", "upstream.go_fetcher_workers"),
        (
            "ATHENS_GONOSUM_PATTERNS",
            "a.example/*,b.example",
            "upstream.gonosumdb",
        ),
        (
            "ATHENS_GO_BINARY_ENV_VARS",
            "GOINSECURE=x.example",
            "upstream.goinsecure",
        ),
    ];
    for (name, value, key) in cases {
        let loaded = load(None, &env_of(&[(name, value)])).unwrap();
        assert_eq!(
            loaded.source(key),
            Some(&Source::Env {
                name: (*name).to_owned()
            }),
            "{name}"
        );
    }
    let s = load(
        None,
        &env_of(&[
            ("ATHENS_UNIX_SOCKET", "/run/a.sock"),
            ("ATHENS_LOG_LEVEL", "fatal"),
            ("ATHENS_GONOSUM_PATTERNS", "a.example/*,b.example"),
        ]),
    )
    .unwrap()
    .settings;
    assert_eq!(s.server.unix_socket, Some(PathBuf::from("/run/a.sock")));
    assert_eq!(s.log.level, LogLevel::Error);
    assert_eq!(s.upstream.gonosumdb, "a.example/*,b.example");
}

#[test]
fn process_go_variables_are_not_read() {
    let loaded = load(
        None,
        &env_of(&[
            ("GOPROXY", "off"),
            ("GOPRIVATE", "*.corp"),
            ("GONOPROXY", "x"),
            ("GONOSUMDB", "y"),
            ("GOINSECURE", "z"),
            ("GOFLAGS", "-mod=mod"),
        ]),
    )
    .unwrap();
    assert_eq!(loaded.settings, defaults());
}

#[test]
fn data_dir_defaults() {
    // Not env_of: these cases need HOME unset or different.
    let dd = |env: &[(&str, &str)]| {
        let owned: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        load(None, &move |k: &str| owned.get(k).cloned())
            .unwrap()
            .settings
            .data_dir
    };
    assert_eq!(
        dd(&[("XDG_DATA_HOME", "/xdg"), ("HOME", "/h")]),
        PathBuf::from("/xdg/agora")
    );
    // A relative or empty XDG_DATA_HOME is ignored, as the XDG spec says.
    assert_eq!(
        dd(&[("XDG_DATA_HOME", "rel"), ("HOME", "/h")]),
        PathBuf::from("/h/.local/share/agora")
    );
    assert_eq!(
        dd(&[("XDG_DATA_HOME", ""), ("HOME", "/h")]),
        PathBuf::from("/h/.local/share/agora")
    );
    assert_eq!(dd(&[]), PathBuf::from("./agora-data"));
    assert_eq!(
        dd(&[("AGORA_DATA_DIR", "/srv"), ("HOME", "/h")]),
        PathBuf::from("/srv")
    );
}

// ---------------------------------------------------------------------------------------
// Port and listen

#[test]
fn athens_port_beats_port() {
    let listen = |env: &[(&str, &str)]| load(None, &env_of(env)).unwrap().settings.server.listen;
    assert_eq!(listen(&[("PORT", "8080")]), "0.0.0.0:8080");
    assert_eq!(
        listen(&[("PORT", "8080"), ("ATHENS_PORT", ":9090")]),
        "0.0.0.0:9090"
    );
    // Athens treats an empty ATHENS_PORT as unset.
    assert_eq!(
        listen(&[("PORT", "8080"), ("ATHENS_PORT", "")]),
        "0.0.0.0:8080"
    );
    // PORT is a platform variable: AGORA_LISTEN beats it without a conflict.
    assert_eq!(
        listen(&[("PORT", "8080"), ("AGORA_LISTEN", "127.0.0.1:1")]),
        "127.0.0.1:1"
    );
    // PORT still beats the file, as in Athens.
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "a.toml", "[server]\nlisten = \"127.0.0.1:3000\"\n");
    let loaded = load(Some(&path), &env_of(&[("PORT", "8080")])).unwrap();
    assert_eq!(loaded.settings.server.listen, "0.0.0.0:8080");
}

#[test]
fn athens_port_forms() {
    let dir = tempfile::tempdir().unwrap();
    for (port, want) in [
        (":3000", "0.0.0.0:3000"),
        ("3000", "0.0.0.0:3000"),
        ("127.0.0.1:3000", "127.0.0.1:3000"),
        ("[::]:3000", "[::]:3000"),
    ] {
        let path = write(&dir, "config.toml", &format!("Port = {port:?}\n"));
        let loaded = load(Some(&path), &env_of(&[])).unwrap();
        assert_eq!(loaded.settings.server.listen, want, "{port}");
    }
}

// ---------------------------------------------------------------------------------------
// GoBinaryEnvVars and NoSumPatterns

#[test]
fn go_binary_env_vars_env_is_split_on_semicolons() {
    let loaded = load(
        None,
        &env_of(&[(
            "ATHENS_GO_BINARY_ENV_VARS",
            "GOPROXY=https://a.example|direct; GOPRIVATE=*.corp.example.com,rsc.io/private ;\
             GODEBUG=netdns=cgo;GONOSUMDB=x.example;",
        )]),
    )
    .unwrap();
    let u = &loaded.settings.upstream;
    assert_eq!(u.goproxy, "https://a.example|direct");
    assert_eq!(u.goprivate, "*.corp.example.com,rsc.io/private");
    assert_eq!(u.gonosumdb, "x.example");
    assert_eq!(loaded.warnings.len(), 1, "{:?}", loaded.warnings);
    assert!(loaded.warnings[0].starts_with("GODEBUG in ATHENS_GO_BINARY_ENV_VARS"));
}

#[test]
fn go_binary_env_vars_env_replaces_the_file_list() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &dir,
        "config.toml",
        "GoBinaryEnvVars = [\"GOPROXY=https://file.example\", \"GOPRIVATE=file.example/*\", \
         \"GOFLAGS=-mod=mod\"]\n",
    );
    let from_file = load(Some(&path), &env_of(&[])).unwrap();
    assert_eq!(from_file.settings.upstream.goproxy, "https://file.example");
    assert_eq!(from_file.settings.upstream.goprivate, "file.example/*");
    assert_eq!(from_file.warnings.len(), 1);
    assert!(from_file.warnings[0].contains("GOFLAGS in GoBinaryEnvVars"));

    let loaded = load(
        Some(&path),
        &env_of(&[("ATHENS_GO_BINARY_ENV_VARS", "GOPROXY=https://env.example")]),
    )
    .unwrap();
    let u = &loaded.settings.upstream;
    assert_eq!(u.goproxy, "https://env.example");
    // The file's GOPRIVATE went with the file's list.
    assert_eq!(u.goprivate, "");
    assert_eq!(loaded.source("upstream.goprivate"), Some(&Source::Default));
    // ... and so did the warning about its GOFLAGS entry.
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
}

#[test]
fn explicit_list_without_goproxy_gets_the_go_default() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &dir,
        "config.toml",
        "GoBinaryEnvVars = [\"GOPRIVATE=x.example\"]\n",
    );
    let loaded = load(Some(&path), &env_of(&[])).unwrap();
    assert_eq!(
        loaded.settings.upstream.goproxy,
        "https://proxy.golang.org,direct"
    );
    // An empty ATHENS_GO_BINARY_ENV_VARS is unset, as in Athens.
    let loaded = load(Some(&path), &env_of(&[("ATHENS_GO_BINARY_ENV_VARS", "")])).unwrap();
    assert_eq!(loaded.settings.upstream.goprivate, "x.example");
}

#[test]
fn no_sum_patterns_become_gonosumdb() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &dir,
        "config.toml",
        "NoSumPatterns = [\"a.example/*\", \"b.example\"]\n",
    );
    let loaded = load(Some(&path), &env_of(&[])).unwrap();
    assert_eq!(loaded.settings.upstream.gonosumdb, "a.example/*,b.example");
    assert!(loaded.warnings.is_empty());

    // A GONOSUMDB entry wins, as Athens adds NoSumPatterns only without one.
    let path = write(
        &dir,
        "config.toml",
        "NoSumPatterns = [\"a.example/*\"]\nGoBinaryEnvVars = [\"GONOSUMDB=c.example\"]\n",
    );
    let loaded = load(Some(&path), &env_of(&[])).unwrap();
    assert_eq!(loaded.settings.upstream.gonosumdb, "c.example");
    assert_eq!(loaded.warnings.len(), 1);
    assert!(
        loaded.warnings[0].starts_with("NoSumPatterns"),
        "{}",
        loaded.warnings[0]
    );

    // ATHENS_GONOSUM_PATTERNS replaces the file's NoSumPatterns.
    let path = write(&dir, "config.toml", "NoSumPatterns = [\"a.example/*\"]\n");
    let loaded = load(
        Some(&path),
        &env_of(&[("ATHENS_GONOSUM_PATTERNS", "z.example")]),
    )
    .unwrap();
    assert_eq!(loaded.settings.upstream.gonosumdb, "z.example");
}

// ---------------------------------------------------------------------------------------
// AGORA_* versus ATHENS_*

#[test]
fn agora_and_athens_env_names_must_agree() {
    let e = err(None, &[("AGORA_TIMEOUT", "30"), ("ATHENS_TIMEOUT", "300")]);
    assert_eq!(
        e,
        "upstream.timeout is set twice with different values: AGORA_TIMEOUT (env) = 30 and \
         ATHENS_TIMEOUT (env) = 300; unset one of them"
    );
    let e = err(
        None,
        &[
            ("AGORA_GOPROXY", "direct"),
            ("ATHENS_GO_BINARY_ENV_VARS", "GOPROXY=off"),
        ],
    );
    assert!(e.contains("AGORA_GOPROXY (env)"), "{e}");
    assert!(
        e.contains("GOPROXY in ATHENS_GO_BINARY_ENV_VARS (env)"),
        "{e}"
    );

    // Equal values are fine; the agora name is recorded.
    let loaded = load(
        None,
        &env_of(&[("AGORA_LISTEN", "0.0.0.0:3000"), ("ATHENS_PORT", ":3000")]),
    )
    .unwrap();
    assert_eq!(
        loaded.source("server.listen"),
        Some(&Source::Env {
            name: "AGORA_LISTEN".into()
        })
    );
}

#[test]
fn agora_env_beats_athens_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "config.toml", "Timeout = 100\n");
    let loaded = load(Some(&path), &env_of(&[("AGORA_TIMEOUT", "5")])).unwrap();
    assert_eq!(loaded.settings.upstream.timeout, Duration::from_secs(5));
}

// ---------------------------------------------------------------------------------------
// Errors

#[test]
fn invalid_values_name_key_and_source() {
    assert_eq!(
        err(None, &[("ATHENS_TIMEOUT", "abc")]),
        "invalid value \"abc\" for ATHENS_TIMEOUT (env): expected a whole number of seconds"
    );
    let env_cases: &[(&str, &str, &str)] = &[
        ("AGORA_TIMEOUT", "0", "greater than 0"),
        ("AGORA_TIMEOUT", "", "whole number"),
        ("AGORA_SHUTDOWN_TIMEOUT", "-1", "whole number"),
        ("AGORA_LOG_LEVEL", "loud", "expected trace, debug"),
        ("ATHENS_LOG_FORMAT", "xml", "expected plain or json"),
        (
            "AGORA_NETWORK_MODE",
            "online",
            "expected strict, offline or fallback",
        ),
        (
            "AGORA_STORAGE_TYPE",
            "ftp",
            "expected disk, memory, s3, minio, azure (azureblob), gcp (gcs), external or mongo",
        ),
        ("AWS_FORCE_PATH_STYLE", "yes", "expected true or false"),
        ("AGORA_MINIO_USE_SSL", "on", "expected true or false"),
        ("AWS_ENDPOINT", "s3.example.com", "http:// or https://"),
        ("AGORA_MINIO_ENDPOINT", "http://m:9000/path", "host:port"),
        ("AGORA_LISTEN", "localhost", "expected host:port"),
        ("ATHENS_PORT", "99999", "0 to 65535"),
        ("PORT", "x", "expected host:port"),
        ("AGORA_PATH_PREFIX", "go", "starting with /"),
        ("AGORA_GOPROXY", "", "not an empty string"),
        ("AGORA_GOPROXY", ",", "no entries"),
        (
            "AGORA_GOPROXY",
            "https://a.example,file:///srv",
            "file:// proxies are not supported",
        ),
        ("AGORA_GOPRIVATE", "a/[", "unterminated"),
        ("AGORA_DISK_STORAGE_ROOT", "", "not an empty string"),
        ("AGORA_DATA_DIR", " ", "not an empty string"),
        ("ATHENS_GONOSUM_PATTERNS", "x\\", "backslash"),
    ];
    for (name, value, reason) in env_cases {
        let e = err(None, &[(name, value)]);
        assert!(
            e.starts_with(&format!("invalid value {value:?} for {name} (env): ")),
            "{name}={value:?}: {e}"
        );
        assert!(e.contains(reason), "{name}={value:?}: {e}");
    }

    let e = err(
        None,
        &[("ATHENS_GO_BINARY_ENV_VARS", "GOPROXY=direct;GOFLAGS")],
    );
    assert_eq!(
        e,
        "invalid value \"GOFLAGS\" for ATHENS_GO_BINARY_ENV_VARS (env): expected KEY=VALUE \
         entries"
    );
    let e = err(None, &[("ATHENS_GO_BINARY_ENV_VARS", "GOPROXY=file:///x")]);
    assert!(
        e.starts_with(
            "invalid value \"file:///x\" for GOPROXY in ATHENS_GO_BINARY_ENV_VARS (env): "
        ),
        "{e}"
    );
}

#[test]
fn invalid_file_values_name_key_and_file() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&str, &str, &str)] = &[
        (
            "[upstream]\ntimeout = \"300\"\n",
            "upstream.timeout",
            "whole number of seconds",
        ),
        (
            "[upstream]\ntimeout = 0\n",
            "upstream.timeout",
            "greater than 0",
        ),
        (
            "[server]\nshutdown_timeout = -1\n",
            "server.shutdown_timeout",
            "whole number",
        ),
        (
            "[server]\nlisten = 3000\n",
            "server.listen",
            "expected a string",
        ),
        ("[log]\nlevel = \"loud\"\n", "log.level", "expected trace"),
        (
            "[upstream]\ngoproxy = \"file:///srv\"\n",
            "upstream.goproxy",
            "file://",
        ),
        (
            "[storage.disk]\nroot = \"\"\n",
            "storage.disk.root",
            "empty",
        ),
        ("Timeout = \"abc\"\n", "Timeout", "whole number of seconds"),
        ("StashTimeout = 0\n", "StashTimeout", "greater than 0"),
        ("NetworkMode = \"\"\n", "NetworkMode", "expected strict"),
        ("Port = \"::1:80\"\n", "Port", "brackets"),
        ("LogLevel = \"\"\n", "LogLevel", "expected trace"),
        (
            "StorageType = \"\"\n",
            "StorageType",
            "expected disk, memory, s3, minio, azure (azureblob), gcp (gcs), external or mongo",
        ),
        (
            "GoBinaryEnvVars = [\"GOPROXY\"]\n",
            "GoBinaryEnvVars",
            "KEY=VALUE",
        ),
        (
            "GoBinaryEnvVars = \"GOPROXY=direct\"\n",
            "GoBinaryEnvVars",
            "list of strings",
        ),
        (
            "GoBinaryEnvVars = [\"GOPROXY=ftp://x\"]\n",
            "GOPROXY in GoBinaryEnvVars",
            "unsupported URL scheme",
        ),
        ("NoSumPatterns = [\"[\"]\n", "NoSumPatterns", "unterminated"),
        (
            "[Storage.Disk]\nRootPath = 5\n",
            "Storage.Disk.RootPath",
            "expected a string",
        ),
        (
            "[Storage.S3]\nForcePathStyle = \"true\"\n",
            "Storage.S3.ForcePathStyle",
            "expected true or false",
        ),
        (
            "[Storage.Minio]\nSecret = 5\n",
            "Storage.Minio.Secret",
            "expected a string",
        ),
    ];
    for (text, key, reason) in cases {
        let path = write(&dir, "c.toml", text);
        let e = err(Some(&path), &[]);
        let wanted = format!(" for {key} (file {}): ", path.display());
        assert!(e.contains(&wanted), "{text:?}: {e}");
        assert!(e.contains(reason), "{text:?}: {e}");
    }
}

#[test]
fn unknown_agora_keys_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    for (text, key) in [
        ("[server]\nlisen = \"127.0.0.1:1\"\n", "lisen"),
        ("colour = true\n", "colour"),
        ("[storage.s3]\nbuckt = \"b\"\n", "buckt"),
        ("[storage.cassandra]\nhosts = \"h\"\n", "cassandra"),
        ("[metrics]\nenabled = true\n", "metrics"),
    ] {
        let path = write(&dir, "a.toml", text);
        let e = load(Some(&path), &env_of(&[])).unwrap_err();
        assert!(matches!(e, ConfigError::Parse { .. }), "{e:?}");
        let e = e.to_string();
        assert!(e.contains(&format!("unknown field `{key}`")), "{e}");
        assert!(e.contains(&path.display().to_string()), "{e}");
    }
}

#[test]
fn mixed_formats_and_unreadable_files_fail() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "m.toml", "Port = \":1\"\n[server]\nlisten = \":1\"\n");
    let e = err(Some(&path), &[]);
    assert!(
        e.contains("mixes agora keys (such as `server`) and Athens keys (such as `Port`)"),
        "{e}"
    );
    let missing = dir.path().join("missing.toml");
    let e = err(Some(&missing), &[]);
    assert!(
        e.starts_with(&format!("cannot read config file {}", missing.display())),
        "{e}"
    );
    let path = write(&dir, "bad.toml", "[server\n");
    let e = err(Some(&path), &[]);
    assert!(
        e.starts_with(&format!("cannot parse config file {}", path.display())),
        "{e}"
    );
}

#[test]
fn empty_env_values_are_values() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &dir,
        "a.toml",
        "[server]\npath_prefix = \"/go\"\n[upstream]\ngoprivate = \"x\"\n",
    );
    let loaded = load(
        Some(&path),
        &env_of(&[("ATHENS_PATH_PREFIX", ""), ("AGORA_GOPRIVATE", "")]),
    )
    .unwrap();
    assert_eq!(loaded.settings.server.path_prefix, "");
    assert_eq!(loaded.settings.upstream.goprivate, "");
}

// ---------------------------------------------------------------------------------------
// Athens keys agora does not implement

const MIGRATED_ATHENS: &str = r#"
GoEnv = "production"
GoGetWorkers = 5
ProtocolWorkers = 30
TraceExporterURL = "http://localhost:14268"
SingleFlightType = "redis"
EnablePprof = false
SumDBs = ["https://sum.golang.org", "https://sum.example.com"]
BuffaloLogLevel = "debug"
StorageType = "disk"
[Storage.Disk]
RootPath = "/var/lib/athens"
[Storage.CDN]
Endpoint = "cdn.example.com"
[SingleFlight.Redis]
Endpoint = "redis:6379"
Password = "another-secret"
[Olympus]
URL = "http://olympus"
"#;

#[test]
fn athens_keys_agora_ignores_are_accepted_with_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "config.toml", MIGRATED_ATHENS);
    let loaded = load(Some(&path), &env_of(&[])).unwrap();
    assert_eq!(
        loaded.settings.storage,
        StorageSettings::Disk {
            root: "/var/lib/athens".into()
        }
    );
    let w = loaded.warnings.join("\n");
    let prefix = format!("Athens setting GoEnv (GoEnv in file {})", path.display());
    assert!(w.contains(&prefix), "GoEnv not reported:\n{w}");
    for unknown in ["BuffaloLogLevel", "Olympus"] {
        assert!(
            w.contains(&format!("unknown key {unknown} in Athens config file")),
            "{w}"
        );
    }
    // At their defaults (or the old default), or backend sub-settings: no warning.
    for quiet in [
        "ProtocolWorkers",
        "TraceExporterURL",
        "EnablePprof",
        "Storage.CDN",
        "SingleFlight.Redis",
    ] {
        assert!(!w.contains(quiet), "{quiet} reported:\n{w}");
    }
    // GoEnv and the two unknown keys; SumDBs and SingleFlightType are implemented now.
    assert_eq!(loaded.warnings.len(), 3, "{w}");
    // SingleFlightType and its redis table are implemented now.
    assert!(
        matches!(&loaded.settings.single_flight.lock,
            crate::LockSettings::Redis(r) if r.endpoint == "redis:6379"),
        "{:?}",
        loaded.settings.single_flight
    );
    // GoGetWorkers is agora's go fetcher's worker count.
    assert_eq!(loaded.settings.upstream.go_fetcher_workers, 5);
    // Values, secrets included, are never echoed.
    assert!(!w.contains("another-secret"));
    assert!(!loaded.show().contains("another-secret"));
}

#[test]
fn athens_keys_match_case_insensitively() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &dir,
        "config.toml",
        "StorageType = \"disk\"\nTIMEOUT = 7\n[storage.disk]\nrootpath = \"/r\"\n",
    );
    let loaded = load(Some(&path), &env_of(&[])).unwrap();
    assert_eq!(
        loaded.settings.storage,
        StorageSettings::Disk { root: "/r".into() }
    );
    assert_eq!(loaded.settings.upstream.timeout, Duration::from_secs(7));
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
}

#[test]
fn athens_env_names_agora_ignores_are_reported() {
    let loaded = load(
        None,
        &env_of(&[
            ("ATHENS_GOGET_DIR", "/var/tmp/goget"),
            ("ATHENS_PROTOCOL_WORKERS", "30"),
            ("PROXY_FORCE_SSL", "false"),
            ("ATHENS_SUM_DBS", "https://sum.golang.org"),
            ("ATHENS_ENABLE_PPROF", "1"),
        ]),
    )
    .unwrap();
    let w = loaded.warnings.join("\n");
    assert!(
        w.contains("Athens setting GoGetDir (env ATHENS_GOGET_DIR)"),
        "{w}"
    );
    assert!(
        w.contains("Athens setting EnablePprof (env ATHENS_ENABLE_PPROF)"),
        "{w}"
    );
    assert_eq!(loaded.warnings.len(), 2, "{w}");
}

/// Athens' basic-auth and TLS keys and names set agora's; half a pair stops startup
/// (Athens would then serve without auth or without TLS), and the password never shows.
#[test]
fn athens_basic_auth_and_tls_map_and_come_in_pairs() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &dir,
        "config.toml",
        "StorageType = \"memory\"\nBasicAuthUser = \"admin\"\nBasicAuthPass = \"s3cret-value\"\n\
         TLSCertFile = \"/etc/tls/cert.pem\"\nTLSKeyFile = \"/etc/tls/key.pem\"\n",
    );
    let loaded = load(Some(&path), &env_of(&[])).unwrap();
    let auth = &loaded.settings.auth;
    assert_eq!(auth.basic_user.as_deref(), Some("admin"));
    assert_eq!(
        auth.basic_password.as_ref().map(crate::Secret::expose),
        Some("s3cret-value")
    );
    assert_eq!(
        loaded.settings.tls.cert_file.as_deref(),
        Some(std::path::Path::new("/etc/tls/cert.pem"))
    );
    let shown = loaded.show();
    assert!(
        shown.contains("auth.basic_password = \"<redacted>\""),
        "{shown}"
    );
    assert!(!shown.contains("s3cret"), "{shown}");

    let env = env_of(&[
        ("BASIC_AUTH_USER", "u"),
        ("BASIC_AUTH_PASS", "p"),
        ("ATHENS_TLSCERT_FILE", "/c"),
        ("ATHENS_TLSKEY_FILE", "/k"),
        ("AGORA_AUTH_FILE", "/etc/agora/users.toml"),
    ]);
    let s = load(None, &env).unwrap().settings;
    assert_eq!(s.auth.basic_user.as_deref(), Some("u"));
    assert_eq!(s.tls.key_file.as_deref(), Some(std::path::Path::new("/k")));
    assert_eq!(
        s.auth.file.as_deref(),
        Some(std::path::Path::new("/etc/agora/users.toml"))
    );

    for (set, missing) in [
        ("BASIC_AUTH_USER", "auth.basic_password"),
        ("BASIC_AUTH_PASS", "auth.basic_user"),
        ("ATHENS_TLSCERT_FILE", "tls.key_file"),
        ("AGORA_TLS_KEY_FILE", "tls.cert_file"),
    ] {
        let err = load(None, &env_of(&[(set, "s3cret")]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(set) && err.contains(&format!("but {missing} is not")),
            "{err}"
        );
        assert!(!err.contains("s3cret") || !set.contains("PASS"), "{err}");
    }
}

#[test]
fn memory_storage_with_an_agora_root_warns() {
    let loaded = load(
        None,
        &env_of(&[
            ("AGORA_STORAGE_TYPE", "memory"),
            ("AGORA_DISK_STORAGE_ROOT", "/x"),
        ]),
    )
    .unwrap();
    assert_eq!(loaded.settings.storage, StorageSettings::Memory);
    assert_eq!(loaded.warnings.len(), 1);
    assert!(loaded.warnings[0].starts_with("AGORA_DISK_STORAGE_ROOT (env) is ignored"));
    assert_eq!(loaded.source("storage.disk.root"), None);
}

// ---------------------------------------------------------------------------------------
// show

#[test]
fn show_lists_every_key_with_its_source() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &dir,
        "config.toml",
        "Port = \":3000\"\nStorageType = \"disk\"\nGoGetDir = \"/var/tmp/goget\"\n[Storage.Disk]\nRootPath = \"/var/lib/athens\"\n",
    );
    let loaded = load(
        Some(&path),
        &env_of(&[
            ("AGORA_TIMEOUT", "30"),
            ("ATHENS_GO_BINARY_ENV_VARS", "GOPRIVATE=a.example"),
        ]),
    )
    .unwrap();
    let out = loaded.show();
    let line = |key: &str| {
        out.lines()
            .find(|l| l.starts_with(&format!("{key} = ")))
            .unwrap_or_else(|| panic!("{key} missing:\n{out}"))
            .to_owned()
    };
    let file = format!("# file {}", path.display());
    assert!(line("server.listen").contains("\"0.0.0.0:3000\""), "{out}");
    assert!(
        line("server.listen").ends_with(&format!("{file} (Port)")),
        "{out}"
    );
    assert!(line("storage.disk.root").ends_with(&format!("{file} (Storage.Disk.RootPath)")));
    assert!(line("upstream.timeout").contains("= 30 "), "{out}");
    assert!(
        line("upstream.timeout").ends_with("# env AGORA_TIMEOUT"),
        "{out}"
    );
    assert!(
        line("upstream.goprivate")
            .ends_with("# env ATHENS_GO_BINARY_ENV_VARS (GOPRIVATE in ATHENS_GO_BINARY_ENV_VARS)")
    );
    assert!(line("data_dir").ends_with("# default"), "{out}");
    assert!(line("log.level").ends_with(&format!(
        "# default (Athens, file {}) (LogLevel)",
        path.display()
    )));
    for key in AGORA_KEYS {
        line(key);
    }
    assert!(out.starts_with(&format!(
        "# effective agora configuration\n# config file: {} (Athens format)\n",
        path.display()
    )));
    assert!(out.contains("# warning: Athens setting GoGetDir"), "{out}");

    // The assignments are valid agora TOML that loads to the same settings.
    let again = write(&dir, "again.toml", &out);
    let reloaded = load(Some(&again), &env_of(&[])).unwrap();
    assert_eq!(reloaded.settings, loaded.settings);
}

#[test]
fn show_renders_secrets_redacted() {
    use crate::show::Render;
    assert_eq!(crate::Secret::new("pw").render(), "\"<redacted>\"");
}

// ---------------------------------------------------------------------------------------
// Documentation

#[test]
fn docs_cover_every_key_and_env_name() {
    let docs = std::fs::read_to_string(repo_file("docs/configuration.md")).unwrap();
    for key in AGORA_KEYS.iter().chain(&OBJECT_STORAGE_KEYS) {
        assert!(
            docs.contains(&format!("`{key}`")),
            "{key} missing from the docs"
        );
    }
    for (name, _) in &agora_env() {
        assert!(docs.contains(name), "{name} missing from the docs");
    }
    for (path, env) in crate::athens::documented_keys() {
        assert!(docs.contains(&format!("`{path}`")), "{path} missing");
        for name in env {
            assert!(docs.contains(name), "{name} missing from the docs");
        }
    }
}

/// The settings table of docs/configuration.md has one row per declared setting, and the
/// row says what the declaration says: the Athens key, every environment name, and the
/// default (or that the setting is required).
#[test]
fn docs_rows_match_the_declarations() {
    let docs = std::fs::read_to_string(repo_file("docs/configuration.md")).unwrap();
    for spec in crate::settings::all_specs() {
        assert!(
            !spec.doc.trim().is_empty(),
            "{} is declared without a doc comment",
            spec.key
        );
        let start = format!("| `{}` | ", spec.key);
        let row = docs
            .lines()
            .find(|l| l.starts_with(&start))
            .unwrap_or_else(|| panic!("docs/configuration.md has no row for {}", spec.key));
        let cells: Vec<&str> = row.split(" | ").collect();
        assert!(cells.len() >= 5, "{row}");
        let (athens, env, default) = (cells[1], cells[2], cells[3]);
        if !spec.athens.is_empty() {
            assert!(
                athens.contains(&format!("`{}`", spec.athens)),
                "{}: the Athens key {} is not in {row}",
                spec.key,
                spec.athens
            );
        }
        for name in std::iter::once(&spec.env).chain(spec.athens_env) {
            assert!(
                env.contains(&format!("`{name}`")),
                "{}: {name} is not in {row}",
                spec.key
            );
        }
        if spec.default_from.is_some() {
            continue;
        }
        // As written in the environment, or as `config show` prints it (`[]`, `""`).
        let rendered = (spec.parse)(spec.default).unwrap().render();
        let documented = default.contains(&format!("`{rendered}`"))
            || if spec.default.is_empty() {
                // Optional settings may still be required in some combination
                // (`storage.azure.account_name` without a connection string).
                default.contains("required") || (!spec.required && default.contains("none"))
            } else {
                default.contains(&format!("`{}`", spec.default))
            };
        assert!(
            documented,
            "{}: the default {:?} is not in {row}",
            spec.key, spec.default
        );
    }
}

// ---------------------------------------------------------------------------------------
// Credentials

#[test]
fn netrc_path_and_github_token_from_every_spelling() {
    for name in ["AGORA_NETRC_PATH", "ATHENS_NETRC_PATH"] {
        let loaded = load(None, &env_of(&[(name, "/etc/agora/netrc")])).unwrap();
        assert_eq!(
            loaded.settings.upstream.netrc_path,
            Some(PathBuf::from("/etc/agora/netrc"))
        );
        assert_eq!(
            loaded.source("upstream.netrc_path"),
            Some(&Source::env(name))
        );
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    }
    for name in ["AGORA_GITHUB_TOKEN", "ATHENS_GITHUB_TOKEN"] {
        let loaded = load(None, &env_of(&[(name, "ghp_tok3n\n")])).unwrap();
        let token = loaded.settings.upstream.github_token.clone().unwrap();
        assert_eq!(token.expose(), "ghp_tok3n");
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    }
    let dir = tempfile::tempdir().unwrap();
    let athens = write(
        &dir,
        "config.toml",
        "StorageType = \"memory\"\nGithubToken = \"ghp_fromfile\"\n",
    );
    let loaded = load(Some(&athens), &env_of(&[])).unwrap();
    assert_eq!(
        loaded
            .settings
            .upstream
            .github_token
            .as_ref()
            .map(|t| t.expose()),
        Some("ghp_fromfile")
    );
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let athens = write(
        &dir,
        "config.toml",
        "StorageType = \"memory\"\nnetrcpath = \"/n\"\n",
    );
    let loaded = load(Some(&athens), &env_of(&[])).unwrap();
    assert_eq!(
        loaded.settings.upstream.netrc_path,
        Some(PathBuf::from("/n"))
    );
    let agora = write(
        &dir,
        "agora.toml",
        "[upstream]\nnetrc_path = \"/m\"\ngithub_token = \"\"\n",
    );
    let loaded = load(Some(&agora), &env_of(&[])).unwrap();
    assert_eq!(
        loaded.settings.upstream.netrc_path,
        Some(PathBuf::from("/m"))
    );
    assert_eq!(loaded.settings.upstream.github_token, None);
}

#[test]
fn empty_credentials_mean_none() {
    let dir = tempfile::tempdir().unwrap();
    let agora = write(&dir, "agora.toml", "[upstream]\nnetrc_path = \"/m\"\n");
    // An empty value overrides the file's, and means "no netrc".
    let loaded = load(
        Some(&agora),
        &env_of(&[("AGORA_NETRC_PATH", ""), ("ATHENS_GITHUB_TOKEN", "")]),
    )
    .unwrap();
    assert_eq!(loaded.settings.upstream.netrc_path, None);
    assert_eq!(loaded.settings.upstream.github_token, None);
    // Athens' defaults (empty strings) in an Athens file are not "set".
    let athens = write(
        &dir,
        "config.toml",
        "StorageType = \"memory\"\nNETRCPath = \"\"\nGithubToken = \"\"\n",
    );
    let loaded = load(Some(&athens), &env_of(&[("ATHENS_NETRC_PATH", "/n")])).unwrap();
    assert_eq!(
        loaded.settings.upstream.netrc_path,
        Some(PathBuf::from("/n"))
    );
}

/// Athens refuses NETRCPath together with GithubToken at startup; so does agora, naming
/// both settings and where they were set, without the token.
#[test]
fn netrc_path_and_github_token_together_stop_startup() {
    let e = err(
        None,
        &[
            ("AGORA_NETRC_PATH", "/n"),
            ("ATHENS_GITHUB_TOKEN", "ghp_s3cret"),
        ],
    );
    assert!(
        e.contains("AGORA_NETRC_PATH (env) = \"/n\"")
            && e.contains("ATHENS_GITHUB_TOKEN (env) = \"<redacted>\"")
            && e.contains("cannot both be set"),
        "{e}"
    );
    assert!(!e.contains("s3cret"), "{e}");

    let dir = tempfile::tempdir().unwrap();
    let athens = write(
        &dir,
        "config.toml",
        "StorageType = \"memory\"\nNETRCPath = \"/n\"\nGithubToken = \"ghp_s3cret\"\n",
    );
    let e = err(Some(&athens), &[]);
    assert!(
        e.contains("NETRCPath (file ") && e.contains("GithubToken (file "),
        "{e}"
    );
    assert!(!e.contains("s3cret"), "{e}");

    // One from the file, one from the environment.
    let agora = write(
        &dir,
        "agora.toml",
        "[upstream]\ngithub_token = \"ghp_s3cret\"\n",
    );
    let e = err(Some(&agora), &[("ATHENS_NETRC_PATH", "/n")]);
    assert!(
        e.contains("ATHENS_NETRC_PATH (env)") && e.contains("upstream.github_token (file "),
        "{e}"
    );
    assert!(!e.contains("s3cret"), "{e}");

    // An empty one does not count.
    load(
        None,
        &env_of(&[("AGORA_NETRC_PATH", "/n"), ("AGORA_GITHUB_TOKEN", "")]),
    )
    .unwrap();
}

#[test]
fn github_token_is_never_echoed() {
    // Conflicting agora and Athens names.
    let e = err(
        None,
        &[
            ("AGORA_GITHUB_TOKEN", "ghp_one1"),
            ("ATHENS_GITHUB_TOKEN", "ghp_two2"),
        ],
    );
    assert!(e.contains("upstream.github_token is set twice"), "{e}");
    assert!(!e.contains("ghp_one1") && !e.contains("ghp_two2"), "{e}");
    // A value of the wrong type.
    let dir = tempfile::tempdir().unwrap();
    let agora = write(&dir, "agora.toml", "[upstream]\ngithub_token = 123456789\n");
    let e = err(Some(&agora), &[]);
    assert!(
        e.contains("upstream.github_token") && !e.contains("123456789"),
        "{e}"
    );
    // config show and Debug.
    let loaded = load(None, &env_of(&[("AGORA_GITHUB_TOKEN", "ghp_s3cret")])).unwrap();
    let out = loaded.show();
    assert!(
        out.lines()
            .any(|l| l.starts_with("upstream.github_token = \"<redacted>\"")
                && l.ends_with("# env AGORA_GITHUB_TOKEN")),
        "{out}"
    );
    assert!(!out.contains("ghp_s3cret"), "{out}");
    assert!(!format!("{:?}", loaded.settings).contains("ghp_s3cret"));
}

// ---------------------------------------------------------------------------------------
// S3 and MinIO storage

fn athens_s3_env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("ATHENS_STORAGE_TYPE", "s3"),
        ("ATHENS_S3_BUCKET_NAME", "athens-modules"),
        ("AWS_REGION", "eu-west-1"),
        ("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE"),
        ("AWS_SECRET_ACCESS_KEY", "aws-secret-value"),
        ("AWS_SESSION_TOKEN", "aws-token-value"),
        ("AWS_ENDPOINT", "http://127.0.0.1:9000/"),
        ("AWS_FORCE_PATH_STYLE", "true"),
    ]
}

#[test]
fn s3_from_athens_env_names() {
    let loaded = load(None, &env_of(&athens_s3_env())).unwrap();
    assert_eq!(
        loaded.settings.storage,
        StorageSettings::S3(crate::S3Settings {
            bucket: "athens-modules".into(),
            region: "eu-west-1".into(),
            endpoint: Some("http://127.0.0.1:9000".into()),
            access_key_id: Some("AKIAEXAMPLE".into()),
            secret_access_key: Some(crate::Secret::new("aws-secret-value")),
            session_token: Some(crate::Secret::new("aws-token-value")),
            force_path_style: true,
        })
    );
    for (key, name) in [
        ("storage.type", "ATHENS_STORAGE_TYPE"),
        ("storage.s3.bucket", "ATHENS_S3_BUCKET_NAME"),
        ("storage.s3.region", "AWS_REGION"),
        ("storage.s3.endpoint", "AWS_ENDPOINT"),
        ("storage.s3.access_key_id", "AWS_ACCESS_KEY_ID"),
        ("storage.s3.secret_access_key", "AWS_SECRET_ACCESS_KEY"),
        ("storage.s3.session_token", "AWS_SESSION_TOKEN"),
        ("storage.s3.force_path_style", "AWS_FORCE_PATH_STYLE"),
    ] {
        assert_eq!(
            loaded.source(key),
            Some(&Source::Env { name: name.into() }),
            "{key}"
        );
    }
    assert_eq!(loaded.source("storage.disk.root"), None);
    assert_eq!(loaded.source("storage.minio.bucket"), None);
    // Secrets never reach config show, Debug, or error messages.
    let shown = loaded.show();
    assert!(!shown.contains("aws-secret-value"), "{shown}");
    assert!(!shown.contains("aws-token-value"), "{shown}");
    assert!(
        shown.contains("storage.s3.secret_access_key = \"<redacted>\""),
        "{shown}"
    );
    assert!(!format!("{:?}", loaded.settings).contains("aws-secret-value"));
    let mut env = athens_s3_env();
    env.push(("AGORA_S3_SECRET_ACCESS_KEY", "other-secret"));
    let e = err(None, &env);
    assert!(
        e.starts_with("storage.s3.secret_access_key is set twice"),
        "{e}"
    );
    assert!(
        !e.contains("aws-secret-value") && !e.contains("other-secret"),
        "{e}"
    );
}

#[test]
fn s3_from_athens_file_with_env_override() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &dir,
        "config.toml",
        "StorageType = \"s3\"\n[Storage.S3]\nRegion = \"us-west-2\"\nKey = \"\"\nSecret = \"\"\n\
         Token = \"\"\nBucket = \"from-file\"\nForcePathStyle = false\n\
         UseDefaultConfiguration = false\nCredentialsEndpoint = \"\"\nEndpoint = \"\"\n",
    );
    let loaded = load(Some(&path), &env_of(&[])).unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    assert_eq!(
        loaded.settings.storage,
        StorageSettings::S3(crate::S3Settings {
            bucket: "from-file".into(),
            region: "us-west-2".into(),
            endpoint: None,
            access_key_id: None,
            secret_access_key: None,
            session_token: None,
            force_path_style: false,
        })
    );
    // Athens' environment names beat its file, as in Athens.
    let loaded = load(
        Some(&path),
        &env_of(&[
            ("ATHENS_S3_BUCKET_NAME", "from-env"),
            ("AWS_FORCE_PATH_STYLE", "1"),
        ]),
    )
    .unwrap();
    let StorageSettings::S3(s3) = &loaded.settings.storage else {
        panic!("{:?}", loaded.settings.storage)
    };
    assert_eq!(s3.bucket, "from-env");
    assert!(s3.force_path_style);
    assert_eq!(
        loaded.source("storage.s3.region"),
        Some(&Source::File { path: path.clone() })
    );
    // Credential settings agora does not implement are reported, not silently dropped.
    let path = write(
        &dir,
        "c2.toml",
        "StorageType = \"s3\"\n[Storage.S3]\nBucket = \"b\"\nUseDefaultConfiguration = true\n",
    );
    let loaded = load(Some(&path), &env_of(&[])).unwrap();
    assert!(
        loaded
            .warnings
            .iter()
            .any(|w| w.contains("Storage.S3.UseDefaultConfiguration")),
        "{:?}",
        loaded.warnings
    );
}

#[test]
fn s3_from_agora_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &dir,
        "agora.toml",
        "[storage]\ntype = \"s3\"\n[storage.s3]\nbucket = \"mods\"\n\
         endpoint = \"https://s3.internal.example\"\naccess_key_id = \"k\"\n\
         secret_access_key = \"file-secret\"\n",
    );
    let loaded = load(Some(&path), &env_of(&[])).unwrap();
    assert_eq!(
        loaded.settings.storage,
        StorageSettings::S3(crate::S3Settings {
            bucket: "mods".into(),
            region: "us-east-1".into(),
            endpoint: Some("https://s3.internal.example".into()),
            access_key_id: Some("k".into()),
            secret_access_key: Some(crate::Secret::new("file-secret")),
            session_token: None,
            force_path_style: false,
        })
    );
    assert_eq!(loaded.source("storage.s3.region"), Some(&Source::Default));
    assert!(!loaded.show().contains("file-secret"));
    // An empty environment variable unsets the file's value.
    let loaded = load(Some(&path), &env_of(&[("AGORA_S3_ENDPOINT", "")])).unwrap();
    let StorageSettings::S3(s3) = &loaded.settings.storage else {
        panic!()
    };
    assert_eq!(s3.endpoint, None);
    // A wrongly typed secret is not echoed.
    let path = write(
        &dir,
        "bad.toml",
        "[storage.s3]\nsecret_access_key = 12345678\n",
    );
    let e = err(Some(&path), &[]);
    assert!(
        e.contains("storage.s3.secret_access_key") && !e.contains("12345678"),
        "{e}"
    );
}

#[test]
fn s3_requires_a_bucket_and_whole_credentials() {
    let e = err(None, &[("AGORA_STORAGE_TYPE", "s3")]);
    assert!(
        e.starts_with(
            "storage.s3.bucket must be set when the storage type is s3 (storage type set in \
             env); it is set by"
        ),
        "{e}"
    );
    assert!(e.contains("ATHENS_S3_BUCKET_NAME"), "{e}");
    let e = err(
        None,
        &[
            ("ATHENS_STORAGE_TYPE", "s3"),
            ("ATHENS_S3_BUCKET_NAME", "b"),
            ("AWS_ACCESS_KEY_ID", "k"),
        ],
    );
    assert!(
        e.starts_with("storage.s3.secret_access_key must be set"),
        "{e}"
    );
    // Without static keys the metadata service is used: valid.
    let loaded = load(
        None,
        &env_of(&[
            ("ATHENS_STORAGE_TYPE", "s3"),
            ("ATHENS_S3_BUCKET_NAME", "b"),
        ]),
    )
    .unwrap();
    assert!(matches!(loaded.settings.storage, StorageSettings::S3(_)));
    // AWS_* variables set for other tools do not matter when the storage is not s3.
    let loaded = load(None, &env_of(&[("AWS_ACCESS_KEY_ID", "k")])).unwrap();
    assert!(matches!(
        loaded.settings.storage,
        StorageSettings::Disk { .. }
    ));
}

#[test]
fn minio_from_athens_file_and_env() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &dir,
        "config.toml",
        "StorageType = \"minio\"\n[Storage.Minio]\nEndpoint = \"http://minio.local:9001\"\n\
         Key = \"minio\"\nSecret = \"minio-secret\"\nBucket = \"gomods\"\nRegion = \"\"\n\
         EnableSSL = false\n",
    );
    let loaded = load(Some(&path), &env_of(&[])).unwrap();
    let want = crate::MinioSettings {
        endpoint: "minio.local:9001".into(),
        access_key_id: "minio".into(),
        secret_access_key: crate::Secret::new("minio-secret"),
        bucket: "gomods".into(),
        region: "us-east-1".into(),
        use_ssl: false,
    };
    assert_eq!(
        loaded.settings.storage,
        StorageSettings::Minio(want.clone())
    );
    assert_eq!(want.url(), "http://minio.local:9001");
    assert!(!loaded.show().contains("minio-secret"));
    let loaded = load(
        Some(&path),
        &env_of(&[
            ("ATHENS_MINIO_USE_SSL", "true"),
            ("ATHENS_MINIO_BUCKET_NAME", "other"),
            ("ATHENS_MINIO_REGION", "eu-central-1"),
        ]),
    )
    .unwrap();
    let StorageSettings::Minio(mn) = &loaded.settings.storage else {
        panic!()
    };
    assert_eq!(mn.url(), "https://minio.local:9001");
    assert_eq!(mn.bucket, "other");
    assert_eq!(mn.region, "eu-central-1");
    assert_eq!(
        loaded.source("storage.minio.use_ssl"),
        Some(&Source::Env {
            name: "ATHENS_MINIO_USE_SSL".into()
        })
    );
    // Every Athens MinIO variable alone (with the type) is wired.
    let env = [
        ("ATHENS_STORAGE_TYPE", "minio"),
        ("ATHENS_MINIO_ENDPOINT", "m:9000"),
        ("ATHENS_MINIO_ACCESS_KEY_ID", "k"),
        ("ATHENS_MINIO_SECRET_ACCESS_KEY", "s"),
        ("ATHENS_MINIO_BUCKET_NAME", "b"),
    ];
    let loaded = load(None, &env_of(&env)).unwrap();
    assert_eq!(
        loaded.settings.storage,
        StorageSettings::Minio(crate::MinioSettings {
            endpoint: "m:9000".into(),
            access_key_id: "k".into(),
            secret_access_key: crate::Secret::new("s"),
            bucket: "b".into(),
            region: "us-east-1".into(),
            use_ssl: false,
        })
    );
    for missing in 1..env.len() {
        let partial: Vec<_> = env
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != missing)
            .map(|(_, p)| *p)
            .collect();
        let e = err(None, &partial);
        assert!(
            e.contains("must be set when the storage type is minio"),
            "{e}"
        );
        assert!(e.contains(env[missing].0), "{e}");
    }
}

// ---------------------------------------------------------------------------------------
// Azure Blob

#[test]
fn azure_from_athens_env_names() {
    let conn = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;\
                AccountKey=conn-secret-key;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;";
    let loaded = load(
        None,
        &env_of(&[
            ("ATHENS_STORAGE_TYPE", "azureblob"),
            ("ATHENS_AZURE_ACCOUNT_NAME", "acct"),
            ("ATHENS_AZURE_ACCOUNT_KEY", "azure-secret-key"),
            ("ATHENS_AZURE_CONTAINER_NAME", "athens"),
            ("AZURE_STORAGE_CONNECTION_STRING", conn),
        ]),
    )
    .unwrap();
    assert_eq!(
        loaded.settings.storage,
        StorageSettings::Azure(crate::AzureSettings {
            account_name: Some("acct".into()),
            account_key: Some(crate::Secret::new("azure-secret-key")),
            container: "athens".into(),
            connection_string: Some(crate::Secret::new(conn)),
        })
    );
    for (key, name) in [
        ("storage.type", "ATHENS_STORAGE_TYPE"),
        ("storage.azure.account_name", "ATHENS_AZURE_ACCOUNT_NAME"),
        ("storage.azure.account_key", "ATHENS_AZURE_ACCOUNT_KEY"),
        ("storage.azure.container", "ATHENS_AZURE_CONTAINER_NAME"),
        (
            "storage.azure.connection_string",
            "AZURE_STORAGE_CONNECTION_STRING",
        ),
    ] {
        assert_eq!(
            loaded.source(key),
            Some(&Source::Env { name: name.into() }),
            "{key}"
        );
    }
    assert_eq!(loaded.source("storage.s3.bucket"), None);
    let shown = loaded.show();
    assert!(shown.contains("storage.type = \"azure\""), "{shown}");
    for secret in ["azure-secret-key", "conn-secret-key"] {
        assert!(!shown.contains(secret), "{shown}");
        assert!(!format!("{:?}", loaded.settings).contains(secret));
    }
    assert!(
        shown.contains("storage.azure.account_key = \"<redacted>\""),
        "{shown}"
    );
}

#[test]
fn azure_from_athens_file_and_agora_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &dir,
        "config.toml",
        "StorageType = \"azureblob\"\n[Storage.AzureBlob]\nAccountName = \"acct\"\n\
         AccountKey = \"file-secret\"\nContainerName = \"mods\"\n",
    );
    let loaded = load(Some(&path), &env_of(&[])).unwrap();
    assert_eq!(
        loaded.settings.storage,
        StorageSettings::Azure(crate::AzureSettings {
            account_name: Some("acct".into()),
            account_key: Some(crate::Secret::new("file-secret")),
            container: "mods".into(),
            connection_string: None,
        })
    );
    let path = write(
        &dir,
        "agora.toml",
        "[storage]\ntype = \"azure\"\n[storage.azure]\ncontainer = \"c\"\n\
         connection_string = \"UseDevelopmentStorage=true\"\n",
    );
    let loaded = load(
        Some(&path),
        &env_of(&[("AGORA_AZURE_CONTAINER", "from-env")]),
    )
    .unwrap();
    assert_eq!(
        loaded.settings.storage,
        StorageSettings::Azure(crate::AzureSettings {
            account_name: None,
            account_key: None,
            container: "from-env".into(),
            connection_string: Some(crate::Secret::new("UseDevelopmentStorage=true")),
        })
    );
}

#[test]
fn azure_requires_a_container_and_an_account() {
    let e = err(
        None,
        &[
            ("ATHENS_STORAGE_TYPE", "azureblob"),
            ("ATHENS_AZURE_ACCOUNT_NAME", "a"),
        ],
    );
    assert!(
        e.starts_with("storage.azure.container must be set when the storage type is azure"),
        "{e}"
    );
    assert!(e.contains("ATHENS_AZURE_CONTAINER_NAME"), "{e}");
    let e = err(
        None,
        &[
            ("ATHENS_STORAGE_TYPE", "azureblob"),
            ("ATHENS_AZURE_CONTAINER_NAME", "c"),
        ],
    );
    assert!(
        e.starts_with("storage.azure.account_name must be set"),
        "{e}"
    );
    assert!(e.contains("AZURE_STORAGE_CONNECTION_STRING"), "{e}");
    // A connection string set for other tools does not matter when the storage is not azure.
    let loaded = load(
        None,
        &env_of(&[("AZURE_STORAGE_CONNECTION_STRING", "AccountName=x")]),
    )
    .unwrap();
    assert!(matches!(
        loaded.settings.storage,
        StorageSettings::Disk { .. }
    ));
}

// ---------------------------------------------------------------------------------------
// External (Athens' external storage protocol)

#[test]
fn external_from_athens_env_file_and_agora_names() {
    let loaded = load(
        None,
        &env_of(&[
            ("ATHENS_STORAGE_TYPE", "external"),
            (
                "ATHENS_EXTERNAL_STORAGE_URL",
                "http://127.0.0.1:9999/store/",
            ),
        ]),
    )
    .unwrap();
    assert_eq!(
        loaded.settings.storage,
        StorageSettings::External(crate::ExternalSettings {
            url: "http://127.0.0.1:9999/store".into(),
        })
    );
    assert_eq!(
        loaded.source("storage.external.url"),
        Some(&Source::Env {
            name: "ATHENS_EXTERNAL_STORAGE_URL".into()
        })
    );
    let shown = loaded.show();
    assert!(shown.contains("storage.type = \"external\""), "{shown}");
    assert!(
        shown.contains("storage.external.url = \"http://127.0.0.1:9999/store\""),
        "{shown}"
    );

    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &dir,
        "config.toml",
        "StorageType = \"external\"\n[Storage.External]\nURL = \"https://store.example\"\n",
    );
    let loaded = load(Some(&path), &env_of(&[])).unwrap();
    assert_eq!(
        loaded.settings.storage,
        StorageSettings::External(crate::ExternalSettings {
            url: "https://store.example".into(),
        })
    );
    let path = write(
        &dir,
        "agora.toml",
        "[storage]\ntype = \"external\"\n[storage.external]\nurl = \"http://file.example\"\n",
    );
    let loaded = load(
        Some(&path),
        &env_of(&[("AGORA_EXTERNAL_URL", "http://env.example:8080")]),
    )
    .unwrap();
    assert_eq!(
        loaded.settings.storage,
        StorageSettings::External(crate::ExternalSettings {
            url: "http://env.example:8080".into(),
        })
    );
}

#[test]
fn external_requires_an_http_url() {
    let e = err(None, &[("ATHENS_STORAGE_TYPE", "external")]);
    assert!(
        e.starts_with("storage.external.url must be set when the storage type is external"),
        "{e}"
    );
    assert!(e.contains("ATHENS_EXTERNAL_STORAGE_URL"), "{e}");
    for bad in ["ftp://store.example", "store.example:8080", "http://"] {
        let e = err(
            None,
            &[
                ("ATHENS_STORAGE_TYPE", "external"),
                ("ATHENS_EXTERNAL_STORAGE_URL", bad),
            ],
        );
        assert!(e.contains("ATHENS_EXTERNAL_STORAGE_URL"), "{e}");
        assert!(e.contains("http://"), "{e}");
    }
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &dir,
        "agora.toml",
        "[storage]\ntype = \"external\"\n[storage.external]\nurl = \"store\"\n",
    );
    let e = err(Some(&path), &[]);
    assert!(e.contains("storage.external.url"), "{e}");
    // Conflicting Athens and agora names fail, naming both.
    let e = err(
        None,
        &[
            ("AGORA_STORAGE_TYPE", "external"),
            ("ATHENS_EXTERNAL_STORAGE_URL", "http://a.example"),
            ("AGORA_EXTERNAL_URL", "http://b.example"),
        ],
    );
    assert!(
        e.contains("ATHENS_EXTERNAL_STORAGE_URL") && e.contains("AGORA_EXTERNAL_URL"),
        "{e}"
    );
}

// ---------------------------------------------------------------------------------------
// The go fetcher

#[test]
fn go_fetcher_is_off_by_default_and_set_from_every_spelling() {
    let s = load(None, &env_of(&[])).unwrap().settings.upstream;
    assert!(s.go_fetcher_vcs.is_empty());
    assert_eq!(s.go_binary, PathBuf::from("go"));
    assert_eq!(s.go_fetcher_workers, 10);

    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &dir,
        "agora.toml",
        "[upstream]\ngo_binary = \"/opt/go/bin/go\"\ngo_fetcher_vcs = [\"svn\", \"hg\", \"hg\"]\n\
         go_fetcher_workers = 2\n",
    );
    let loaded = load(Some(&path), &env_of(&[])).unwrap();
    let s = &loaded.settings.upstream;
    // Canonical order, duplicates collapsed.
    assert_eq!(s.go_fetcher_vcs, ["hg", "svn"]);
    assert_eq!(s.go_binary, PathBuf::from("/opt/go/bin/go"));
    assert_eq!(s.go_fetcher_workers, 2);
    assert!(
        loaded
            .show()
            .contains("upstream.go_fetcher_vcs = [\"hg\", \"svn\"]"),
        "{}",
        loaded.show()
    );

    // The environment wins; an empty list switches the fetcher off.
    let loaded = load(
        Some(&path),
        &env_of(&[
            ("AGORA_GO_FETCHER_VCS", "fossil, bzr"),
            ("GO_BINARY_PATH", "/usr/bin/go"),
        ]),
    )
    .unwrap();
    assert_eq!(loaded.settings.upstream.go_fetcher_vcs, ["bzr", "fossil"]);
    assert_eq!(
        loaded.source("upstream.go_binary"),
        Some(&Source::Env {
            name: "GO_BINARY_PATH".into()
        })
    );
    let loaded = load(Some(&path), &env_of(&[("AGORA_GO_FETCHER_VCS", "")])).unwrap();
    assert!(loaded.settings.upstream.go_fetcher_vcs.is_empty());

    // Athens' GoBinary and GoGetWorkers.
    let athens = write(
        &dir,
        "config.toml",
        "GoBinary = \"/usr/lib/go/bin/go\"\nGoGetWorkers = 3\n",
    );
    let loaded = load(Some(&athens), &env_of(&[])).unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    assert_eq!(
        loaded.settings.upstream.go_binary,
        PathBuf::from("/usr/lib/go/bin/go")
    );
    assert_eq!(loaded.settings.upstream.go_fetcher_workers, 3);
    // An Athens file alone does not switch the fetcher on.
    assert!(loaded.settings.upstream.go_fetcher_vcs.is_empty());
}

#[test]
fn bad_go_fetcher_values_name_the_key() {
    let e = err(None, &[("AGORA_GO_FETCHER_VCS", "hg,git")]);
    assert!(
        e.contains("AGORA_GO_FETCHER_VCS") && e.contains("git is always fetched natively"),
        "{e}"
    );
    let e = err(None, &[("AGORA_GO_FETCHER_VCS", "cvs")]);
    assert!(
        e.contains("AGORA_GO_FETCHER_VCS") && e.contains("unknown VCS \"cvs\""),
        "{e}"
    );
    let e = err(None, &[("AGORA_GO_FETCHER_WORKERS", "0")]);
    assert!(e.contains("AGORA_GO_FETCHER_WORKERS"), "{e}");
    let e = err(None, &[("GO_BINARY_PATH", "")]);
    assert!(e.contains("GO_BINARY_PATH"), "{e}");
    let e = err(
        None,
        &[("GO_BINARY_PATH", "/a/go"), ("AGORA_GO_BINARY", "/b/go")],
    );
    assert!(
        e.contains("GO_BINARY_PATH") && e.contains("AGORA_GO_BINARY"),
        "{e}"
    );

    let dir = tempfile::tempdir().unwrap();
    for (text, needle) in [
        (
            "[upstream]\ngo_fetcher_vcs = \"hg\"\n",
            "expected a list of strings",
        ),
        (
            "[upstream]\ngo_fetcher_vcs = [\"git\"]\n",
            "git is always fetched",
        ),
        ("[upstream]\ngo_fetcher_workers = 0\n", "greater than 0"),
        ("[upstream]\ngo_binary = \"\"\n", "not an empty string"),
    ] {
        let path = write(&dir, "agora.toml", text);
        let e = err(Some(&path), &[]);
        assert!(
            e.contains("upstream.go_") && e.contains(needle),
            "{text}: {e}"
        );
    }
    let path = write(&dir, "config.toml", "GoGetWorkers = 0\n");
    let e = err(Some(&path), &[]);
    assert!(e.contains("GoGetWorkers"), "{e}");
}

#[test]
fn mongo_from_athens_file_env_and_agora_names() {
    use crate::MongoSettings;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(
        &path,
        "StorageType = \"mongo\"\n[Storage.Mongo]\nURL = \"mongodb://u:pw@db:27017\"\n\
         DefaultDBName = \"mods\"\nCertPath = \"/etc/ca.pem\"\nInsecure = true\n",
    )
    .unwrap();
    let loaded = load(Some(&path), &env_of(&[])).unwrap();
    let StorageSettings::Mongo(mg) = &loaded.settings.storage else {
        panic!("{:?}", loaded.settings.storage);
    };
    assert_eq!(mg.url.expose(), "mongodb://u:pw@db:27017");
    assert_eq!(mg.database, "mods");
    // Athens' default, as Athens has it.
    assert_eq!(mg.collection, "modules");
    assert_eq!(
        mg.cert_path.as_deref(),
        Some(std::path::Path::new("/etc/ca.pem"))
    );
    // `Insecure` is the sample's spelling, which Athens never reads; `InsecureConn` is
    // the key (or ATHENS_MONGO_INSECURE).
    assert!(!mg.insecure);
    let shown = loaded.show();
    // The password, not any "pw" (a temporary directory named .tmpw… has one).
    assert!(
        !shown.contains(":pw@") && !shown.contains("\"pw\""),
        "{shown}"
    );
    assert!(
        shown.contains("storage.mongo.url = \"<redacted>\""),
        "{shown}"
    );

    let loaded = load(
        None,
        &env_of(&[
            ("ATHENS_STORAGE_TYPE", "mongo"),
            ("ATHENS_MONGO_STORAGE_URL", "mongodb://db"),
            ("ATHENS_MONGO_DEFAULT_COLLECTION", "mods"),
            ("ATHENS_MONGO_INSECURE", "true"),
            ("AGORA_MONGO_DATABASE", "agora"),
        ]),
    )
    .unwrap();
    assert_eq!(
        loaded.settings.storage,
        StorageSettings::Mongo(MongoSettings {
            url: crate::Secret::new("mongodb://db"),
            database: "agora".to_owned(),
            collection: "mods".to_owned(),
            cert_path: None,
            insecure: true,
        })
    );

    let e = err(None, &[("AGORA_STORAGE_TYPE", "mongo")]);
    assert!(e.contains("storage.mongo.url"), "{e}");
    assert!(e.contains("ATHENS_MONGO_STORAGE_URL"), "{e}");
}

// ---------------------------------------------------------------------------------------
// Google Cloud Storage

#[test]
fn gcp_from_athens_env_names() {
    let loaded = load(
        None,
        &env_of(&[
            ("ATHENS_STORAGE_TYPE", "gcp"),
            ("ATHENS_STORAGE_GCP_BUCKET", "athens-modules"),
            ("ATHENS_STORAGE_GCP_JSON_KEY", "Z2NwLXNlY3JldC1rZXk="),
            ("STORAGE_EMULATOR_HOST", "127.0.0.1:9023"),
        ]),
    )
    .unwrap();
    assert_eq!(
        loaded.settings.storage,
        StorageSettings::Gcp(crate::GcpSettings {
            bucket: "athens-modules".into(),
            json_key: Some(crate::Secret::new("Z2NwLXNlY3JldC1rZXk=")),
            emulator_host: Some("127.0.0.1:9023".into()),
        })
    );
    for (key, name) in [
        ("storage.type", "ATHENS_STORAGE_TYPE"),
        ("storage.gcp.bucket", "ATHENS_STORAGE_GCP_BUCKET"),
        ("storage.gcp.json_key", "ATHENS_STORAGE_GCP_JSON_KEY"),
        ("storage.gcp.emulator_host", "STORAGE_EMULATOR_HOST"),
    ] {
        assert_eq!(
            loaded.source(key),
            Some(&Source::Env { name: name.into() }),
            "{key}"
        );
    }
    let shown = loaded.show();
    assert!(shown.contains("storage.type = \"gcp\""), "{shown}");
    assert!(!shown.contains("Z2NwLXNlY3JldC1rZXk="), "{shown}");
    assert!(!format!("{:?}", loaded.settings).contains("Z2NwLXNlY3JldC1rZXk="));
    assert!(
        shown.contains("storage.gcp.json_key = \"<redacted>\""),
        "{shown}"
    );
}

#[test]
fn gcp_from_athens_file_and_agora_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &dir,
        "config.toml",
        "StorageType = \"gcp\"\n[Storage.GCP]\nProjectID = \"p\"\nBucket = \"b1\"\n\
         JSONKey = \"a2V5\"\n",
    );
    let loaded = load(Some(&path), &env_of(&[])).unwrap();
    assert_eq!(
        loaded.settings.storage,
        StorageSettings::Gcp(crate::GcpSettings {
            bucket: "b1".into(),
            json_key: Some(crate::Secret::new("a2V5")),
            emulator_host: None,
        })
    );
    // agora's own file, with Google's name of the service.
    let path = write(
        &dir,
        "agora.toml",
        "[storage]\ntype = \"gcs\"\n[storage.gcp]\nbucket = \"b2\"\n\
         emulator_host = \"localhost:9023\"\n",
    );
    let loaded = load(Some(&path), &env_of(&[("AGORA_GCP_BUCKET", "b3")])).unwrap();
    assert_eq!(
        loaded.settings.storage,
        StorageSettings::Gcp(crate::GcpSettings {
            bucket: "b3".into(),
            json_key: None,
            emulator_host: Some("localhost:9023".into()),
        })
    );
}

#[test]
fn gcp_requires_a_bucket() {
    let e = err(None, &[("ATHENS_STORAGE_TYPE", "gcp")]);
    assert!(
        e.starts_with("storage.gcp.bucket must be set when the storage type is gcp"),
        "{e}"
    );
    assert!(e.contains("ATHENS_STORAGE_GCP_BUCKET"), "{e}");
}

#[test]
fn single_flight_from_athens_names() {
    let loaded = load(
        None,
        &env_of(&[
            ("ATHENS_SINGLE_FLIGHT_TYPE", "redis"),
            ("ATHENS_REDIS_ENDPOINT", "redis.internal:6380"),
            ("ATHENS_REDIS_PASSWORD", "pw"),
            ("ATHENS_REDIS_LOCK_TTL", "45"),
            ("ATHENS_REDIS_LOCK_TIMEOUT", "20"),
        ]),
    )
    .unwrap();
    let sf = &loaded.settings.single_flight;
    assert_eq!(sf.ttl, Duration::from_secs(45));
    assert_eq!(sf.timeout, Duration::from_secs(20));
    let crate::LockSettings::Redis(redis) = &sf.lock else {
        panic!("{sf:?}")
    };
    assert_eq!(redis.endpoint, "redis.internal:6380");
    assert_eq!(
        redis.password.as_ref().map(crate::Secret::expose),
        Some("pw")
    );

    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &dir,
        "config.toml",
        r#"
StorageType = "disk"
SingleFlightType = "redis-sentinel"
[SingleFlight.RedisSentinel]
Endpoints = ["10.0.0.1:26379", "10.0.0.2:26379"]
MasterName = "mymaster"
SentinelPassword = "s"
DB = 2
[SingleFlight.Etcd]
Endpoints = "a:2379,b:2379"
"#,
    );
    let loaded = load(Some(&path), &env_of(&[])).unwrap();
    let crate::LockSettings::RedisSentinel(sentinel) = &loaded.settings.single_flight.lock else {
        panic!("{:?}", loaded.settings.single_flight)
    };
    assert_eq!(sentinel.endpoints, ["10.0.0.1:26379", "10.0.0.2:26379"]);
    assert_eq!(sentinel.master_name, "mymaster");
    assert_eq!(sentinel.db, 2);
    let loaded = load(
        Some(&path),
        &env_of(&[("ATHENS_SINGLE_FLIGHT_TYPE", "etcd")]),
    )
    .unwrap();
    let crate::LockSettings::Etcd(etcd) = &loaded.settings.single_flight.lock else {
        panic!("{:?}", loaded.settings.single_flight)
    };
    assert_eq!(etcd.endpoints, ["a:2379", "b:2379"]);
}

#[test]
fn a_storage_lock_needs_its_storage() {
    let err = load(None, &env_of(&[("ATHENS_SINGLE_FLIGHT_TYPE", "gcp")])).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("ATHENS_SINGLE_FLIGHT_TYPE") && msg.contains("storage type gcp"),
        "{msg}"
    );
    let err = load(None, &env_of(&[("AGORA_SINGLE_FLIGHT_TYPE", "consul")])).unwrap_err();
    assert!(
        err.to_string().contains("expected one of memory, redis"),
        "{err}"
    );
    let loaded = load(
        None,
        &env_of(&[
            ("AGORA_STORAGE_TYPE", "s3"),
            ("ATHENS_S3_BUCKET_NAME", "b"),
            ("AGORA_SINGLE_FLIGHT_TYPE", "s3"),
        ]),
    )
    .unwrap();
    assert_eq!(
        loaded.settings.single_flight.lock,
        crate::LockSettings::Storage("s3")
    );
}

// ---------------------------------------------------------------------------------------
// Caching and the module index

#[test]
fn index_and_cache_settings_from_athens_names() {
    let loaded = load(
        None,
        &env_of(&[
            ("ATHENS_INDEX_TYPE", "postgres"),
            ("ATHENS_INDEX_POSTGRES_HOST", "db.internal"),
            ("ATHENS_INDEX_POSTGRES_PORT", "5433"),
            ("ATHENS_INDEX_POSTGRES_PASSWORD", "pw"),
            (
                "ATHENS_INDEX_POSTGRES_PARAMS",
                "connect_timeout:5s,sslmode:disable",
            ),
            ("AGORA_LIST_CACHE_TTL", "0"),
        ]),
    )
    .unwrap();
    let crate::IndexSettings::Postgres(pg) = &loaded.settings.index else {
        panic!("{:?}", loaded.settings.index)
    };
    assert_eq!(pg.host, "db.internal");
    assert_eq!(pg.port, 5433);
    assert_eq!(pg.user, "postgres");
    assert_eq!(pg.database, "athens");
    assert_eq!(pg.password.as_ref().map(crate::Secret::expose), Some("pw"));
    assert_eq!(pg.params, "connect_timeout=5 sslmode=disable");
    assert_eq!(loaded.settings.cache.list_ttl, Duration::ZERO);
    assert_eq!(loaded.settings.cache.negative_ttl, Duration::from_secs(60));
    assert!(!loaded.show().contains("pw"));
}

#[test]
fn index_settings_refuse_what_agora_cannot_do() {
    for (k, v) in [
        ("ATHENS_INDEX_TYPE", "mysql"),
        ("AGORA_INDEX_TYPE", "sqlite"),
    ] {
        let err = load(None, &env_of(&[(k, v)])).unwrap_err().to_string();
        assert!(err.contains(k), "{err}");
    }
    for (k, v) in [
        ("AGORA_INDEX_POSTGRES_PORT", "70000"),
        ("AGORA_INDEX_POSTGRES_PARAMS", "sslmode=require"),
        ("AGORA_INDEX_POSTGRES_PARAMS", "search_path=x"),
    ] {
        let err = load(None, &env_of(&[("AGORA_INDEX_TYPE", "postgres"), (k, v)]))
            .unwrap_err()
            .to_string();
        assert!(err.contains(k), "{k}={v}: {err}");
    }
}

#[test]
fn athens_index_table_with_params_table() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(
        &path,
        "IndexType = \"postgres\"\n[Index.Postgres]\nHost = \"pg\"\nPort = 5432\nUser = \"u\"\n\
         Database = \"idx\"\n[Index.Postgres.Params]\nconnect_timeout = \"30s\"\nsslmode = \"disable\"\n",
    )
    .unwrap();
    let loaded = load(Some(&path), &env_of(&[])).unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let crate::IndexSettings::Postgres(pg) = &loaded.settings.index else {
        panic!("{:?}", loaded.settings.index)
    };
    assert_eq!(
        (pg.host.as_str(), pg.port, pg.user.as_str()),
        ("pg", 5432, "u")
    );
    assert_eq!(pg.database, "idx");
    assert_eq!(pg.params, "connect_timeout=30 sslmode=disable");
}

// ---------------------------------------------------------------------------------------
// Download modes, filter file, validator

#[test]
fn download_modes_from_every_spelling() {
    use crate::DownloadModeSetting;
    use agora_core::download_mode::Mode;
    for (name, value, want) in [
        ("AGORA_DOWNLOAD_MODE", "async", Mode::Async),
        ("ATHENS_DOWNLOAD_MODE", "none", Mode::None),
        ("ATHENS_DOWNLOAD_MODE", " sync ", Mode::Sync),
    ] {
        let loaded = load(None, &env_of(&[(name, value)])).unwrap();
        assert_eq!(
            loaded.settings.download.mode,
            DownloadModeSetting::Mode(want)
        );
        assert_eq!(loaded.source("download.mode"), Some(&Source::env(name)));
    }
    let loaded = load(
        None,
        &env_of(&[
            ("ATHENS_DOWNLOAD_MODE", "redirect"),
            ("ATHENS_DOWNLOAD_URL", "https://proxy.golang.org/"),
        ]),
    )
    .unwrap();
    assert_eq!(
        loaded.settings.download.url.as_deref(),
        Some("https://proxy.golang.org")
    );
    let loaded = load(
        None,
        &env_of(&[("AGORA_DOWNLOAD_MODE", "file:/etc/agora/dl.hcl")]),
    )
    .unwrap();
    assert_eq!(
        loaded.settings.download.mode,
        DownloadModeSetting::File("/etc/agora/dl.hcl".into())
    );
    // custom: is decoded and parsed at load time, and shown as written.
    use base64::Engine as _;
    let hcl =
        "mode = \"none\"\ndownloadURL = \"\"\ndownload \"example.com/*\" {\n  mode = \"sync\"\n}\n";
    let b64 = base64::engine::general_purpose::STANDARD.encode(hcl);
    let loaded = load(
        None,
        &env_of(&[("ATHENS_DOWNLOAD_MODE", &format!("custom:{b64}"))]),
    )
    .unwrap();
    let DownloadModeSetting::Custom { file, .. } = &loaded.settings.download.mode else {
        panic!("{:?}", loaded.settings.download.mode)
    };
    assert_eq!(file.mode_for("example.com/a"), Mode::Sync);
    assert_eq!(file.mode_for("rsc.io/quote"), Mode::None);
    assert!(
        loaded.show().contains(&format!("mode = \"custom:{b64}\"")),
        "{}",
        loaded.show()
    );
}

#[test]
fn bad_download_modes_stop_startup() {
    use base64::Engine as _;
    let e = err(None, &[("ATHENS_DOWNLOAD_MODE", "fast")]);
    assert!(
        e.contains("ATHENS_DOWNLOAD_MODE") && e.contains("expected sync"),
        "{e}"
    );
    let e = err(None, &[("ATHENS_DOWNLOAD_MODE", "")]);
    assert!(e.contains("ATHENS_DOWNLOAD_MODE"), "{e}");
    let e = err(None, &[("ATHENS_DOWNLOAD_MODE", "redirect")]);
    assert!(
        e.contains("ATHENS_DOWNLOAD_MODE") && e.contains("ATHENS_DOWNLOAD_URL"),
        "{e}"
    );
    let e = err(None, &[("AGORA_DOWNLOAD_MODE", "custom:%%%")]);
    assert!(e.contains("base64"), "{e}");
    let bad = base64::engine::general_purpose::STANDARD
        .encode("mode = \"sync\"\ndownloadURL = \"\"\ndownload \"a/*\" {\n mode = \"fast\"\n}\n");
    let e = err(None, &[("AGORA_DOWNLOAD_MODE", &format!("custom:{bad}"))]);
    assert!(e.contains("line 4") && e.contains("fast"), "{e}");
    let e = err(None, &[("ATHENS_DOWNLOAD_URL", "gomods.io")]);
    assert!(e.contains("ATHENS_DOWNLOAD_URL"), "{e}");
}

#[test]
fn filter_and_validator_from_every_spelling() {
    let loaded = load(
        None,
        &env_of(&[
            ("ATHENS_FILTER_FILE", "/etc/athens/filter"),
            ("ATHENS_GLOBAL_ENDPOINT", "https://proxy.golang.org"),
            ("ATHENS_PROXY_VALIDATOR", "http://127.0.0.1:9000/validate"),
            ("AGORA_VALIDATOR_TIMEOUT", "3"),
        ]),
    )
    .unwrap();
    let f = &loaded.settings.filter;
    assert_eq!(f.file, Some(PathBuf::from("/etc/athens/filter")));
    assert_eq!(f.direct_url.as_deref(), Some("https://proxy.golang.org"));
    assert_eq!(
        f.validator.as_deref(),
        Some("http://127.0.0.1:9000/validate")
    );
    assert_eq!(f.validator_timeout, Duration::from_secs(3));
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let e = err(None, &[("ATHENS_PROXY_VALIDATOR", "validator:9000")]);
    assert!(e.contains("ATHENS_PROXY_VALIDATOR"), "{e}");
    let e = err(None, &[("AGORA_VALIDATOR_TIMEOUT", "0")]);
    assert!(e.contains("AGORA_VALIDATOR_TIMEOUT"), "{e}");
}
