#!/usr/bin/env bash
# Checks that catch drift between the code and what is written about it. Run by
# scripts/test.sh; exits non-zero naming every problem found.
#
# - every crate under crates/ has a row in docs/architecture.md's crate table, and every
#   row names a crate that exists;
# - every crate's root file opens with a //! doc (what the crate owns);
# - a crate row's "depends on `x` only" (or "on no agora crate") matches its Cargo.toml;
# - commit subjects since the rule was adopted are at most 72 characters (details go in
#   the body).
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
fail=0
problem() { printf 'check-tree: %s\n' "$*" >&2; fail=1; }

for dir in crates/*/; do
    name=$(basename "$dir")
    grep -q "^| \`$name\` |" docs/architecture.md || problem "docs/architecture.md has no row for crate $name"
    root=""
    for f in "$dir/src/lib.rs" "$dir/src/main.rs"; do
        [ -f "$f" ] && { root=$f; break; }
    done
    if [ -z "$root" ]; then
        # Test-only crates (agora-e2e) have no src/; their tests carry their docs.
        [ -d "$dir/tests" ] || problem "crate $name has neither src/lib.rs, src/main.rs nor tests/"
    elif ! grep -m1 -v '^\s*$' "$root" | grep -q '^//!'; then
        problem "$root does not open with a //! doc saying what the crate owns"
    fi
done
while read -r row; do
    [ -d "crates/$row" ] || problem "docs/architecture.md lists crate $row, which does not exist"
done < <(sed -n 's/^| `\(agora[a-z-]*\)` |.*/\1/p' docs/architecture.md)

# "depends on `x` only" / "depends on no agora crate" in a crate's row must match the
# agora crates its Cargo.toml [dependencies] name.
python3 - <<'PY' || fail=1
import pathlib, re, sys
rows = {}
for line in pathlib.Path("docs/architecture.md").read_text().splitlines():
    m = re.match(r"^\| `(agora[a-z-]*)` \|(.*)", line)
    if m:
        rows[m.group(1)] = m.group(2)
bad = False
for name, text in rows.items():
    toml = pathlib.Path("crates", name, "Cargo.toml")
    if not toml.exists():
        continue
    deps, section = set(), None
    for l in toml.read_text().splitlines():
        if l.startswith("["):
            section = l.strip()
        elif section == "[dependencies]":
            m = re.match(r"^(agora[a-z-]*)\b", l)
            if m:
                deps.add(m.group(1))
    claim = None
    if "depends on no agora crate" in text:
        claim = set()
    else:
        m = re.search(r"depends on ((?:`agora[a-z-]*`(?:,? (?:and )?)?)+) only", text)
        if m:
            claim = set(re.findall(r"`(agora[a-z-]*)`", m.group(1)))
    if claim is not None and claim != deps:
        print(f"check-tree: docs/architecture.md says {name} depends on {sorted(claim) or 'no agora crate'}, "
              f"its Cargo.toml says {sorted(deps)}", file=sys.stderr)
        bad = True
sys.exit(1 if bad else 0)
PY

# Subjects of commits made on top of this check (their authors could run it); earlier
# history, and branches that had not yet merged it, are left as they are.
ADDED=$(git log --diff-filter=A --format=%h -- scripts/check-tree.sh 2>/dev/null | tail -n 1)
if [ -n "$ADDED" ]; then
    while IFS= read -r line; do
        hash=${line%% *} subject=${line#* }
        [ "${#subject}" -le 72 ] || problem "commit $hash: subject is ${#subject} characters (at most 72): $subject"
    done < <(git log --no-merges --ancestry-path --format='%h %s' "$ADDED..HEAD")
fi

[ "$fail" = 0 ] && echo "check-tree: docs name every crate, every crate says what it owns, commit subjects fit"
exit "$fail"
