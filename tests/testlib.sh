# testlib.sh — helpers for the shell tests (source it after setting DIR, the test's temp folder).
fail() { echo "FAIL: $*" >&2; exit 1; }
expect_status() {  # expect_status N command...: runs it (stdout/stderr to $DIR/out.txt, err.txt)
    want=$1; shift
    set +e; "$@" >"$DIR/out.txt" 2>"$DIR/err.txt"; got=$?; set -e
    [ "$got" = "$want" ] || { cat "$DIR/err.txt" >&2; fail "'$*' exited $got, expected $want"; }
}
