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
