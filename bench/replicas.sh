#!/usr/bin/env bash
# Three agora replicas on one bucket under each single-flight lock: upstream fetches
# per version and the wait of waiting replicas (issue 10). See bench/replicas.py.
#
#   bench/replicas.sh
#   LOCKS="redis s3" ROUNDS=1 OUT=/tmp/b.md bench/replicas.sh   # a quick check
#
# Needs moto_server, redis-server and etcd (scripts/test.sh installs them), the go
# command's reference proxy (AGORA_TEST_CMDGO) and a built agora (AGORA_BIN, default
# the debug build in CARGO_TARGET_DIR or target/).
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
export AGORA_BIN="${AGORA_BIN:-$target/debug/agora}"
[ -x "$AGORA_BIN" ] || { echo "no agora at $AGORA_BIN: cargo build -p agora" >&2; exit 1; }
export AGORA_TEST_CMDGO="${AGORA_TEST_CMDGO:-$target/cmdgo.test}"
[ -x "$AGORA_TEST_CMDGO" ] || { echo "no reference proxy at $AGORA_TEST_CMDGO" >&2; exit 1; }
GOROOT="$(dirname "$(dirname "$(python3 -c 'import go,os;print(os.path.dirname(go.__file__))')/bin/go")")"
GOROOT="$("$GOROOT/bin/go" env GOROOT)"
export GOROOT
exec python3 bench/replicas.py
