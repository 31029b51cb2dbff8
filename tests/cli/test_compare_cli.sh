#!/bin/sh
# test_compare_cli.sh ACTLAB MKSHARDS — `actlab compare` end to end: the quick suite on synthetic shards
# writes a report with every section and a verdict line per claim; rerunning it is a no-op that
# rewrites the same report; its spec is a valid sweep covering E1-E5; usage and data errors are clear.
set -eu
ACTLAB=$1
MKSHARDS=$2
. "$(dirname "$0")/../testlib.sh"
test_tmpdir compare
mkdir -p "$DIR/data" && "$MKSHARDS" "$DIR/data" >/dev/null 2>&1

expect_status 0 "$ACTLAB" compare --help
grep -q "E1-E5" "$DIR/out.txt" || fail "compare --help does not describe the suite"
expect_status 2 "$ACTLAB" compare --bogus
expect_status 1 "$ACTLAB" compare --quick --data-dir "$DIR/nothing" --out "$DIR/x"
grep -q "actlab data" "$DIR/err.txt" || fail "missing data gives no hint"
[ ! -e "$DIR/x" ] || fail "a failed start created its folder"

# Phase 1 of every suite is a valid sweep: the tuning runs, E5 and the three E2 ladders.
for q in "" --quick --full; do
    "$ACTLAB" compare $q --print-spec --out "$DIR/none" >"$DIR/spec$q.json"
    expect_status 0 "$ACTLAB" sweep "$DIR/spec$q.json" --dry-run
    for e in tune E5 E2 E2.ctl E2.h16; do grep -q "\"$e\"" "$DIR/out.txt" || fail "suite$q phase 1 lacks $e"; done
done
expect_status 2 "$ACTLAB" compare --quick --full

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
# Phase 2 is in the plan: the paired comparisons at the tuned rates and the refined E2 rungs.
for e in E1.swiglu E3.polynorm E4 E2.powlu E2.powlu.ctl; do
    grep -q "\"$e\"" "$DIR/cq/plan.json" || fail "phase 2 lacks $e"
done
n=$(grep -c '"dir"' "$DIR/cq/plan.json")
[ "$(ls "$DIR/cq/runs" | wc -l)" = "$n" ] || fail "not every run of the plan has its folder"
[ "$(ls "$DIR/cq"/runs/*/run.json | wc -l)" = "$n" ] || fail "not every run finished"
# With phase 1 finished, --print-spec prints phase 2 (what the plan was made from).
"$ACTLAB" compare --quick --print-spec --out "$DIR/cq" >"$DIR/spec2.json"
grep -q '"E3.relu"' "$DIR/spec2.json" || fail "--print-spec after phase 1 does not print phase 2"
cp "$R" "$DIR/first.md"
expect_status 0 "$ACTLAB" compare --quick --data-dir "$DIR/data" --out "$DIR/cq" --no-figures
cmp -s "$R" "$DIR/first.md" || fail "rerunning a finished compare changed the report"
grep -q "nothing to do" "$DIR/err.txt" || fail "rerunning a finished compare trained again"
echo "compare CLI: OK"
