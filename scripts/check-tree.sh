#!/usr/bin/env bash
# Checks that catch drift between the code and what is written about it. Run by
# scripts/test.sh; exits non-zero naming every problem found.
#
# - every crate under crates/ has a row in docs/architecture.md's crate table, and every
#   row names a crate that exists;
# - every crate's root file opens with a //! doc (what the crate owns);
# - docs/architecture.md's "depends on" claims are not checked by hand: the dependency
#   graph is printed by `cargo tree --workspace --depth 1 -e normal`;
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

# Subjects of commits made since this check was added (earlier history is left as it is).
ADDED=$(git log --diff-filter=A --format=%h -- scripts/check-tree.sh 2>/dev/null | tail -n 1)
if [ -n "$ADDED" ]; then
    since=$(git log -1 --format=%cI "$ADDED")
    while IFS= read -r line; do
        hash=${line%% *} subject=${line#* }
        [ "${#subject}" -le 72 ] || problem "commit $hash: subject is ${#subject} characters (at most 72): $subject"
    done < <(git log --no-merges --since="$since" --format='%h %s' HEAD)
fi

[ "$fail" = 0 ] && echo "check-tree: docs name every crate, every crate says what it owns, commit subjects fit"
exit "$fail"
