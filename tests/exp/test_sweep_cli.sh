#!/bin/sh
# test_sweep_cli.sh ACTLAB MKSHARDS — `actlab sweep` end to end: a tiny grid to completion; the same
# grid killed (SIGKILL) midway and rerun, and interrupted (SIGTERM) and rerun, must give byte-identical
# runs (metrics without the tokens_per_s timing, run.json, config.json); a finished sweep reruns as a
# no-op; a changed spec is refused; malformed specs fail before anything starts.
set -eu
ACTLAB=$1
MKSHARDS=$2
. "$(dirname "$0")/../testlib.sh"
test_tmpdir sweep
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
"$MKSHARDS" "$DIR/data" >/dev/null 2>&1 || { mkdir -p "$DIR/data" && "$MKSHARDS" "$DIR/data" >/dev/null 2>&1; }

# spec BASE_EXTRA EXPERIMENTS > file
spec() {
    cat <<JSON
{"version": 1, "name": "tiny",
 "base": {"data_dir": "$DIR/data", "vocab_size": 300, "d_model": 64, "n_layers": 2, "n_heads": 2,
          "n_kv_heads": 2, "max_seq_len": 32, "batch": 8, "seq": 32, "steps": 60, "warmup_steps": 4,
          "lr": 0.01, "min_lr": 0.001, "eval_interval": 20, "eval_batches": 2, "telemetry_interval": 10,
          "ckpt_interval": 5 $1},
 "sizes": {"xs": {"d_model": 32}, "s": {"d_model": 64}},
 "experiments": $2}
JSON
}
EXPS='[{"id": "E3", "grid": {"act": ["swiglu", "gelu"], "seed": [1, 2]}},
       {"id": "E4", "grid": {"m": [2, 3]}, "set": {"act": "powlu"}},
       {"id": "E1", "grid": {"act": ["swiglu"], "seed": [1]}}]'
spec "" "$EXPS" > "$DIR/spec.json"

# --- usage errors (2) and malformed specs (1, nothing created) ---
"$ACTLAB" sweep --help | grep -q "usage: actlab sweep" || fail "sweep --help"
"$ACTLAB" sweep --help | grep -q "docs/sweep.md" || fail "--help points at docs/sweep.md"
expect_status 2 "$ACTLAB" sweep
expect_status 2 "$ACTLAB" sweep "$DIR/spec.json"
expect_status 2 "$ACTLAB" sweep "$DIR/spec.json" --out "$DIR/x" --jobs 0
expect_status 2 "$ACTLAB" sweep "$DIR/spec.json" --out "$DIR/x" --bogus
bad() {  # bad NAME EXPECTED-TEXT BASE_EXTRA EXPERIMENTS
    spec "$3" "$4" > "$DIR/bad_$1.json"
    expect_status 1 "$ACTLAB" sweep "$DIR/bad_$1.json" --out "$DIR/bad_$1"
    grep -q -- "$2" "$DIR/err.txt" || { cat "$DIR/err.txt" >&2; fail "$1: message lacks '$2'"; }
    [ ! -e "$DIR/bad_$1" ] || fail "$1: a malformed spec created its folder"
}
bad unknown_key "stepz" ', "stepz": 3' "$EXPS"
bad grid_key "'E9'.*actt" '' '[{"id": "E9", "grid": {"actt": ["gelu"]}}]'
bad bad_value "'E9'.*bogus" '' '[{"id": "E9", "grid": {"act": ["bogus"]}}]'
bad wrong_type "'lr'" '' '[{"id": "E9", "grid": {"lr": ["fast"]}}]'
bad hyper "'m'" '' '[{"id": "E9", "grid": {"m": [3]}, "set": {"act": "gelu"}}]'
bad size "unknown size \"xl\"" '' '[{"id": "E9", "grid": {"size": ["xl"]}}]'
bad empty "'lr' must map to a non-empty" '' '[{"id": "E9", "grid": {"lr": []}}]'
bad dup "duplicate experiment id 'E9'" '' '[{"id": "E9", "grid": {"seed": [1]}}, {"id": "E9", "grid": {"seed": [2]}}]'
bad check "seq 64 exceeds" '' '[{"id": "E9", "grid": {"seq": [64]}}]'

# --- the plan: dedupe and names ---
"$ACTLAB" sweep "$DIR/spec.json" --dry-run > "$DIR/plan.txt"
[ "$(grep -c '"name": "e' "$DIR/plan.txt")" = 6 ] || fail "6 runs after dedupe (E1 duplicates e3-swiglu-seed1)"
grep -q '"e4-m3"' "$DIR/plan.txt" || fail "run name e4-m3"

# --- A: straight through ---
"$ACTLAB" sweep "$DIR/spec.json" --out "$DIR/A" --jobs 2 2>"$DIR/a.log" || { cat "$DIR/a.log"; fail "sweep A"; }
cmp -s "$DIR/spec.json" "$DIR/A/spec.json" || fail "spec.json is a verbatim copy"
[ "$(ls "$DIR"/A/runs/*/run.json | wc -l)" = 6 ] || fail "6 run.json in A"
grep -q '"status":"done"' "$DIR/A/runs/e4-m2/run.json" || fail "status done"
grep -q '"experiments":\["E3","E1"\]' "$DIR/A/runs/e3-swiglu-seed1/run.json" || fail "deduped run lists both experiments"

# Rerunning a finished sweep does nothing.
ls -l --time-style=full-iso "$DIR"/A/*.json "$DIR"/A/runs/*/* > "$DIR/before.txt"
"$ACTLAB" sweep "$DIR/spec.json" --out "$DIR/A" 2>"$DIR/again.log" || fail "rerun of a finished sweep"
grep -q "nothing to do" "$DIR/again.log" || fail "rerun message"
ls -l --time-style=full-iso "$DIR"/A/*.json "$DIR"/A/runs/*/* > "$DIR/after.txt"
cmp -s "$DIR/before.txt" "$DIR/after.txt" || fail "a rerun of a finished sweep touched its runs"

# A changed spec is refused (nothing touched), with the hint.
spec "" '[{"id": "E3", "grid": {"act": ["swiglu"], "seed": [1, 2, 3]}}]' > "$DIR/spec_changed.json"
expect_status 1 "$ACTLAB" sweep "$DIR/spec_changed.json" --out "$DIR/A"
grep -q "different spec" "$DIR/err.txt" && grep -q -- "--force" "$DIR/err.txt" || fail "changed-spec message"
cmp -s "$DIR/spec.json" "$DIR/A/spec.json" || fail "a refused spec replaced spec.json"

# --- B: SIGKILL once a run finished and another has a checkpoint but no run.json, then rerun ---
"$ACTLAB" sweep "$DIR/spec.json" --out "$DIR/B" --jobs 2 2>/dev/null &
PID=$!
wait_midway $PID "$DIR/B"
kill -KILL $PID
wait $PID 2>/dev/null || true
sleep 0.2   # the children die with the sweep (PR_SET_PDEATHSIG)
n_done=$(ls "$DIR"/B/runs/*/run.json | wc -l)
[ "$n_done" -lt 6 ] || fail "B was not interrupted"
"$ACTLAB" sweep "$DIR/spec.json" --out "$DIR/B" --jobs 2 2>"$DIR/b.log" || { cat "$DIR/b.log"; fail "rerun B"; }
grep -q "($((6 - n_done)) to run, $n_done finished)" "$DIR/b.log" || { cat "$DIR/b.log"; fail "B skips finished runs"; }
grep -q "resuming" "$DIR"/B/runs/*/train.log || fail "no run of B resumed from its checkpoint"

# --- C: SIGTERM (checkpoint, exit 130, no run.json for the interrupted runs), then rerun ---
"$ACTLAB" sweep "$DIR/spec.json" --out "$DIR/C" --jobs 2 2>"$DIR/c.log" &
PID=$!
until ls "$DIR"/C/runs/*/checkpoint.bin >/dev/null 2>&1; do sleep 0.01; done
kill -TERM $PID
set +e; wait $PID; got=$?; set -e
[ "$got" = 130 ] || { cat "$DIR/c.log"; fail "an interrupted sweep exits 130, got $got"; }
grep -q "rerun the same command" "$DIR/c.log" || fail "interrupt hint"
[ "$(ls "$DIR"/C/runs/*/run.json 2>/dev/null | wc -l)" -lt 6 ] || fail "C was not interrupted"
"$ACTLAB" sweep "$DIR/spec.json" --out "$DIR/C" --jobs 2 2>"$DIR/c2.log" || { cat "$DIR/c2.log"; fail "rerun C"; }

# --- B and C equal A, byte for byte (timings aside) ---
for other in B C; do same_runs "$DIR/A" "$DIR/$other"; done
cmp -s "$DIR/A/plan.json" "$DIR/B/plan.json" || fail "plan.json differs"

# The report of a killed + resumed sweep equals the uninterrupted one (when `actlab report` exists).
if "$ACTLAB" report --help >/dev/null 2>&1; then
    for s in A B; do "$ACTLAB" report "$DIR/$s" >/dev/null 2>&1 || fail "actlab report $s"; done
    cmp -s "$DIR/A/report.md" "$DIR/B/report.md" || fail "report.md differs between A and B"
fi

# --force replaces the plan; an unchanged finished run is kept, the new one runs.
"$ACTLAB" sweep "$DIR/spec_changed.json" --out "$DIR/A" --force 2>"$DIR/force.log" || fail "--force"
grep -q "(1 to run, 2 finished)" "$DIR/force.log" || { cat "$DIR/force.log"; fail "--force keeps unchanged runs"; }
cmp -s "$DIR/spec_changed.json" "$DIR/A/spec.json" || fail "--force replaces spec.json"
# A run that fails (no data) is marked failed and the others go on (exit 1); a diverging one says so.
spec ', "max_bad_steps": 2' '[{"id": "F", "grid": {"train_data": ["", "'"$DIR"'/none.bin"]}},
                              {"id": "D", "grid": {"lr": [10], "init_std": [5]}, "set": {"steps": 20}}]' > "$DIR/spec_f.json"
expect_status 1 "$ACTLAB" sweep "$DIR/spec_f.json" --out "$DIR/F"
grep -q "1 run failed" "$DIR/err.txt" || fail "failed-run summary"
[ "$(grep -l '"status":"failed"' "$DIR"/F/runs/*/run.json | wc -l)" = 1 ] || fail "one failed run"
[ "$(grep -l '"status":"done"' "$DIR"/F/runs/*/run.json | wc -l)" = 1 ] || fail "the other run is done"
grep -q '"status":"diverged","exit_code":2' "$DIR"/F/runs/d-*/run.json || fail "diverged run"
grep -q "no such\|cannot\|training data" "$DIR"/F/runs/f-_*/train.log || fail "the failure is in train.log"
expect_status 1 "$ACTLAB" sweep "$DIR/spec_f.json" --out "$DIR/F" --retry-failed
grep -q "(1 to run, 2 finished)" "$DIR/err.txt" || { cat "$DIR/err.txt" >&2; fail "--retry-failed reruns only the failed run"; }
echo "test_sweep_cli: ok"
