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
# One version per zip size, the same bytes in both layouts: Athens' disk
# layout for agora, the GOPROXY file layout for nginx. v1.0.0 is 16 MiB,
# v1.1.0 200 KiB (the common module size), v1.2.0 4 KiB.
SMALL=v1.1.0
TINY=v1.2.0
mkdir -p "$WORK/static/$MOD/@v"
for pair in "$VER:$((16 << 20))" "$SMALL:$((200 << 10))" "$TINY:4096"; do
    v=${pair%%:*} size=${pair#*:}
    mkdir -p "$WORK/athens/$MOD/$v"
    head -c "$size" /dev/urandom > "$WORK/athens/$MOD/$v/source.zip"
    printf '{"Version":"%s","Time":"2024-01-01T00:00:00Z"}' "$v" > "$WORK/athens/$MOD/$v/$v.info"
    printf 'module %s\n' "$MOD" > "$WORK/athens/$MOD/$v/go.mod"
    cp "$WORK/athens/$MOD/$v/source.zip" "$WORK/static/$MOD/@v/$v.zip"
    cp "$WORK/athens/$MOD/$v/$v.info" "$WORK/static/$MOD/@v/$v.info"
done

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
for v in "$VER" "$SMALL" "$TINY"; do
    cmp <(curl -s "http://127.0.0.1:$NGINX_PORT/$MOD/@v/$v.zip") <(curl -s "http://127.0.0.1:$AGORA_PORT/$MOD/@v/$v.zip")
done

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

# p50 latency of sequential requests on one kept-alive connection, in ms.
run_p50() { # url
    wrk -t1 -c1 -d"${DURATION}s" --latency "$1" | awk '
        $1 == "50%" {
            v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+/, "", v)
            if (u == "us") v /= 1000; else if (u == "s") v *= 1000
            printf "%.3f\n", v
        }'
}

# CPU seconds (user + system) a set of processes has used so far.
cpu_secs() { # pid...
    local tck; tck=$(getconf CLK_TCK)
    for p in "$@"; do awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null; done |
        awk -v t="$tck" '{ s += $1 } END { printf "%.3f\n", s / t }'
}
nginx_pids() { echo "$NGINX_PID" $(pgrep -P "$NGINX_PID" || true); }

# CPU seconds per GB served while wrk fetches `url` at 32 connections.
# Prints "req_per_s mb_per_s cpu_s_per_gb".
run_cpu() { # url pids...
    local url=$1; shift
    local before after out
    before=$(cpu_secs "$@")
    out=$(run_wrk "$url" 32)
    after=$(cpu_secs "$@")
    awk -v o="$out" -v b="$before" -v a="$after" -v d="$DURATION" 'BEGIN {
        split(o, f, " "); gb = f[2] * d / 1024
        printf "%s %s %.2f\n", f[1], f[2], (gb > 0) ? (a - b) / gb : 0 }'
}

declare -a NI AI NT AT NS AS NC AC NZ AZ NZ32 AZ32 NL AL
for r in $(seq "$ROUNDS"); do
    echo "== round $r/$ROUNDS"
    N=http://127.0.0.1:$NGINX_PORT/$MOD/@v A=http://127.0.0.1:$AGORA_PORT/$MOD/@v
    read -r rps _ < <(run_wrk "$N/$VER.info" 32); NI+=("$rps")
    read -r rps _ < <(run_wrk "$A/$VER.info" 32); AI+=("$rps")
    read -r rps _ < <(run_wrk "$N/$TINY.zip" 32); NT+=("$rps")
    read -r rps _ < <(run_wrk "$A/$TINY.zip" 32); AT+=("$rps")
    read -r rps _ cpu < <(run_cpu "$N/$SMALL.zip" $(nginx_pids)); NS+=("$rps"); NC+=("$cpu")
    read -r rps _ cpu < <(run_cpu "$A/$SMALL.zip" "$AGORA_PID"); AS+=("$rps"); AC+=("$cpu")
    read -r _ mbs < <(run_wrk "$N/$VER.zip" 8); NZ+=("$mbs")
    read -r _ mbs < <(run_wrk "$A/$VER.zip" 8); AZ+=("$mbs")
    read -r _ mbs < <(run_wrk "$N/$VER.zip" 32); NZ32+=("$mbs")
    read -r _ mbs < <(run_wrk "$A/$VER.zip" 32); AZ32+=("$mbs")
    NL+=("$(run_p50 "$N/$TINY.zip")"); AL+=("$(run_p50 "$A/$TINY.zip")")
    echo "   info req/s nginx ${NI[-1]} agora ${AI[-1]}; 4 KiB zip req/s ${NT[-1]}/${AT[-1]};" \
        "200 KiB zip req/s ${NS[-1]}/${AS[-1]} (CPU s/GB ${NC[-1]}/${AC[-1]});" \
        "16 MiB zip MB/s ${NZ[-1]}/${AZ[-1]} (32 conns ${NZ32[-1]}/${AZ32[-1]});" \
        "keep-alive p50 ms ${NL[-1]}/${AL[-1]}"
done
PEAK_KB=$(awk '/VmHWM/ { print $2 }' "/proc/$AGORA_PID/status")

median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v n="$2" 'BEGIN { printf "%.2f", (n > 0) ? a / n : 0 }'; }
mni=$(median "${NI[@]}"); mai=$(median "${AI[@]}"); ri=$(ratio "$mai" "$mni")
mnt=$(median "${NT[@]}"); mat=$(median "${AT[@]}"); rt=$(ratio "$mat" "$mnt")
mns=$(median "${NS[@]}"); mas=$(median "${AS[@]}"); rs=$(ratio "$mas" "$mns")
mnc=$(median "${NC[@]}"); mac=$(median "${AC[@]}"); rc=$(ratio "$mac" "$mnc")
mnz=$(median "${NZ[@]}"); maz=$(median "${AZ[@]}"); rz=$(ratio "$maz" "$mnz")
mnz32=$(median "${NZ32[@]}"); maz32=$(median "${AZ32[@]}"); rz32=$(ratio "$maz32" "$mnz32")
mnl=$(median "${NL[@]}"); mal=$(median "${AL[@]}"); rl=$(ratio "$mal" "$mnl")
peak_mib=$(awk -v k="$PEAK_KB" 'BEGIN { printf "%.1f", k / 1024 }')
verdict() { awk -v r="$1" -v g="$2" 'BEGIN { print (r >= g) ? "meets" : "MISSES" }'; }
at_most() { awk -v r="$1" -v g="$2" 'BEGIN { print (r <= g) ? "meets" : "MISSES" }'; }
row_list() { # name array-of-nginx array-of-agora
    local -n n=$2 a=$3
    printf '%s ' "$1"; for i in "${!n[@]}"; do printf '%s/%s ' "${n[$i]}" "${a[$i]}"; done
}

SECTION=$(mktemp)
{
    echo "<!-- serving:begin -->"
    echo "## Warm-cache serving against nginx (issues: protocol from disk, small zips, hostile clients)"
    echo
    echo "Generated by \`bench/run.sh\` on $(date -u +%Y-%m-%d) ($(nproc) cores, $(uname -m)), commit $(git -C "$ROOT" rev-parse --short HEAD)."
    echo "agora (release build, default settings, disk storage, upstream off) and nginx $(nginx -v 2>&1 | sed 's/.*\///')"
    echo "(2 workers, sendfile, access log off) serve identical files on 127.0.0.1; wrk $(wrk -v 2>&1 | head -1 | awk '{print $2}') is"
    echo "the client on the same machine (\`-t1\`, ${DURATION} s per measurement, connections as named), and"
    echo "the rounds alternate nginx and agora. Figures are medians of $ROUNDS rounds."
    echo
    echo "| measurement | nginx | agora | agora / nginx | goal | result |"
    echo "|---|---|---|---|---|---|"
    echo "| \`.info\` requests/s, 32 connections | $mni | $mai | $ri | ≥ 0.80 | $(verdict "$ri" 0.8) |"
    echo "| 4 KiB \`.zip\` requests/s, 32 connections | $mnt | $mat | $rt | ≥ 0.90 | $(verdict "$rt" 0.9) |"
    echo "| 200 KiB \`.zip\` requests/s, 32 connections | $mns | $mas | $rs | ≥ 0.90 | $(verdict "$rs" 0.9) |"
    echo "| CPU seconds per GB served (200 KiB zips, 32 connections) | $mnc | $mac | $rc | ≤ 1.20 | $(at_most "$rc" 1.2) |"
    echo "| 16 MiB \`.zip\` MB/s, 8 connections | $mnz | $maz | $rz | ≥ 0.90 | $(verdict "$rz" 0.9) |"
    echo "| 16 MiB \`.zip\` MB/s, 32 connections | $mnz32 | $maz32 | $rz32 | | |"
    echo "| 4 KiB \`.zip\` p50 latency on one kept-alive connection, ms | $mnl | $mal | $rl | | |"
    echo "| agora peak RSS over the run (32 clients downloading zips) | | ${peak_mib} MiB | | ≤ 48 MiB | $(at_most "$peak_mib" 48) |"
    echo
    echo "Per round (nginx/agora): $(row_list '.info req/s' NI AI)· $(row_list '4 KiB zip req/s' NT AT)·"
    echo "$(row_list '200 KiB zip req/s' NS AS)· $(row_list 'CPU s/GB' NC AC)·"
    echo "$(row_list '16 MiB zip MB/s' NZ AZ)· $(row_list '32 connections' NZ32 AZ32)· $(row_list 'p50 ms' NL AL)"
    echo
    echo "CPU is user plus system time from /proc (nginx: master and workers) over the 200 KiB run,"
    echo "divided by the bytes wrk received. Peak RSS is the kernel's high-water mark (VmHWM) for the"
    echo "agora process over the whole run."
    echo "<!-- serving:end -->"
} > "$SECTION"
python3 "$ROOT/bench/section.py" serving "$OUT" "$SECTION"
rm -f "$SECTION"
cat "$OUT"
