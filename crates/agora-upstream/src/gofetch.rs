//! The go fetcher: the go command fetches modules whose repositories are hg,
//! svn, bzr or fossil, as Athens fetches every module.
//!
//! Each call runs one go command (`go mod download -json`, `go list -m
//! -json ...`) in a fresh temporary directory under agora's tmp dir that
//! serves as `HOME`, `GOPATH`, `GOMODCACHE` and `GOCACHE`, so nothing is
//! shared between fetches (every fetch is a full clone, as in Athens) and
//! nothing of the operator's go or VCS configuration leaks in. The
//! environment is built from scratch: only `PATH` (the go command runs
//! `hg`, `svn`, ...), `GOROOT`, proxy and certificate variables are taken
//! from agora's own environment; agora's secrets are not. The process runs in
//! its own process group, and the whole group is killed when the deadline
//! passes or the caller gives up. A semaphore bounds how many run at once
//! (Athens' `GoGetWorkers`).
//!
//! git is never fetched here: `direct` builds git modules natively.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use agora_core::{ModulePath, Version};
use bytes::Bytes;
use serde_json::Value;
use tokio::sync::Semaphore;

use crate::{ErrorKind, UpstreamError};

/// Variables copied from agora's environment when set: what the go command
/// and the VCS tools need to find themselves and reach the network. Athens
/// passes the same list (plus `HOME`, which here is the temporary directory).
const PASSED_THROUGH: &[&str] = &[
    "PATH",
    "GOROOT",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "SSH_AUTH_SOCK",
];

/// What the go fetcher needs to know.
#[derive(Debug, Clone, Default)]
pub struct GoFetcherConfig {
    /// The go command (a path, or a name looked up on `PATH`).
    pub binary: PathBuf,
    /// The VCSs it fetches (`hg`, `svn`, `bzr`, `fossil`); empty means off.
    pub vcs: Vec<String>,
    /// How many go commands may run at once (at least 1).
    pub workers: usize,
    /// `GOPRIVATE`, `GONOPROXY`, `GONOSUMDB` for the child (`""` for unset).
    pub goprivate: String,
    /// See `goprivate`.
    pub gonoproxy: String,
    /// See `goprivate`.
    pub gonosumdb: String,
}

impl GoFetcherConfig {
    /// Whether any VCS is given to the go command.
    pub fn is_enabled(&self) -> bool {
        !self.vcs.is_empty()
    }
}

/// What `go mod download -json` produced for one version.
pub(crate) struct Downloaded {
    /// The canonical version.
    pub version: Version,
    /// The `.info` file the go command cached.
    pub info: Bytes,
    /// The `.mod` file.
    pub go_mod: Bytes,
    /// The zip, moved out of the temporary GOPATH into the spool dir.
    pub zip: tempfile::TempPath,
    /// The go command's `h1:` of the zip.
    pub sum: String,
}

/// The go fetcher for one module, with the credentials its go commands may
/// use (see [`GoModule::new`]).
#[derive(Clone)]
pub(crate) struct GoModule {
    go: Arc<GoFetcher>,
    netrc: Option<Arc<str>>,
}

impl std::fmt::Debug for GoModule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GoModule")
            .field("netrc", &self.netrc.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

impl GoModule {
    /// `netrc` is the whole netrc file the go command gets (`NETRC`), or
    /// none. The go command resolves the go-import page itself and may be
    /// told something else than agora was, so the caller gives only what the
    /// module is entitled to (`direct::credentials_allowed`, and only the
    /// module host's machines).
    pub(crate) fn new(go: Arc<GoFetcher>, netrc: Option<String>) -> Self {
        GoModule {
            go,
            netrc: netrc.map(Arc::from),
        }
    }

    /// See [`GoFetcher::list`].
    pub(crate) async fn list(&self, module: &ModulePath) -> Result<Vec<String>, UpstreamError> {
        self.go.list(module, self.netrc.as_deref()).await
    }

    /// See [`GoFetcher::stat`].
    pub(crate) async fn stat(
        &self,
        module: &ModulePath,
        query: &str,
    ) -> Result<Bytes, UpstreamError> {
        self.go.stat(module, query, self.netrc.as_deref()).await
    }

    /// See [`GoFetcher::download`].
    pub(crate) async fn download(
        &self,
        module: &ModulePath,
        version: &Version,
        spool_dir: &Path,
    ) -> Result<Downloaded, UpstreamError> {
        self.go
            .download(module, version, spool_dir, self.netrc.as_deref())
            .await
    }
}

/// Runs the go command for `direct`.
#[derive(Debug)]
pub(crate) struct GoFetcher {
    config: GoFetcherConfig,
    /// Parent of the per-call temporary directories.
    tmp_dir: PathBuf,
    /// The fixed part of the child's environment.
    env: Vec<(String, String)>,
    workers: Arc<Semaphore>,
    /// The upstream fetch permits, shared with proxies and git.
    fetches: Arc<Semaphore>,
    timeout: Duration,
}

impl GoFetcher {
    pub(crate) fn new(
        config: GoFetcherConfig,
        tmp_dir: &Path,
        goinsecure: &str,
        timeout: Duration,
        fetches: Arc<Semaphore>,
    ) -> Self {
        let mut env: Vec<(String, String)> = PASSED_THROUGH
            .iter()
            .filter_map(|k| std::env::var(k).ok().map(|v| ((*k).to_owned(), v)))
            .collect();
        let fixed = [
            ("GOPROXY", "direct"),
            // agora checks the zip itself and keeps no checksum database for
            // direct fetches; the go command would otherwise ask sum.golang.org.
            ("GOSUMDB", "off"),
            ("GOFLAGS", "-mod=mod -modcacherw"),
            ("GOTOOLCHAIN", "local"),
            ("GO111MODULE", "on"),
            ("GOENV", "off"),
            ("GOTELEMETRY", "off"),
            ("CGO_ENABLED", "0"),
            ("GIT_TERMINAL_PROMPT", "0"),
            // `fossil clone` refuses to run without a user name (FOSSIL_USER,
            // USER, LOGNAME, ...), and a service's environment may have none.
            // It only names the clone's default user in the throwaway clone.
            ("FOSSIL_USER", "agora"),
        ];
        env.extend(
            fixed
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        for (k, v) in [
            ("GOPRIVATE", config.goprivate.as_str()),
            ("GONOPROXY", config.gonoproxy.as_str()),
            ("GONOSUMDB", config.gonosumdb.as_str()),
            ("GOINSECURE", goinsecure),
        ] {
            if !v.is_empty() {
                env.push((k.to_owned(), v.to_owned()));
            }
        }
        GoFetcher {
            workers: Arc::new(Semaphore::new(config.workers.max(1))),
            config,
            tmp_dir: tmp_dir.join("go"),
            env,
            fetches,
            timeout,
        }
    }

    /// Whether repositories of this VCS go to the go command.
    pub(crate) fn handles(&self, vcs: &str) -> bool {
        self.config.vcs.iter().any(|v| v == vcs)
    }

    /// The module's tagged versions, retracted ones included (as a proxy's
    /// `list`, and `codeRepo.Versions`, report them).
    async fn list(
        &self,
        module: &ModulePath,
        netrc: Option<&str>,
    ) -> Result<Vec<String>, UpstreamError> {
        let (_tmp, out) = self
            .run(
                module,
                netrc,
                &[
                    "list",
                    "-m",
                    "-json",
                    "-versions",
                    "-retracted",
                    module.as_str(),
                ],
            )
            .await?;
        let v = parse_one(module, &out)?;
        Ok(v["Versions"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .filter(|v| !agora_core::pseudo::is_pseudo_version(v))
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Resolves a query (`latest`, a branch, a version) to the RevInfo JSON
    /// the go command reports: `Version`, `Time` and, when present, `Origin`.
    async fn stat(
        &self,
        module: &ModulePath,
        query: &str,
        netrc: Option<&str>,
    ) -> Result<Bytes, UpstreamError> {
        let spec = format!("{module}@{query}");
        let (_tmp, out) = self
            .run(module, netrc, &["list", "-m", "-json", &spec])
            .await?;
        let v = parse_one(module, &out)?;
        let mut info = serde_json::Map::new();
        for field in ["Version", "Time", "Origin"] {
            if let Some(x) = v.get(field).filter(|x| !x.is_null()) {
                info.insert(field.to_owned(), x.clone());
            }
        }
        if !info.contains_key("Version") {
            return Err(go_error(
                module,
                ErrorKind::BadResponse,
                "go list printed no Version",
            ));
        }
        let mut json = serde_json::to_vec(&Value::Object(info)).map_err(|e| {
            go_error(
                module,
                ErrorKind::BadResponse,
                format!("encoding .info: {e}"),
            )
        })?;
        json.push(b'\n');
        Ok(Bytes::from(json))
    }

    /// `go mod download -json module@version`: the version's `.info`, `.mod`
    /// and zip exactly as the go command cached them. The zip is moved (or,
    /// across file systems, copied) into `spool_dir`, never read into memory.
    async fn download(
        &self,
        module: &ModulePath,
        version: &Version,
        spool_dir: &Path,
        netrc: Option<&str>,
    ) -> Result<Downloaded, UpstreamError> {
        let spec = format!("{module}@{version}");
        let (tmp, out) = self
            .run(module, netrc, &["mod", "download", "-json", &spec])
            .await?;
        let v = parse_one(module, &out)?;
        let field = |name: &str| -> Result<String, UpstreamError> {
            v[name].as_str().map(str::to_owned).ok_or_else(|| {
                go_error(
                    module,
                    ErrorKind::BadResponse,
                    format!("go mod download printed no {name}"),
                )
            })
        };
        let resolved = field("Version")?;
        if resolved != version.as_str() {
            return Err(go_error(
                module,
                ErrorKind::BadResponse,
                format!("go mod download resolved {version} to {resolved}"),
            ));
        }
        let (info, go_mod, zip, sum) = (
            field("Info")?,
            field("GoMod")?,
            field("Zip")?,
            field("Sum")?,
        );
        // The paths must lie in the temporary GOPATH this call made.
        for p in [&info, &go_mod, &zip] {
            if !Path::new(p).starts_with(tmp.path()) {
                return Err(go_error(
                    module,
                    ErrorKind::BadResponse,
                    format!("go mod download reported a file outside its GOPATH: {p}"),
                ));
            }
        }
        let (m, spool_dir) = (module.clone(), spool_dir.to_path_buf());
        let files = tokio::task::spawn_blocking(move || {
            let read = |p: &str, limit: u64| -> Result<Bytes, UpstreamError> {
                let len = std::fs::metadata(p).map_err(|e| local_error(p, &e))?.len();
                if len > limit {
                    return Err(go_error(
                        &m,
                        ErrorKind::BadResponse,
                        format!("{p} is larger than {limit} bytes"),
                    ));
                }
                std::fs::read(p)
                    .map(Bytes::from)
                    .map_err(|e| local_error(p, &e))
            };
            let info = read(&info, 1 << 20)?;
            let go_mod = read(&go_mod, agora_core::zipcheck::MAX_GO_MOD)?;
            let (file, spool_path) = crate::spool_file(&spool_dir)?.into_parts();
            drop(file);
            // Same file system (both under tmp_dir) in the usual setup: a rename.
            if std::fs::rename(&zip, &spool_path).is_err() {
                std::fs::copy(&zip, &spool_path).map_err(|e| local_error(&zip, &e))?;
            }
            drop(tmp);
            Ok::<_, UpstreamError>((info, go_mod, spool_path))
        })
        .await
        .map_err(|e| go_error(module, ErrorKind::Unavailable, e))??;
        let (info, go_mod, zip) = files;
        Ok(Downloaded {
            version: Version::from_trusted(&resolved),
            info,
            go_mod,
            zip,
            sum,
        })
    }

    /// Runs one go command in a fresh temporary directory, returning the
    /// directory (removed when dropped) and stdout on success. `netrc`, when
    /// given, is written there (owner-only) and named by `NETRC`; without it
    /// the go command finds no netrc at all (`HOME` is the empty directory).
    async fn run(
        &self,
        module: &ModulePath,
        netrc: Option<&str>,
        args: &[&str],
    ) -> Result<(GoTemp, Vec<u8>), UpstreamError> {
        use tracing::Instrument;
        // A span for trace export only: the target is off unless export is on.
        let span = tracing::info_span!(
            target: "agora_otel",
            "vcs",
            module = %module,
            step = "go command",
            args = %args.join(" ")
        );
        self.run_unspanned(module, netrc, args)
            .instrument(span)
            .await
    }

    async fn run_unspanned(
        &self,
        module: &ModulePath,
        netrc: Option<&str>,
        args: &[&str],
    ) -> Result<(GoTemp, Vec<u8>), UpstreamError> {
        let _permit = self.workers.acquire().await.map_err(|_| {
            go_error(
                module,
                ErrorKind::Unavailable,
                "go fetcher is shutting down",
            )
        })?;
        let _turn = match tokio::time::timeout(self.timeout, self.fetches.acquire()).await {
            Ok(Ok(p)) => p,
            Ok(Err(_)) => {
                return Err(go_error(
                    module,
                    ErrorKind::Unavailable,
                    "upstream fetches are closed",
                ));
            }
            Err(_) => {
                return Err(go_error(
                    module,
                    ErrorKind::Timeout,
                    format!(
                        "no turn among the upstream fetches within {}s",
                        self.timeout.as_secs()
                    ),
                ));
            }
        };
        std::fs::create_dir_all(&self.tmp_dir).map_err(|e| local_error(&self.tmp_dir, &e))?;
        let tmp = GoTemp(Some(
            tempfile::Builder::new()
                .prefix("gopath-")
                .tempdir_in(&self.tmp_dir)
                .map_err(|e| local_error(&self.tmp_dir, &e))?,
        ));
        let home = tmp.path().to_path_buf();
        let home = home.as_path();
        let work = home.join("work");
        std::fs::create_dir_all(&work).map_err(|e| local_error(&work, &e))?;
        let gopath = home.join("gopath");
        let mut cmd = tokio::process::Command::new(&self.config.binary);
        cmd.args(args)
            .current_dir(&work)
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .env("HOME", home)
            .env("GOPATH", &gopath)
            .env("GOMODCACHE", gopath.join("pkg/mod"))
            .env("GOCACHE", home.join("cache"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        if let Some(text) = netrc {
            // Not `~/.netrc`: git (through libcurl) would read that one.
            let auth = home.join("auth");
            let path = auth.join("netrc");
            write_private(&auth, &path, text).map_err(|e| local_error(&path, &e))?;
            cmd.env("NETRC", &path);
        }
        let started = std::time::Instant::now();
        let child = cmd.spawn().map_err(|e| {
            go_error(
                module,
                ErrorKind::Unavailable,
                format!("running {}: {e}", self.config.binary.display()),
            )
        })?;
        let group = KillGroup(child.id());
        let waited = tokio::time::timeout(self.timeout, child.wait_with_output()).await;
        let out = match waited {
            Err(_) => {
                return Err(go_error(
                    module,
                    ErrorKind::Timeout,
                    format!(
                        "go {} did not finish within {}s",
                        args.first().copied().unwrap_or_default(),
                        self.timeout.as_secs()
                    ),
                ));
            }
            Ok(Err(e)) => {
                return Err(go_error(
                    module,
                    ErrorKind::Unavailable,
                    format!("waiting for the go command: {e}"),
                ));
            }
            Ok(Ok(out)) => out,
        };
        group.disarm();
        tracing::debug!(%module, go = %args.join(" "), elapsed = ?started.elapsed(), status = ?out.status.code(), "go command");
        if out.status.success() {
            return Ok((tmp, out.stdout));
        }
        // `go mod download -json` reports its error in the JSON; `go list`
        // on stderr.
        let reported = parse_json_stream(&out.stdout)
            .into_iter()
            .find_map(|v| error_text(&v));
        let text = reported.unwrap_or_else(|| String::from_utf8_lossy(&out.stderr).into_owned());
        let reason = summarise(&text);
        Err(go_error(module, classify(&reason), reason))
    }
}

/// Writes `text` to `path` in a new directory `dir`, both readable by the
/// owner only (the file holds passwords).
fn write_private(dir: &Path, path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
    std::fs::DirBuilder::new().mode(0o700).create(dir)?;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(text.as_bytes())
}

/// A call's temporary directory. Removing it (a whole clone, module cache
/// and build cache) is slow file system work, so it happens on the blocking
/// pool rather than on the async task that drops it.
pub(crate) struct GoTemp(Option<tempfile::TempDir>);

impl GoTemp {
    fn path(&self) -> &Path {
        self.0
            .as_ref()
            .map_or(Path::new(""), tempfile::TempDir::path)
    }
}

impl Drop for GoTemp {
    fn drop(&mut self) {
        if let Some(dir) = self.0.take() {
            match tokio::runtime::Handle::try_current() {
                Ok(rt) => {
                    rt.spawn_blocking(move || drop(dir));
                }
                Err(_) => drop(dir),
            }
        }
    }
}

/// Kills a child's process group (the go command and the VCS tools it
/// started) when dropped, unless disarmed: on timeout, and when the caller's
/// future is dropped.
struct KillGroup(Option<u32>);

impl KillGroup {
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for KillGroup {
    fn drop(&mut self) {
        if let Some(pid) = self.0 {
            // The std and tokio APIs only reach the go command itself.
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// The error text of one go JSON object (`Error` is a string for `go mod
/// download`, an object with `Err` for `go list -e`).
fn error_text(v: &Value) -> Option<String> {
    match &v["Error"] {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Object(o) => o.get("Err").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    }
}

/// The single JSON object a go command printed for one module.
fn parse_one(module: &ModulePath, out: &[u8]) -> Result<Value, UpstreamError> {
    let mut all = parse_json_stream(out);
    if all.len() != 1 {
        return Err(go_error(
            module,
            ErrorKind::BadResponse,
            format!("the go command printed {} JSON objects, not 1", all.len()),
        ));
    }
    let v = all.remove(0);
    if let Some(e) = error_text(&v) {
        let reason = summarise(&e);
        return Err(go_error(module, classify(&reason), reason));
    }
    Ok(v)
}

fn parse_json_stream(out: &[u8]) -> Vec<Value> {
    serde_json::Deserializer::from_slice(out)
        .into_iter::<Value>()
        .map_while(Result::ok)
        .collect()
}

/// The go command's error as one line: the last non-empty line (the go
/// command prints context first and the reason last), without the `go: `
/// prefix, control characters removed, bounded.
pub(crate) fn summarise(text: &str) -> String {
    let line = text
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .unwrap_or("the go command failed without a message");
    let line = line.strip_prefix("go: ").unwrap_or(line);
    line.chars().filter(|c| !c.is_control()).take(400).collect()
}

/// Whether the go command's reason says the module or version does not exist
/// (so that a `,` in GOPROXY falls through), or something else failed.
pub(crate) fn classify(reason: &str) -> ErrorKind {
    const NOT_FOUND: &[&str] = &[
        "unknown revision",
        "no matching versions",
        "invalid version",
        "not found",
        "does not exist",
        "no such file",
        "404",
        "410",
        "unrecognized import path",
        "repository not found",
        "no secure protocol found",
        "does not contain package",
        "module declares its path as",
    ];
    let lower = reason.to_ascii_lowercase();
    if lower.contains("timeout") || lower.contains("timed out") {
        ErrorKind::Timeout
    } else if NOT_FOUND.iter().any(|p| lower.contains(p)) {
        ErrorKind::NotFound
    } else {
        ErrorKind::Unavailable
    }
}

fn go_error(module: &ModulePath, kind: ErrorKind, reason: impl std::fmt::Display) -> UpstreamError {
    UpstreamError::new(kind, format!("{module}: direct (go command): {reason}"))
}

fn local_error(path: impl AsRef<Path>, e: &std::io::Error) -> UpstreamError {
    UpstreamError::new(
        ErrorKind::Unavailable,
        format!("go fetcher: {}: {e}", path.as_ref().display()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summarise_keeps_the_last_line_without_the_prefix() {
        let text = "go: downloading hg.e2e.test/m v1.0.0\ngo: hg.e2e.test/m@v9.0.0: invalid version: unknown revision v9.0.0\n\n";
        assert_eq!(
            summarise(text),
            "hg.e2e.test/m@v9.0.0: invalid version: unknown revision v9.0.0"
        );
        assert_eq!(summarise(""), "the go command failed without a message");
        assert!(!summarise("a\u{1b}[31mb").contains('\u{1b}'));
    }

    #[test]
    fn classify_tells_absence_from_failure() {
        for r in [
            "m@v9.0.0: invalid version: unknown revision v9.0.0",
            "m@latest: no matching versions for query \"latest\"",
            "abort: HTTP Error 404: Not Found",
        ] {
            assert_eq!(classify(r), ErrorKind::NotFound, "{r}");
        }
        assert_eq!(
            classify("abort: error: Connection refused"),
            ErrorKind::Unavailable
        );
        assert_eq!(classify("dial tcp: i/o timeout"), ErrorKind::Timeout);
    }

    #[test]
    fn error_text_reads_both_shapes() {
        let d: Value = serde_json::from_str(r#"{"Path":"m","Error":"bad"}"#).unwrap();
        assert_eq!(error_text(&d).as_deref(), Some("bad"));
        let l: Value = serde_json::from_str(r#"{"Path":"m","Error":{"Err":"worse"}}"#).unwrap();
        assert_eq!(error_text(&l).as_deref(), Some("worse"));
        let ok: Value = serde_json::from_str(r#"{"Path":"m","Version":"v1.0.0"}"#).unwrap();
        assert_eq!(error_text(&ok), None);
    }
}
