#!/usr/bin/env bash
# Soak test: DURATION seconds (default 600) of mixed traffic at saturation
# against a release agora on loopback, sampling its memory and threads every
# INTERVAL seconds. Writes its section of docs/benchmarks.md (between the
# "soak" markers), leaving the other sections as they are.
#
#   bench/soak.sh                  # 10 minutes
#   DURATION=60 bench/soak.sh      # a quick look
#   UPSTREAM=off bench/soak.sh     # no upstream: misses are answered locally
#
# Traffic, all at once for the whole run:
#   hits    wrk, 16 connections: .info, .mod, small and 200 KiB zips,
#           list and @latest of stored modules (these also ask upstream,
#           which does not know them): all must answer 200;
#   misses  wrk, 8 connections: a new module name on every request (list,
#           .info, @latest), unknown versions, version queries, unknown
#           endpoints: all must answer 404;
#   bad     wrk, 8 connections: malformed paths, escapes and versions, an
#           over-long path, a query for a .zip: all must answer 400;
#   cancel  a curl loop downloading a 16 MiB zip and hanging up midway
#           (timeout, or the reader closing), with every tenth download of the
#           200 KiB zip completed and compared with the stored bytes.
# The upstream is the go command's reference proxy (cmdgo.test, as the e2e
# tests use; AGORA_TEST_CMDGO or $CARGO_TARGET_DIR/cmdgo.test) when it is
# there, else `off`.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${DURATION:-600}
INTERVAL=${INTERVAL:-10}
OUT=${OUT:-$ROOT/docs/benchmarks.md}
AGORA_PORT=${AGORA_PORT:-18091}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}

need() { command -v "$1" >/dev/null 2>&1; }
if ! need wrk || ! need curl; then
    echo "== installing wrk and curl"
    apt-get update -qq && apt-get install -y -qq wrk curl >/dev/null
fi

echo "== building agora (release)"
cargo build --release -q -p agora --manifest-path "$ROOT/Cargo.toml"
AGORA="$CARGO_TARGET_DIR/release/agora"

WORK=$(mktemp -d)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

# Stored modules in Athens' disk layout. The server streams stored bytes as
# they are, so random bytes stand in for the zips.
store() { # module version zip-bytes
    local d="$WORK/athens/$1/$2"
    mkdir -p "$d"
    head -c "$3" /dev/urandom >"$d/source.zip"
    printf '{"Version":"%s","Time":"2024-01-01T00:00:00Z"}' "$2" >"$d/$2.info"
    printf 'module %s\n\ngo 1.21\n' "$1" >"$d/go.mod"
}
for v in v1.0.0 v1.0.1 v1.1.0 v1.2.0-rc.1; do store example.com/soak/small "$v" 4096; done
store example.com/soak/mid v1.0.0 $((200 << 10))
store example.com/soak/big v1.0.0 $((16 << 20))
store github.com/Soak/Upper v0.1.0 1024

# The upstream.
UPSTREAM=${UPSTREAM:-}
CMDGO=${AGORA_TEST_CMDGO:-$CARGO_TARGET_DIR/cmdgo.test}
GOROOT=${GOROOT:-$(python3 -c 'import go,os;print(os.path.dirname(go.__file__))' 2>/dev/null || true)}
if [[ -z $UPSTREAM && -x $CMDGO && -d $GOROOT/src/cmd/go ]]; then
    (cd "$GOROOT/src/cmd/go" && GOROOT=$GOROOT PATH="$GOROOT/bin:$PATH" exec "$CMDGO" -proxy=127.0.0.1:0) \
        >/dev/null 2>"$WORK/refproxy.log" &
    PIDS+=($!)
    for _ in $(seq 600); do
        UPSTREAM=$(sed -n 's/.*GOPROXY=\(http[^ ]*\).*/\1/p' "$WORK/refproxy.log" | head -1)
        [[ -n $UPSTREAM ]] && break
        sleep 0.1
    done
    [[ -n $UPSTREAM ]] || { echo "the reference proxy did not start:" >&2; cat "$WORK/refproxy.log" >&2; exit 1; }
    UPSTREAM_DESC="the go command's reference proxy (cmdgo.test) on loopback"
else
    UPSTREAM=${UPSTREAM:-off}
    UPSTREAM_DESC="\`$UPSTREAM\`"
fi
echo "== upstream: $UPSTREAM"

AGORA_LISTEN=127.0.0.1:$AGORA_PORT AGORA_STORAGE_TYPE=disk AGORA_DISK_STORAGE_ROOT="$WORK/athens" \
    AGORA_DATA_DIR="$WORK/data" AGORA_GOPROXY="$UPSTREAM" AGORA_LOG_LEVEL=warn AGORA_SUMDB_VERIFY=false \
    "$AGORA" serve >"$WORK/agora.log" 2>&1 &
AGORA_PID=$!
PIDS+=("$AGORA_PID")
BASE=http://127.0.0.1:$AGORA_PORT
for _ in $(seq 200); do
    curl -sf -o /dev/null "$BASE/healthz" && break
    sleep 0.05
done

# Requests, one file per expected status.
S=example.com/soak/small
cat >"$WORK/hits" <<EOF2
/$S/@v/v1.0.0.info
/$S/@v/v1.0.1.mod
/$S/@v/v1.1.0.zip
/$S/@v/v1.2.0-rc.1.info
/example.com/soak/mid/@v/v1.0.0.zip
/$S/@v/list
/$S/@latest
/github.com/!soak/!upper/@v/v0.1.0.info
/github.com/!soak/!upper/@v/v0.1.0.zip
/example.com/soak/mid/@v/v1.0.0.mod
EOF2
cat >"$WORK/misses" <<EOF2
/example.com/miss/m{n}/@v/list
/example.com/miss/m{n}/@v/v1.0.0.info
/example.com/miss/m{n}/@latest
/example.com/miss/m{n}/v2/@v/v2.0.0.zip
/$S/@v/v1.9.{n}.zip
/$S/@v/v1.0.0-20240101000000-abcdefabcdef.mod
/$S/@v/master.info
/$S/@v/v1.info
/no/such/endpoint/{n}
/$S/@v/v1.0.0.tar
/example.com/m/@v/v1.0.0.mod/x/@v/list
EOF2
LONG=$(head -c 5000 /dev/zero | tr '\0' 'a')
cat >"$WORK/bad" <<EOF2
/example.com/Upper/@v/list
/a%zz/@v/list
/example.com/m/@v/v1.0.0%ff.info
/example.com/m/@v/!!.info
/-x.example.com/m/@latest
/example.com/m/@v/master.zip
/example.com//m/@v/v1.0.0.info
/example.com/m/@v/..%2F..%2Fetc.info
/$LONG/@v/list
/example.com/m/@v/v1.0.0-{n}!.info
EOF2

# Sanity: every request answers as the files say before the clock starts.
for f in hits:200 misses:404 bad:400; do
    file=${f%%:*} want=${f##*:}
    while read -r line; do
        how=() path=$line
        [[ $line == HEAD\ * ]] && how=(--head) path=${line#HEAD }
        path=${path//\{n\}/0}
        got=$(curl -s -o /dev/null -w '%{http_code}' "${how[@]}" --max-time 30 "$BASE$path")
        [[ $got == "$want" ]] || { echo "${how[*]} ${path:0:80}: $got, want $want" >&2; cat "$WORK/agora.log" >&2; exit 1; }
    done <"$WORK/$file"
done

rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$AGORA_PID/status"; }
threads() { awk '/^Threads/ { print $2 }' "/proc/$AGORA_PID/status"; }
fds() { find "/proc/$AGORA_PID/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$AGORA_PID/stat"; }
TICKS=$(getconf CLK_TCK)

echo "== soaking for ${DURATION}s (samples every ${INTERVAL}s)"
START=$(date +%s)
END=$((START + DURATION))
run_wrk() { # name connections expected
    wrk -t1 -c"$2" -d"${DURATION}s" --timeout 10s -s "$ROOT/bench/soak.lua" "$BASE" -- "$3" "$WORK/$1" \
        >"$WORK/wrk-$1.log" 2>&1
}
LOAD=()
run_wrk hits 16 200 &
LOAD+=($!)
run_wrk misses 8 404 &
LOAD+=($!)
run_wrk bad 8 400 &
LOAD+=($!)

# Cancelled downloads: curl's exit 28 is its own timeout, 23 (and 56 for
# the connection reset) the reader having gone away; anything else is an
# error, as is a completed download with the wrong bytes.
(
    big=$BASE/example.com/soak/big/@v/v1.0.0.zip
    mid=$BASE/example.com/soak/mid/@v/v1.0.0.zip
    want=$(sha256sum "$WORK/athens/example.com/soak/mid/v1.0.0/source.zip" | cut -d' ' -f1)
    attempts=0 cancelled=0 verified=0 errors=0
    while [[ $(date +%s) -lt $END ]]; do
        attempts=$((attempts + 1))
        if ((attempts % 2)); then
            rc=0
            curl -s -o /dev/null --max-time 0.05 --limit-rate 20M "$big" || rc=$?
        else
            rc=0
            set +o pipefail
            curl -s "$big" | head -c 65536 >/dev/null
            rc=${PIPESTATUS[0]}
            set -o pipefail
        fi
        case $rc in
            28 | 23 | 56) cancelled=$((cancelled + 1)) ;;
            0) errors=$((errors + 1)); echo "a cancelled download completed" >>"$WORK/cancel-errors" ;;
            *) errors=$((errors + 1)); echo "curl exit $rc" >>"$WORK/cancel-errors" ;;
        esac
        if ((attempts % 10 == 0)); then
            got=$(curl -s --max-time 30 "$mid" | sha256sum | cut -d' ' -f1)
            if [[ $got == "$want" ]]; then verified=$((verified + 1)); else
                errors=$((errors + 1))
                echo "200 KiB zip came back with other bytes" >>"$WORK/cancel-errors"
            fi
        fi
    done
    echo "$attempts $cancelled $verified $errors" >"$WORK/cancel.result"
) &
LOAD+=($!)
PIDS+=("${LOAD[@]}")

# Samples: seconds, RSS KiB, threads, open fds, CPU % of one core since the
# previous sample.
: >"$WORK/samples"
prev=$(cpu_ticks)
t=0
echo "$t $(rss_kb) $(threads) $(fds) 0" >>"$WORK/samples"
while [[ $(date +%s) -lt $END ]]; do
    sleep "$INTERVAL"
    t=$(($(date +%s) - START))
    kill -0 "$AGORA_PID" 2>/dev/null || { echo "agora died" >&2; cat "$WORK/agora.log" >&2; exit 1; }
    now=$(cpu_ticks)
    cpu=$(((now - prev) * 100 / TICKS / INTERVAL))
    prev=$now
    echo "$t $(rss_kb) $(threads) $(fds) $cpu" | tee -a "$WORK/samples"
done
wait "${LOAD[@]}" 2>/dev/null || true

# After the load: still serving, and what memory settles at when idle.
sleep 5
after_ok=$(curl -s -o /dev/null -w '%{http_code}' "$BASE/$S/@v/v1.0.0.info")
idle_kb=$(rss_kb)
idle_threads=$(threads)
idle_fds=$(fds)
hwm_kb=$(awk '/^VmHWM/ { print $2 }' "/proc/$AGORA_PID/status")
log_warn=$(grep -c -E ' (WARN|ERROR) ' "$WORK/agora.log" || true)
panics=$(grep -c -i 'panicked' "$WORK/agora.log" || true)

field() { sed -n "s/.*[ ]$2=\([^ ]*\).*/\1/p" "$WORK/wrk-$1.log" | head -1; }
statuses() { sed -n 's/.*statuses=\[\([^]]*\)\].*/\1/p' "$WORK/wrk-$1.log" | head -1; }
read -r c_attempts c_cancelled c_verified c_errors <"$WORK/cancel.result"
for f in hits misses bad; do grep -q '^SOAK ' "$WORK/wrk-$f.log" || { echo "wrk $f failed:" >&2; cat "$WORK/wrk-$f.log" >&2; exit 1; }; done

mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
# Flat: after the first minute (warm-up: pools, caches and buffers reach
# their working size), the last third's mean RSS is within 10 % of the
# second minute's.
read -r warm_kb late_kb min_kb max_kb < <(awk -v d="$DURATION" '
    $1 >= 60 && $1 < 120 { w += $2; nw++ }
    $1 >= d * 2 / 3 { l += $2; nl++ }
    $1 >= 60 { if (min == "" || $2 < min) min = $2; if ($2 > max) max = $2 }
    END {
        if (!nw) { w = 0; nw = 1 } if (!nl) { l = 0; nl = 1 }
        printf "%d %d %d %d\n", w / nw, l / nl, min, max
    }' "$WORK/samples")
flat=$(awk -v w="$warm_kb" -v l="$late_kb" 'BEGIN { print (w > 0 && l <= w * 1.10) ? "flat" : "NOT FLAT" }')
total_unexpected=$(($(field hits unexpected) + $(field misses unexpected) + $(field bad unexpected)))
sock_errors() { echo $(($(field "$1" connect) + $(field "$1" read) + $(field "$1" write) + $(field "$1" timeout))); }

SECTION=$(mktemp)
{
    echo "<!-- soak:begin -->"
    echo "## Soak: mixed traffic at saturation (issue 9)"
    echo
    echo "Generated by \`bench/soak.sh\` on $(date -u +%Y-%m-%d) ($(nproc) cores, $(uname -m)), agora $(git -C "$ROOT" rev-parse --short HEAD)"
    echo "(release build, disk storage, log level warn, upstream: $UPSTREAM_DESC)."
    echo "For ${DURATION} s, all at once on 127.0.0.1: three wrk $(wrk -v 2>&1 | head -1 | awk '{print $2}') clients (\`-t1\`) cycling over"
    echo "hits (16 connections; stored .info, .mod, zips of 4 KiB and 200 KiB, list and"
    echo "@latest of stored modules, which also ask upstream), misses (8 connections; a new module name on"
    echo "every request, unknown versions, version queries, unknown endpoints) and bad input (8"
    echo "connections; broken escapes, upper case, invalid UTF-8, a 5000-byte path, a query for a .zip),"
    echo "and a curl loop downloading a 16 MiB zip and hanging up midway (timeout or closed reader), every"
    echo "tenth round also downloading the 200 KiB zip whole and comparing its bytes."
    echo
    echo "| traffic | requests | requests/s | answers other than expected | socket errors | p50 ms | p99 ms |"
    echo "|---|---|---|---|---|---|---|"
    for f in hits:200 misses:404 bad:400; do
        name=${f%%:*} want=${f##*:}
        req=$(field "$name" requests)
        echo "| $name (expect $want) | $req | $((req / DURATION)) | $(field "$name" unexpected) $(statuses "$name" | sed 's/^\(.\)/(\1/; s/\(.\)$/\1)/') | $(sock_errors "$name") | $(field "$name" p50_ms) | $(field "$name" p99_ms) |"
    done
    echo "| cancelled downloads | $c_attempts | $((c_attempts / DURATION)) | $c_errors errors; $c_cancelled hung up as meant, $c_verified full downloads verified | | | |"
    echo
    echo "Memory and threads of the agora process (VmRSS, Threads, open descriptors from /proc; CPU in"
    echo "% of one core over the previous interval), every 60 s of the ${INTERVAL}-s samples:"
    echo
    echo "| s | RSS MiB | threads | fds | CPU % |"
    echo "|---|---|---|---|---|"
    awk '$1 % 60 < '"$INTERVAL"' || NR == 1 { printf "| %d | %.1f | %d | %d | %d |\n", $1, $2 / 1024, $3, $4, $5 }' "$WORK/samples"
    echo
    echo "RSS after the first minute: min $(mib "$min_kb") MiB, max $(mib "$max_kb") MiB; mean over 60–120 s"
    echo "$(mib "$warm_kb") MiB, over the last third $(mib "$late_kb") MiB: **$flat** (flat means the"
    echo "last third is within 10 % of the second minute). Peak RSS (VmHWM) $(mib "$hwm_kb") MiB. Idle 5 s after"
    echo "the load: RSS $(mib "$idle_kb") MiB, $idle_threads threads, $idle_fds fds; a stored .info then answered $after_ok."
    echo "agora logged $log_warn warnings or errors and $panics panics; $total_unexpected unexpected statuses in all."
    echo
    echo "All ${INTERVAL}-s samples (s:RSS MiB/threads):"
    awk '{ printf "%d:%.1f/%d ", $1, $2 / 1024, $3 } END { print "" }' "$WORK/samples"
    echo "<!-- soak:end -->"
} >"$SECTION"
python3 "$ROOT/bench/section.py" soak "$OUT" "$SECTION"
rm -f "$SECTION"
cat "$WORK/cancel-errors" 2>/dev/null | sort | uniq -c | head || true
[[ $log_warn -gt 0 ]] && { echo "== agora warnings (first 10 distinct):"; grep -E ' (WARN|ERROR) ' "$WORK/agora.log" | sed 's/^[^ ]* //' | sort | uniq -c | sort -rn | head -10; }
sed -n '/<!-- soak:begin -->/,/<!-- soak:end -->/p' "$OUT"
