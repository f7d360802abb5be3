#!/usr/bin/env bash
# Warm-cache serving benchmark: agora against nginx serving the identical
# files as static files, same machine, same run, alternating rounds, wrk as
# the client. Writes its section of docs/benchmarks.md (between the
# "serving" markers), leaving the other sections as they are.
#
#   bench/run.sh            # 3 rounds of 5 s per measurement
#   ROUNDS=5 DURATION=10 bench/run.sh
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5}
OUT=${OUT:-$ROOT/docs/benchmarks.md}
NGINX_PORT=${NGINX_PORT:-18088}
AGORA_PORT=${AGORA_PORT:-18089}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}

need() { command -v "$1" >/dev/null 2>&1; }
if ! need nginx || ! need wrk; then
    echo "== installing nginx and wrk"
    apt-get update -qq && apt-get install -y -qq nginx wrk >/dev/null
fi

echo "== building agora (release)"
cargo build --release -q -p agora --manifest-path "$ROOT/Cargo.toml"
AGORA="$CARGO_TARGET_DIR/release/agora"

WORK=$(mktemp -d)
cleanup() {
    [[ -n "${NGINX_PID:-}" ]] && kill "$NGINX_PID" 2>/dev/null || true
    [[ -n "${AGORA_PID:-}" ]] && kill "$AGORA_PID" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

MOD=example.com/bench/module
VER=v1.0.0
# The same bytes in both layouts: Athens' disk layout for agora, the GOPROXY
# file layout for nginx.
mkdir -p "$WORK/athens/$MOD/$VER" "$WORK/static/$MOD/@v"
head -c $((16 << 20)) /dev/urandom > "$WORK/athens/$MOD/$VER/source.zip"
printf '{"Version":"%s","Time":"2024-01-01T00:00:00Z"}' "$VER" > "$WORK/athens/$MOD/$VER/$VER.info"
printf 'module %s\n' "$MOD" > "$WORK/athens/$MOD/$VER/go.mod"
cp "$WORK/athens/$MOD/$VER/source.zip" "$WORK/static/$MOD/@v/$VER.zip"
cp "$WORK/athens/$MOD/$VER/$VER.info" "$WORK/static/$MOD/@v/$VER.info"

cat > "$WORK/nginx.conf" <<EOF
daemon off;
worker_processes 2;
user root;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 1024; }
http {
    include /etc/nginx/mime.types;
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    client_body_temp_path $WORK/ngx-body;
    proxy_temp_path $WORK/ngx-proxy;
    fastcgi_temp_path $WORK/ngx-fastcgi;
    uwsgi_temp_path $WORK/ngx-uwsgi;
    scgi_temp_path $WORK/ngx-scgi;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        root $WORK/static;
        location / { try_files \$uri =404; }
    }
}
EOF
nginx -c "$WORK/nginx.conf" &
NGINX_PID=$!

ATHENS_PORT=127.0.0.1:$AGORA_PORT ATHENS_STORAGE_TYPE=disk ATHENS_DISK_STORAGE_ROOT="$WORK/athens" \
    AGORA_DATA_DIR="$WORK/data" AGORA_GOPROXY=off ATHENS_LOG_LEVEL=warn \
    "$AGORA" serve >"$WORK/agora.log" 2>&1 &
AGORA_PID=$!

wait_up() {
    for _ in $(seq 200); do
        curl -sf -o /dev/null "$1" && return 0
        sleep 0.05
    done
    echo "not up: $1" >&2
    cat "$WORK"/*.log >&2
    exit 1
}
wait_up "http://127.0.0.1:$NGINX_PORT/$MOD/@v/$VER.info"
wait_up "http://127.0.0.1:$AGORA_PORT/$MOD/@v/$VER.info"
cmp <(curl -s "http://127.0.0.1:$NGINX_PORT/$MOD/@v/$VER.zip") <(curl -s "http://127.0.0.1:$AGORA_PORT/$MOD/@v/$VER.zip")

# wrk prints Requests/sec and Transfer/sec; normalise Transfer/sec to MB/s.
run_wrk() { # url connections -> "req_per_s mb_per_s"
    wrk -t1 -c"$2" -d"${DURATION}s" "$1" | awk '
        /Requests\/sec/ { rps = $2 }
        /Transfer\/sec/ {
            v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[A-Za-z]+/, "", v)
            if (u == "GB") v *= 1024; else if (u == "KB") v /= 1024; else if (u == "B") v /= 1048576
            mbs = v
        }
        END { printf "%.0f %.1f\n", rps, mbs }'
}

declare -a NI AI NZ AZ
for r in $(seq "$ROUNDS"); do
    echo "== round $r/$ROUNDS"
    read -r rps _ < <(run_wrk "http://127.0.0.1:$NGINX_PORT/$MOD/@v/$VER.info" 32); NI+=("$rps")
    read -r rps _ < <(run_wrk "http://127.0.0.1:$AGORA_PORT/$MOD/@v/$VER.info" 32); AI+=("$rps")
    read -r _ mbs < <(run_wrk "http://127.0.0.1:$NGINX_PORT/$MOD/@v/$VER.zip" 8); NZ+=("$mbs")
    read -r _ mbs < <(run_wrk "http://127.0.0.1:$AGORA_PORT/$MOD/@v/$VER.zip" 8); AZ+=("$mbs")
    echo "   info req/s nginx ${NI[-1]} agora ${AI[-1]}; zip MB/s nginx ${NZ[-1]} agora ${AZ[-1]}"
done
PEAK_KB=$(awk '/VmHWM/ { print $2 }' "/proc/$AGORA_PID/status")

median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
mni=$(median "${NI[@]}"); mai=$(median "${AI[@]}")
mnz=$(median "${NZ[@]}"); maz=$(median "${AZ[@]}")
ri=$(awk -v a="$mai" -v n="$mni" 'BEGIN { printf "%.2f", a / n }')
rz=$(awk -v a="$maz" -v n="$mnz" 'BEGIN { printf "%.2f", a / n }')
peak_mib=$(awk -v k="$PEAK_KB" 'BEGIN { printf "%.1f", k / 1024 }')
verdict() { awk -v r="$1" -v g="$2" 'BEGIN { print (r >= g) ? "meets" : "MISSES" }'; }
rss_verdict=$(awk -v m="$peak_mib" 'BEGIN { print (m <= 64) ? "meets" : "MISSES" }')

SECTION=$(mktemp)
{
    echo "<!-- serving:begin -->"
    echo "## Warm-cache serving against nginx (issue: protocol from disk)"
    echo
    echo "Generated by \`bench/run.sh\` on $(date -u +%Y-%m-%d) ($(nproc) cores, $(uname -m))."
    echo "agora (release build, disk storage, upstream off) and nginx $(nginx -v 2>&1 | sed 's/.*\///')"
    echo "(2 workers, sendfile, access log off) serve identical files on 127.0.0.1; wrk $(wrk -v 2>&1 | head -1 | awk '{print $2}') is"
    echo "the client on the same machine (\`-t1\`, 32 connections for .info, 8 for the zip, ${DURATION} s per"
    echo "measurement), and the rounds alternate nginx and agora. Figures are medians of $ROUNDS rounds."
    echo
    echo "| measurement | nginx | agora | agora / nginx | goal | result |"
    echo "|---|---|---|---|---|---|"
    echo "| \`.info\` requests/s | $mni | $mai | $ri | ≥ 0.80 | $(verdict "$ri" 0.8) |"
    echo "| 16 MiB \`.zip\` MB/s | $mnz | $maz | $rz | ≥ 0.90 | $(verdict "$rz" 0.9) |"
    echo "| agora peak RSS while serving zips | | ${peak_mib} MiB | | ≤ 64 MiB | $rss_verdict |"
    echo
    echo "Per round (nginx / agora): .info req/s $(for i in "${!NI[@]}"; do printf '%s/%s ' "${NI[$i]}" "${AI[$i]}"; done)·"
    echo "zip MB/s $(for i in "${!NZ[@]}"; do printf '%s/%s ' "${NZ[$i]}" "${AZ[$i]}"; done)"
    echo
    echo "Peak RSS is the kernel's high-water mark (VmHWM) for the agora process over the whole run."
    echo "<!-- serving:end -->"
} > "$SECTION"
# Replace this script's section, keeping whatever else the page holds.
python3 - "$OUT" "$SECTION" <<'PY'
import os, re, sys
out, section = sys.argv[1], open(sys.argv[2]).read().rstrip("\n") + "\n"
page = open(out).read() if os.path.exists(out) else "# Benchmarks\n\nEach section is written by the script it names; rerun it to refresh.\n"
pattern = re.compile(r"<!-- serving:begin -->.*?<!-- serving:end -->\n?", re.S)
page = pattern.sub(lambda _: section, page) if pattern.search(page) else page.rstrip("\n") + "\n\n" + section
open(out, "w").write(page)
PY
rm -f "$SECTION"
cat "$OUT"
