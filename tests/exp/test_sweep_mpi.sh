#!/bin/sh
# test_sweep_mpi.sh ACTLAB MKSHARDS — `actlab sweep` spread over 2 ranks on localhost: the same run.json,
# metrics.jsonl (timings aside) and config.json as a one-process sweep, one progress view; a 2-rank
# sweep killed outright (SIGKILL to mpirun) midway and resumed by one process finishes every run
# once; SIGTERM to mpirun stops every rank (each run checkpointed) and a 2-rank rerun finishes; SIGTERM
# to rank 1 alone, mid-run or after its share, stops every rank with a message naming it, and nothing
# is lost on resume; a resume spreads the runs left evenly; a rank that does not see rank 0's folder
# (none there, or a copy) stops the job with a message naming it; `compare --quick` over 2 ranks.
set -eu
ACTLAB=$1
MKSHARDS=$2
. "$(dirname "$0")/../testlib.sh"
test_tmpdir sweep_mpi
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
# The test harness runs as root and has fewer cores than it starts ranks: both are test-only flags.
MPI="mpirun --allow-run-as-root --oversubscribe --bind-to none"
"$MKSHARDS" "$DIR/data" >/dev/null 2>&1 || { mkdir -p "$DIR/data" && "$MKSHARDS" "$DIR/data" >/dev/null 2>&1; }

cat > "$DIR/spec.json" <<JSON
{"version": 1, "name": "tiny",
 "base": {"data_dir": "$DIR/data", "vocab_size": 300, "d_model": 64, "n_layers": 2, "n_heads": 2,
          "n_kv_heads": 2, "max_seq_len": 32, "batch": 8, "seq": 32, "steps": 200, "warmup_steps": 4,
          "lr": 0.01, "min_lr": 0.001, "eval_interval": 20, "eval_batches": 2, "telemetry_interval": 10,
          "ckpt_interval": 5, "threads": 1},
 "experiments": [{"id": "E3", "grid": {"act": ["swiglu", "gelu"], "seed": [1, 2]}},
                 {"id": "E4", "grid": {"m": [2, 3]}, "set": {"act": "powlu"}}]}
JSON
N=6
# One thread per run everywhere: the bits of a run depend on its thread count, and the ranks here
# get fewer cores each than the one process.
# same_as_A S: sweep S finished every run, each equal to the one-process sweep A's.
same_as_A() {
    [ "$(ls "$DIR"/$1/runs/*/run.json | wc -l)" = $N ] || fail "$1: not $N run.json"
    same_runs "$DIR/A" "$DIR/$1"
}

# --- A: one process; M: two ranks, the same results ---
"$ACTLAB" sweep "$DIR/spec.json" --out "$DIR/A" --jobs 1 2>"$DIR/a.log" || { cat "$DIR/a.log"; fail "sweep A"; }
$MPI -np 2 "$ACTLAB" sweep "$DIR/spec.json" --out "$DIR/M" --jobs 1 2>"$DIR/m.log" || { cat "$DIR/m.log"; fail "2-rank sweep M"; }
same_as_A M
cmp -s "$DIR/A/plan.json" "$DIR/M/plan.json" || fail "plan.json differs"
# One progress view: rank 0 alone prints the banner and one line per run, the other rank's marked.
[ "$(grep -c '^sweep tiny:' "$DIR/m.log")" = 1 ] || { cat "$DIR/m.log"; fail "one banner"; }
grep -q "($N to run, 0 finished) over 2 ranks" "$DIR/m.log" || { cat "$DIR/m.log"; fail "2-rank banner"; }
for run in "$DIR"/A/runs/*/; do
    [ "$(grep -c "^  $(basename "$run") " "$DIR/m.log")" = 1 ] || { cat "$DIR/m.log"; fail "one line for $(basename "$run")"; }
done
[ "$(grep -c '(rank 1)' "$DIR/m.log")" = 3 ] || { cat "$DIR/m.log"; fail "rank 1 ran 3 runs (the 2nd, 4th and 6th)"; }
# Both ranks record their timing in the one timing.json (a lock keeps either from losing entries).
[ "$(grep -c '"wall_s"' "$DIR/M/timing.json")" = $N ] || fail "timing.json lacks runs: $(cat "$DIR/M/timing.json")"
$MPI -np 2 "$ACTLAB" sweep "$DIR/spec.json" --out "$DIR/M" 2>"$DIR/m2.log" || { cat "$DIR/m2.log"; fail "rerun M"; }
[ "$(grep -c 'nothing to do' "$DIR/m2.log")" = 1 ] || { cat "$DIR/m2.log"; fail "a finished 2-rank sweep: one 'nothing to do'"; }

# --- K: 2 ranks killed outright once a run finished and another has a checkpoint, resumed by 1 ---
$MPI -np 2 "$ACTLAB" sweep "$DIR/spec.json" --out "$DIR/K" --jobs 1 2>"$DIR/k.log" &
PID=$!
wait_midway $PID "$DIR/K"
ranks=$(pgrep -P $PID | tr '\n' ' ')
kill -KILL $PID
wait $PID 2>/dev/null || true
# The ranks lose mpirun and exit; their runs die with them (PR_SET_PDEATHSIG).
i=0
for r in $ranks; do
    while kill -0 "$r" 2>/dev/null; do
        i=$((i + 1)); [ $i -lt 300 ] || { kill -KILL $ranks 2>/dev/null; fail "ranks outlive a killed mpirun by 30 s"; }
        sleep 0.1
    done
done
sleep 0.2
n_done=$(ls "$DIR"/K/runs/*/run.json | wc -l)
[ "$n_done" -lt $N ] || fail "K was not interrupted"
ls -l --time-style=full-iso "$DIR"/K/runs/*/run.json > "$DIR/k_before.txt"
"$ACTLAB" sweep "$DIR/spec.json" --out "$DIR/K" --jobs 2 2>"$DIR/k2.log" || { cat "$DIR/k2.log"; fail "resume K on 1 rank"; }
grep -q "($((N - n_done)) to run, $n_done finished)" "$DIR/k2.log" || { cat "$DIR/k2.log"; fail "K skips finished runs"; }
grep -q "resuming" "$DIR"/K/runs/*/train.log || fail "no run of K resumed from its checkpoint"
# Nothing run twice to completion: the runs finished before the kill were not touched.
ls -l --time-style=full-iso "$DIR"/K/runs/*/run.json | grep -F -x -f "$DIR/k_before.txt" > "$DIR/k_after.txt" || true
cmp -s "$DIR/k_before.txt" "$DIR/k_after.txt" || fail "the resume touched runs that had finished"
same_as_A K

# --- T: SIGTERM to mpirun: every rank checkpoints its runs and stops, 130; 2 ranks finish it ---
$MPI -np 2 "$ACTLAB" sweep "$DIR/spec.json" --out "$DIR/T" --jobs 1 2>"$DIR/t.log" &
PID=$!
i=0
until [ "$(ls "$DIR"/T/runs/*/checkpoint.bin 2>/dev/null | wc -l)" -ge 2 ]; do
    i=$((i + 1)); [ $i -lt 6000 ] || { kill -KILL $PID; fail "T never checkpointed"; }
    sleep 0.01
done
kill -TERM $PID
set +e; wait $PID; got=$?; set -e
# Every rank returns 130; mpirun (Open MPI 4.1) then exits 1 for the job.
[ "$got" != 0 ] || { cat "$DIR/t.log"; fail "a 2-rank sweep interrupted by SIGTERM should not exit 0"; }
# Rank 0 prints this after summing every rank's count. A rank whose run was between two runs when
# the signal came has nothing to checkpoint, so on a loaded machine the sum may be 1.
grep -Eq "interrupted; [12] runs? checkpointed" "$DIR/t.log" || { cat "$DIR/t.log"; fail "the ranks' runs checkpoint"; }
grep -q "rerun the same command" "$DIR/t.log" || { cat "$DIR/t.log"; fail "interrupt hint"; }
[ "$(ls "$DIR"/T/runs/*/run.json 2>/dev/null | wc -l)" -lt $N ] || fail "T was not interrupted"
$MPI -np 2 "$ACTLAB" sweep "$DIR/spec.json" --out "$DIR/T" --jobs 1 2>"$DIR/t2.log" || { cat "$DIR/t2.log"; fail "rerun T"; }
same_as_A T

# --- R: SIGTERM to rank 1 alone, mid-run: every rank stops its runs (they checkpoint) and the job ends
#     naming rank 1; one process finishes the sweep ---
# Plan order: e3-swiglu-seed1 e3-swiglu-seed2 e3-gelu-seed1 e3-gelu-seed2 e4-m2 e4-m3; a fresh sweep
# gives the 1st, 3rd and 5th to rank 0. Rank 0's first run is frozen (SIGSTOP) until rank 0 has heard
# of the signal, so whatever the load, rank 0 still has runs to stop when it hears.
has_child() { [ -n "$(pgrep -P "$1")" ]; }
mid_run() { [ -e "$1/checkpoint.bin" ] && [ ! -e "$1/run.json" ]; }
gone() { ! kill -0 "$1" 2>/dev/null; }
# abort_job WHAT: ends the job and its frozen run at once (the ranks' runs die with them), then fails.
abort_job() {
    kill -KILL $PID ${R0:-} ${R1:-} ${KIDS0:-} 2>/dev/null || true
    fail "$1"
}
# start_frozen NAME: a 2-rank sweep of $DIR/NAME in the background (PID: mpirun, R0 and R1: the ranks)
# whose rank 0 stops at its first run (KIDS0, frozen).
start_frozen() {
    $MPI -np 2 "$ACTLAB" sweep "$DIR/spec.json" --out "$DIR/$1" --jobs 1 2>"$DIR/$1.log" &
    PID=$!
    R0= R1= KIDS0=
    wait_for 120 eval 'R0=$(rank_pid $PID 0); [ -n "$R0" ] && has_child $R0' || abort_job "$1: no run on rank 0"
    KIDS0=$(pgrep -P $R0 | tr '\n' ' ')
    kill -STOP $KIDS0
    R1=$(rank_pid $PID 1)
    [ -n "$R1" ] || abort_job "$1: no rank 1"
}
# signal_rank1 NAME: SIGTERM to rank 1; once rank 0 says it heard, its run goes on, and the job must end.
signal_rank1() {
    kill -TERM $R1
    wait_for 60 grep -q "^actlab sweep: rank 1 of 2 got SIGTERM: every rank checkpoints its runs and stops" \
        "$DIR/$1.log" || { cat "$DIR/$1.log"; abort_job "$1: rank 0 does not hear that rank 1 was signalled"; }
    kill -CONT $KIDS0
    wait_for 120 gone $PID || { cat "$DIR/$1.log"; abort_job "$1: the job does not end"; }
    set +e; wait $PID; got=$?; set -e
    [ "$got" != 0 ] || { cat "$DIR/$1.log"; fail "$1: a sweep stopped by a signal should not exit 0"; }
    grep -q "interrupted by a signal to rank 1 of 2;" "$DIR/$1.log" || { cat "$DIR/$1.log"; fail "$1: final message"; }
}
start_frozen R
wait_for 120 mid_run "$DIR/R/runs/e3-swiglu-seed2" || abort_job "R: rank 1's first run never checkpointed"
signal_rank1 R
grep -q "^  e3-swiglu-seed1 .* interrupted (resumes from its checkpoint)" "$DIR/R.log" || { cat "$DIR/R.log"; fail "R: rank 0's run stops"; }
[ ! -e "$DIR/R/runs/e3-gelu-seed1" ] && [ ! -e "$DIR/R/runs/e4-m2" ] || fail "R: rank 0 started runs after it heard"
n_done=$(ls "$DIR"/R/runs/*/run.json 2>/dev/null | wc -l)
ls -l --time-style=full-iso "$DIR"/R/runs/*/run.json > "$DIR/r_before.txt" 2>/dev/null || true
r1_mid=0; mid_run "$DIR/R/runs/e3-swiglu-seed2" && r1_mid=1
"$ACTLAB" sweep "$DIR/spec.json" --out "$DIR/R" --jobs 1 2>"$DIR/r2.log" || { cat "$DIR/r2.log"; fail "resume R on 1 rank"; }
grep -q "($((N - n_done)) to run, $n_done finished)" "$DIR/r2.log" || { cat "$DIR/r2.log"; fail "R skips finished runs"; }
[ $r1_mid = 0 ] || grep -q "resuming" "$DIR/R/runs/e3-swiglu-seed2/train.log" || fail "rank 1's stopped run did not resume"
ls -l --time-style=full-iso "$DIR"/R/runs/*/run.json | grep -F -x -f "$DIR/r_before.txt" > "$DIR/r_after.txt" || true
cmp -s "$DIR/r_before.txt" "$DIR/r_after.txt" || fail "the resume of R touched runs that had finished"
same_as_A R

# --- B: a resume spreads the runs left evenly over the ranks: with the 2nd, 4th and 6th left (all
#     rank 1's in a fresh sweep), rank 0 runs two and rank 1 one. Rank 0 prints "(rank 1)" for those. ---
cp -r "$DIR/A" "$DIR/B"
rm -rf "$DIR/B/runs/e3-swiglu-seed2" "$DIR/B/runs/e3-gelu-seed2" "$DIR/B/runs/e4-m3"
$MPI -np 2 "$ACTLAB" sweep "$DIR/spec.json" --out "$DIR/B" --jobs 1 2>"$DIR/b.log" || { cat "$DIR/b.log"; fail "2-rank resume B"; }
grep -q "(3 to run, 3 finished) over 2 ranks" "$DIR/b.log" || { cat "$DIR/b.log"; fail "B: banner"; }
[ "$(grep -c '^  e3-gelu-seed2 .* done .*(rank 1)$' "$DIR/b.log")" = 1 ] &&
    [ "$(grep -c '(rank 1)$' "$DIR/b.log")" = 1 ] || { cat "$DIR/b.log"; fail "B: the 2nd run left is rank 1's, and only it"; }
[ "$(grep -c '^  .* done .* s)$' "$DIR/b.log")" = 2 ] || { cat "$DIR/b.log"; fail "B: rank 0 runs the 1st and 3rd runs left"; }
same_as_A B

# --- W: SIGTERM to rank 1 once its share is done and it waits for rank 0: rank 0 stops too; a 2-rank
#     resume finishes (and spreads the 2 runs left, both rank 1's under i % 2, one per rank) ---
cp -r "$DIR/A" "$DIR/W"
rm -rf "$DIR/W/runs/e3-swiglu-seed2" "$DIR/W/runs/e3-gelu-seed2" "$DIR/W/runs/e4-m3"
start_frozen W
wait_for 120 eval '[ -e "$DIR/W/runs/e3-gelu-seed2/run.json" ] && ! has_child $R1' ||
    abort_job "W: rank 1's run never finished"
signal_rank1 W
[ ! -e "$DIR/W/runs/e4-m3" ] || fail "W: rank 0 started a run after it heard"
$MPI -np 2 "$ACTLAB" sweep "$DIR/spec.json" --out "$DIR/W" --jobs 1 2>"$DIR/w2.log" || { cat "$DIR/w2.log"; fail "2-rank resume W"; }
grep -q "(2 to run, 4 finished) over 2 ranks" "$DIR/w2.log" || { cat "$DIR/w2.log"; fail "W: banner"; }
[ "$(grep -c '^  e4-m3 .* done .*(rank 1)$' "$DIR/w2.log")" = 1 ] || { cat "$DIR/w2.log"; fail "W: rank 1 runs the 2nd run left"; }
same_as_A W

# --- H: rank 1 looks at another folder (as if DIR were on its own local disk): a clear error ---
# apart NAME0 NAME1 WHY: a 2-rank sweep whose rank 1 gets --out $DIR/NAME1 must fail before any run,
# naming rank 1 and WHY.
apart() {
    set +e
    $MPI -np 1 "$ACTLAB" sweep "$DIR/spec.json" --out "$DIR/$1" : -np 1 "$ACTLAB" sweep "$DIR/spec.json" \
        --out "$DIR/$2" >/dev/null 2>"$DIR/$2.log"
    got=$?
    set -e
    [ "$got" != 0 ] || fail "$2: a rank that cannot see rank 0's folder should fail the sweep"
    grep -qF "rank 1 of 2 does not see the sweep folder that rank 0 prepared ($3)" "$DIR/$2.log" ||
        { cat "$DIR/$2.log"; fail "$2: message"; }
    grep -q "file system every rank sees" "$DIR/$2.log" || fail "$2: hint"
}
apart H H_elsewhere "no plan.json for this spec at '$DIR/H_elsewhere/plan.json'"
[ ! -e "$DIR/H/runs" ] || fail "no run starts when a rank cannot see the plan"
# A copy of the folder (each host's own disk after an earlier sweep there) has the same plan.json.
cp -r "$DIR/A" "$DIR/H0"
cp -r "$DIR/A" "$DIR/Hc"
apart H0 Hc "a plan.json for this spec, but not this start's token in '$DIR/Hc/.rank0-token': a copy of the folder?"

# --- compare --quick over 2 ranks: both phases run, rank 0 alone decides phase 2 and writes the report ---
$MPI -np 2 "$ACTLAB" compare --quick --data-dir "$DIR/data" --out "$DIR/cq" --no-figures --jobs 1 \
    >"$DIR/cq.out" 2>"$DIR/cq.log" || { tail -n 30 "$DIR/cq.log"; fail "2-rank compare"; }
[ "$(grep -c "^report: $DIR/cq/report.md" "$DIR/cq.out")" = 1 ] || fail "the report is announced once: $(cat "$DIR/cq.out")"
[ "$(grep -c "tuned learning rates" "$DIR/cq.log")" = 1 ] || fail "phase 2 is decided once"
grep -q '"E3.relu"' "$DIR/cq/plan.json" || fail "phase 2 is in the plan"
n=$(grep -c '"dir"' "$DIR/cq/plan.json")
[ "$(ls "$DIR/cq"/runs/*/run.json | wc -l)" = "$n" ] || fail "not every run of the 2-rank compare finished"
grep -q "^## 9. Verdicts" "$DIR/cq/report.md" || fail "2-rank compare report"
echo "test_sweep_mpi: ok"
