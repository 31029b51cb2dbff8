# testlib.sh — helpers for the shell tests (source it, then `test_tmpdir TAG` sets DIR).
test_tmpdir() {  # test_tmpdir TAG: DIR = a fresh folder under $TMPDIR, removed when the test exits
    DIR=$(mktemp -d "${TMPDIR:-/tmp}/actlab_$1_XXXXXX")
    trap 'rm -rf "$DIR"' EXIT
}
fail() { echo "FAIL: $*" >&2; exit 1; }
expect_status() {  # expect_status N command...: runs it (stdout/stderr to $DIR/out.txt, err.txt)
    want=$1; shift
    set +e; "$@" >"$DIR/out.txt" 2>"$DIR/err.txt"; got=$?; set -e
    [ "$got" = "$want" ] || { cat "$DIR/err.txt" >&2; fail "'$*' exited $got, expected $want"; }
}
same_runs() {  # same_runs A B: each run of sweep folder A has B's run.json, config.json (but "out") and
               # metrics.jsonl (but the tokens_per_s timing), byte for byte
    for run in "$1"/runs/*/; do
        o="$2/runs/$(basename "$run")"
        sed 's/,"tokens_per_s":[^,}]*//' "$run/metrics.jsonl" > "$DIR/same_a.txt"
        sed 's/,"tokens_per_s":[^,}]*//' "$o/metrics.jsonl" > "$DIR/same_b.txt"
        cmp -s "$DIR/same_a.txt" "$DIR/same_b.txt" || fail "$o: metrics.jsonl differs from $run"
        cmp -s "$run/run.json" "$o/run.json" || fail "$o: run.json differs from $run"
        grep -v '"out":' "$run/config.json" > "$DIR/same_a.txt"
        grep -v '"out":' "$o/config.json" > "$DIR/same_b.txt"
        cmp -s "$DIR/same_a.txt" "$DIR/same_b.txt" || fail "$o: config.json differs from $run"
    done
}
wait_midway() {  # wait_midway PID SWEEP: until a run of folder SWEEP finished and another has a
                 # checkpoint but no run.json (fails when PID ends first or after 60 s)
    i=0
    until midway "$2"; do
        i=$((i + 1)); [ $i -lt 6000 ] || { kill -KILL "$1"; fail "$2 never reached the kill point"; }
        kill -0 "$1" 2>/dev/null || fail "$2 finished before it could be killed"
        sleep 0.01
    done
}
midway() {
    done_one=0
    for d in "$1"/runs/*/; do [ -e "$d/run.json" ] && done_one=1; done
    for d in "$1"/runs/*/; do
        [ -e "$d/checkpoint.bin" ] && [ ! -e "$d/run.json" ] && [ $done_one = 1 ] && return 0
    done
    return 1
}
wait_for() {  # wait_for SECONDS CMD...: until CMD succeeds, polling every 0.05 s; 1 after SECONDS
              # (make them generous: the machine may be loaded)
    secs=$1; shift
    i=0
    until "$@"; do
        i=$((i + 1)); [ $i -lt $((secs * 20)) ] || return 1
        sleep 0.05
    done
}
rank_pid() {  # rank_pid PID R: the process of rank R among mpirun PID's children (empty if not there)
    for p in $(pgrep -P "$1"); do
        tr '\0' '\n' < "/proc/$p/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$2" && echo "$p"
    done
    return 0
}
