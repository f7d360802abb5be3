//! The go command as a client: isolated environments ([`GoEnv`]), `go mod download -json`
//! results ([`Download`]) and their comparison with the ground truth.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::thread::{self};

use serde_json::Value;

use crate::*;

/// An isolated go client: its own HOME, GOPATH and GOMODCACHE, one GOPROXY, and the test
/// checksum database reached directly at the reference proxy.
pub struct GoEnv {
    /// What this client is (for messages).
    pub name: String,
    /// `GOPROXY`.
    pub goproxy: String,
    /// `GOMODCACHE`.
    pub gomodcache: PathBuf,
    /// `GOPATH`.
    pub gopath: PathBuf,
    /// `HOME`.
    pub home: PathBuf,
    /// The working directory for module-less commands (no go.mod in it).
    pub work: PathBuf,
}

/// The result of one go invocation.
#[derive(Debug)]
pub struct GoRun {
    /// The command line, for messages.
    pub cmdline: String,
    /// Exit status.
    pub status: ExitStatus,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl GoRun {
    /// Panics with everything the command printed unless it succeeded.
    pub fn expect_success(&self, context: &str) -> &GoRun {
        assert!(
            self.status.success(),
            "{context}: `{}` failed ({}):\nstdout:\n{}\nstderr:\n{}",
            self.cmdline,
            self.status,
            self.stdout,
            self.stderr
        );
        self
    }
}

impl GoEnv {
    /// A fresh client under `<parent>/go-<name>/` using `goproxy`.
    pub fn new(parent: &Path, name: &str, goproxy: impl Into<String>) -> GoEnv {
        let root = parent.join(format!("go-{name}"));
        let env = GoEnv {
            name: name.to_string(),
            goproxy: goproxy.into(),
            gomodcache: root.join("gomodcache"),
            gopath: root.join("gopath"),
            home: root.join("home"),
            work: root.join("work"),
        };
        for d in [&env.gomodcache, &env.gopath, &env.home, &env.work] {
            fs::create_dir_all(d).expect("create a go client directory");
        }
        env
    }

    /// A client of the reference proxy itself: the source of ground truth.
    pub fn direct(parent: &Path, name: &str) -> GoEnv {
        GoEnv::new(parent, name, ref_proxy().goproxy_url())
    }

    /// A client of `agora`.
    pub fn via(parent: &Path, name: &str, agora: &Agora) -> GoEnv {
        GoEnv::new(parent, name, agora.goproxy_url())
    }

    /// `$GOROOT/bin/go args…` in `dir` with this client's hermetic environment.
    pub fn command(&self, args: &[&str], dir: &Path) -> Command {
        let mut cmd = Command::new(go_bin());
        cmd.args(args)
            .current_dir(dir)
            .env_clear()
            .env("PATH", path_env())
            .env("HOME", &self.home)
            .env("GOPATH", &self.gopath)
            .env("GOMODCACHE", &self.gomodcache)
            .env("GOCACHE", shared_gocache())
            .env("GOTOOLCHAIN", "local")
            .env("GOFLAGS", "-modcacherw")
            .env("GOTELEMETRY", "off")
            .env("GOPROXY", &self.goproxy)
            .env(
                "GOSUMDB",
                format!("{SUMDB_KEY} {}", ref_proxy().sumdb_url()),
            )
            .env("CGO_ENABLED", "0");
        cmd
    }

    /// Runs the go command in `dir` (default: the module-less work dir).
    pub fn run_in(&self, args: &[&str], dir: &Path) -> GoRun {
        let mut cmd = self.command(args, dir);
        let out = run_with_timeout(&mut cmd, GO_TIMEOUT);
        GoRun {
            cmdline: format!(
                "[{}] GOPROXY={} go {}",
                self.name,
                self.goproxy,
                args.join(" ")
            ),
            status: out.status,
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Runs the go command in the module-less work dir.
    pub fn run(&self, args: &[&str]) -> GoRun {
        self.run_in(args, &self.work)
    }

    /// `go mod download -json specs…`: one result per spec, keyed by the spec.
    pub fn mod_download(&self, specs: &[String]) -> BTreeMap<String, Download> {
        let mut args = vec!["mod", "download", "-json"];
        args.extend(specs.iter().map(String::as_str));
        let run = self.run(&args);
        downloads_by_spec(&run, specs)
    }

    /// `go list -m -e -json args…`, one JSON object per module, with this client's module
    /// cache path replaced by `$GOMODCACHE` so that results of two clients compare.
    pub fn list_json(&self, args: &[&str]) -> Vec<Value> {
        let mut full = vec!["list", "-m", "-e", "-json"];
        full.extend_from_slice(args);
        let run = self.run(&full);
        let normalised = run
            .stdout
            .replace(&self.gomodcache.display().to_string(), "$GOMODCACHE");
        parse_json_stream(&normalised).unwrap_or_else(|e| {
            panic!(
                "`{}` printed unparsable JSON ({e}):\n{}\n{}",
                run.cmdline, run.stdout, run.stderr
            )
        })
    }
}

/// Parses concatenated JSON values (what `go … -json` prints).
pub fn parse_json_stream(text: &str) -> Result<Vec<Value>, serde_json::Error> {
    serde_json::Deserializer::from_str(text)
        .into_iter::<Value>()
        .collect()
}

/// One `go mod download -json` result.
#[derive(Debug, Clone, Default)]
pub struct Download {
    /// Module path.
    pub path: String,
    /// Resolved version.
    pub version: String,
    /// The query, when the argument was not a canonical version.
    pub query: Option<String>,
    /// The error, when the download failed.
    pub error: Option<String>,
    /// `h1:` of the zip.
    pub sum: Option<String>,
    /// `h1:` of go.mod.
    pub gomod_sum: Option<String>,
    /// Cached .info file.
    pub info: Option<PathBuf>,
    /// Cached .mod file.
    pub gomod: Option<PathBuf>,
    /// Cached .zip file.
    pub zip: Option<PathBuf>,
}

impl Download {
    fn from_json(v: &Value) -> Download {
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        Download {
            path: s("Path").unwrap_or_default(),
            version: s("Version").unwrap_or_default(),
            query: s("Query"),
            error: s("Error"),
            sum: s("Sum"),
            gomod_sum: s("GoModSum"),
            info: s("Info").map(PathBuf::from),
            gomod: s("GoMod").map(PathBuf::from),
            zip: s("Zip").map(PathBuf::from),
        }
    }

    /// `path@version`.
    pub fn id(&self) -> String {
        format!("{}@{}", self.path, self.version)
    }

    /// Whether the download succeeded completely.
    pub fn ok(&self) -> bool {
        self.error.is_none() && self.sum.is_some() && self.gomod_sum.is_some()
    }

    /// The error's first line.
    pub fn error_line(&self) -> String {
        self.error
            .as_deref()
            .unwrap_or("")
            .lines()
            .next()
            .unwrap_or("")
            .to_string()
    }
}

fn read_opt(p: &Option<PathBuf>) -> Option<Vec<u8>> {
    p.as_ref().and_then(|p| fs::read(p).ok())
}

fn info_fields(p: &Option<PathBuf>) -> Option<(Value, Value)> {
    let bytes = read_opt(p)?;
    let v: Value = serde_json::from_slice(&bytes).ok()?;
    Some((
        v.get("Version").cloned().unwrap_or(Value::Null),
        v.get("Time").cloned().unwrap_or(Value::Null),
    ))
}

/// Compares a successful ground-truth download with the same download through agora:
/// version, both sums, and the bytes the go command cached (.mod and .zip verbatim, .info
/// Version and Time). Returns the differences.
pub fn diff_download(spec: &str, truth: &Download, got: &Download) -> Vec<String> {
    let mut diffs = Vec::new();
    if let Some(e) = &got.error {
        diffs.push(format!("{spec}: failed through agora: {}", e.trim()));
        return diffs;
    }
    if got.version != truth.version {
        diffs.push(format!(
            "{spec}: Version {:?} through agora, {:?} direct",
            got.version, truth.version
        ));
    }
    if got.sum != truth.sum {
        diffs.push(format!(
            "{spec}: Sum {:?} through agora, {:?} direct",
            got.sum, truth.sum
        ));
    }
    if got.gomod_sum != truth.gomod_sum {
        diffs.push(format!(
            "{spec}: GoModSum {:?} through agora, {:?} direct",
            got.gomod_sum, truth.gomod_sum
        ));
    }
    if read_opt(&got.zip) != read_opt(&truth.zip) {
        diffs.push(format!(
            "{spec}: the cached .zip bytes differ from the direct download"
        ));
    }
    if read_opt(&got.gomod) != read_opt(&truth.gomod) {
        diffs.push(format!(
            "{spec}: the cached .mod bytes differ from the direct download"
        ));
    }
    let (gi, ti) = (info_fields(&got.info), info_fields(&truth.info));
    if gi != ti {
        diffs.push(format!(
            "{spec}: .info Version/Time {gi:?} through agora, {ti:?} direct"
        ));
    }
    diffs
}

/// Asserts that every spec succeeded directly (a sanity check of the fixture choice) and
/// matches through agora; lists every difference at once.
pub fn assert_same_downloads(
    context: &str,
    specs: &[String],
    truth: &BTreeMap<String, Download>,
    got: &BTreeMap<String, Download>,
    agora: Option<&Agora>,
) {
    let mut diffs = Vec::new();
    for spec in specs {
        let t = &truth[spec];
        assert!(
            t.ok(),
            "{context}: ground truth is broken: {spec} fails against the reference proxy \
             directly: {}",
            t.error.as_deref().unwrap_or("no Sum")
        );
        diffs.extend(diff_download(spec, t, &got[spec]));
    }
    if !diffs.is_empty() {
        let shown: Vec<&String> = diffs.iter().take(40).collect();
        panic!(
            "{context}: {} difference(s) between downloads through {} and directly from the \
             reference proxy ({} specs):\n  {}{}",
            diffs.len(),
            agora.map_or_else(
                || "the forwarder".to_string(),
                |a| format!("agora {}", a.addr)
            ),
            specs.len(),
            shown
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("\n  "),
            if diffs.len() > 40 { "\n  …" } else { "" },
        );
    }
}

/// Runs `a` and `b` on two threads.
pub fn both<A: Send, B: Send>(
    a: impl FnOnce() -> A + Send,
    b: impl FnOnce() -> B + Send,
) -> (A, B) {
    thread::scope(|s| {
        let ha = s.spawn(a);
        let hb = s.spawn(b);
        let ra = ha.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
        let rb = hb.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
        (ra, rb)
    })
}

impl GoEnv {
    /// A go client in direct mode (`GOPROXY=direct`) against the git forge: the ground truth
    /// for direct-mode tests. Use the `*_nosumdb` methods with it.
    pub fn vcs_direct(parent: &Path, name: &str) -> GoEnv {
        GoEnv::new(parent, name, "direct")
    }

    /// Like [`GoEnv::command`], without the reference proxy's checksum database:
    /// `GOSUMDB=off`, `GOINSECURE` for the git forge, `GOFLAGS=-modcacherw`,
    /// `GOTOOLCHAIN=local`.
    pub fn command_nosumdb(&self, args: &[&str], dir: &Path) -> Command {
        let mut cmd = Command::new(go_bin());
        cmd.args(args)
            .current_dir(dir)
            .env_clear()
            .env("PATH", path_env())
            .env("HOME", &self.home)
            .env("GOPATH", &self.gopath)
            .env("GOMODCACHE", &self.gomodcache)
            .env("GOCACHE", shared_gocache())
            .env("GOTOOLCHAIN", "local")
            .env("GOFLAGS", "-modcacherw")
            .env("GOTELEMETRY", "off")
            .env("GOPROXY", &self.goproxy)
            .env("GOSUMDB", "off")
            .env("GOINSECURE", GIT_FORGE_HOST)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("CGO_ENABLED", "0");
        cmd
    }

    /// Runs the go command (see [`GoEnv::command_nosumdb`]) in the module-less work dir.
    pub fn run_nosumdb(&self, args: &[&str]) -> GoRun {
        let mut cmd = self.command_nosumdb(args, &self.work);
        let out = run_with_timeout(&mut cmd, GO_TIMEOUT);
        GoRun {
            cmdline: format!(
                "[{}] GOPROXY={} GOSUMDB=off go {}",
                self.name,
                self.goproxy,
                args.join(" ")
            ),
            status: out.status,
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// `go mod download -json specs…` (see [`GoEnv::run_nosumdb`]): one result per spec,
    /// keyed by the spec.
    pub fn mod_download_nosumdb(&self, specs: &[String]) -> BTreeMap<String, Download> {
        let mut args = vec!["mod", "download", "-json"];
        args.extend(specs.iter().map(String::as_str));
        let run = self.run_nosumdb(&args);
        downloads_by_spec(&run, specs)
    }

    /// `go list -m -e -json args…` (see [`GoEnv::run_nosumdb`]), one JSON object per
    /// module.
    pub fn list_json_nosumdb(&self, args: &[&str]) -> Vec<Value> {
        let mut full = vec!["list", "-m", "-e", "-json"];
        full.extend_from_slice(args);
        let run = self.run_nosumdb(&full);
        parse_json_stream(&run.stdout).unwrap_or_else(|e| {
            panic!(
                "`{}` printed unparsable JSON ({e}):\n{}\n{}",
                run.cmdline, run.stdout, run.stderr
            )
        })
    }
}

impl GoEnv {
    /// [`GoEnv::mod_download_nosumdb`] with more environment variables, set last (so they
    /// override the defaults, e.g. `GOINSECURE` for another forge host).
    pub fn mod_download_nosumdb_env(
        &self,
        specs: &[String],
        env: &[(&str, &str)],
    ) -> (GoRun, BTreeMap<String, Download>) {
        let mut args = vec!["mod", "download", "-json"];
        args.extend(specs.iter().map(String::as_str));
        let mut cmd = self.command_nosumdb(&args, &self.work);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = run_with_timeout(&mut cmd, GO_TIMEOUT);
        let run = GoRun {
            cmdline: format!(
                "[{}] GOPROXY={} GOSUMDB=off {} go {}",
                self.name,
                self.goproxy,
                env.iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(" "),
                args.join(" ")
            ),
            status: out.status,
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        let by_spec = downloads_by_spec(&run, specs);
        (run, by_spec)
    }
}

const CONSUMER_GO_MOD: &str =
    "module example.com/consumer\n\ngo 1.21\n\nrequire rsc.io/quote v1.5.2\n";
const CONSUMER_MAIN: &str = "package main\n\nimport (\n\t\"fmt\"\n\n\t\"rsc.io/quote\"\n)\n\n\
                             func main() {\n\tfmt.Println(quote.Hello())\n}\n";

impl GoEnv {
    /// A module importing rsc.io/quote in `dir`: `go mod tidy`, `go build` and a run of
    /// the binary. Returns the go.sum tidy wrote and what the program printed.
    pub fn build_quote_consumer(&self, dir: &Path) -> (Vec<u8>, String) {
        fs::create_dir_all(dir).expect("create consumer dir");
        fs::write(dir.join("go.mod"), CONSUMER_GO_MOD).expect("write go.mod");
        fs::write(dir.join("main.go"), CONSUMER_MAIN).expect("write main.go");
        self.run_in(&["mod", "tidy"], dir)
            .expect_success("consumer");
        self.run_in(&["build", "-o", "consumer", "."], dir)
            .expect_success("consumer");
        let out = Command::new(dir.join("consumer"))
            .env_clear()
            .output()
            .expect("run the consumer");
        assert!(out.status.success(), "the consumer binary failed: {out:?}");
        let sum = fs::read(dir.join("go.sum")).expect("go mod tidy writes go.sum");
        (sum, String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

/// The results of a `go mod download -json specs…` run, keyed by the spec each answers
/// (`path@query` for a query, `path@version` otherwise); panics when one is missing.
fn downloads_by_spec(run: &GoRun, specs: &[String]) -> BTreeMap<String, Download> {
    let objects = parse_json_stream(&run.stdout).unwrap_or_else(|e| {
        panic!(
            "`{}` printed unparsable JSON ({e}):\n{}\n{}",
            run.cmdline, run.stdout, run.stderr
        )
    });
    let mut by_spec = BTreeMap::new();
    for obj in objects {
        let d = Download::from_json(&obj);
        let key = match &d.query {
            Some(q) => format!("{}@{q}", d.path),
            None => format!("{}@{}", d.path, d.version),
        };
        by_spec.insert(key, d);
    }
    for spec in specs {
        assert!(
            by_spec.contains_key(spec),
            "`{}` printed no result for {spec} (exit {}):\nstdout:\n{}\nstderr:\n{}",
            run.cmdline,
            run.status,
            run.stdout,
            run.stderr
        );
    }
    by_spec
}
