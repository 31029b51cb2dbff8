#!/bin/sh
# test_compare_cli.sh ACTLAB MKSHARDS — `actlab compare` end to end: the quick suite on synthetic shards
# writes a report with every section and a verdict line per claim; rerunning it is a no-op that
# rewrites the same report; its spec is a valid sweep covering E1-E5; usage and data errors are clear.
set -eu
ACTLAB=$1
MKSHARDS=$2
DIR=$(mktemp -d "${TMPDIR:-/tmp}/actlab_compare_XXXXXX")
trap 'rm -rf "$DIR"' EXIT
. "$(dirname "$0")/../testlib.sh"
mkdir -p "$DIR/data" && "$MKSHARDS" "$DIR/data" >/dev/null 2>&1

expect_status 0 "$ACTLAB" compare --help
grep -q "E1-E5" "$DIR/out.txt" || fail "compare --help does not describe the suite"
expect_status 2 "$ACTLAB" compare --bogus
expect_status 1 "$ACTLAB" compare --quick --data-dir "$DIR/nothing" --out "$DIR/x"
grep -q "actlab data" "$DIR/err.txt" || fail "missing data gives no hint"
[ ! -e "$DIR/x" ] || fail "a failed start created its folder"

# The suites are valid sweeps: 45 and 33 runs, every claim present.
for q in "" --quick; do
    "$ACTLAB" compare $q --print-spec >"$DIR/spec$q.json"
    expect_status 0 "$ACTLAB" sweep "$DIR/spec$q.json" --dry-run
    for e in E1 E2 E3 E4 E5; do grep -q "\"$e\"" "$DIR/out.txt" || fail "suite$q lacks $e"; done
    cp "$DIR/out.txt" "$DIR/plan$q.json"
done
[ "$(grep -c '"dir"' "$DIR/plan.json")" = 45 ] || fail "the full suite is not 45 runs"
[ "$(grep -c '"dir"' "$DIR/plan--quick.json")" = 33 ] || fail "the quick suite is not 33 runs"

# The quick suite for real (synthetic data: the verdicts mean nothing, the plumbing is what is tested).
expect_status 0 "$ACTLAB" compare --quick --data-dir "$DIR/data" --out "$DIR/cq" --no-figures
grep -q "report: $DIR/cq/report.md" "$DIR/out.txt" || fail "compare does not print the report's path"
R="$DIR/cq/report.md"
for h in "## 1. Runs overview" "## 3. Validation loss" "## 4. E1" "## 5. E2" "## 6. E3" "## 7. E4" "## 8. E5" "## 9. Verdicts"; do
    grep -q "^$h" "$R" || fail "report lacks '$h'"
done
for e in E1 E2 E3 E4 E5; do
    grep -qE "^- $e: (reproduced|not reproduced|inconclusive)" "$R" || fail "no verdict line for $e"
done
[ "$(ls "$DIR/cq/runs" | wc -l)" = 33 ] || fail "not every run has its folder"
[ "$(ls "$DIR/cq"/runs/*/run.json | wc -l)" = 33 ] || fail "not every run finished"
cp "$R" "$DIR/first.md"
expect_status 0 "$ACTLAB" compare --quick --data-dir "$DIR/data" --out "$DIR/cq" --no-figures
cmp -s "$R" "$DIR/first.md" || fail "rerunning a finished compare changed the report"
grep -q "nothing to do" "$DIR/err.txt" || fail "rerunning a finished compare trained again"
echo "compare CLI: OK"
