#!/usr/bin/env bash
# test_curve.sh ACTLAB — `actlab curve`: CSV shape and values, usage errors, --help, and the plot.
set -u
bin=$1
fails=0; passes=0
check() {  # check NAME COMMAND...: the command must succeed
  if "${@:2}" >/dev/null 2>&1; then passes=$((passes+1)); else echo "FAIL: $1"; fails=$((fails+1)); fi
}
refuse() {  # refuse NAME STATUS ARGS...: actlab must exit with STATUS and print an error
  local want=$2; shift 2
  "$bin" "$@" >/dev/null 2>/tmp/actlab-curve-err.$$; local got=$?
  if [ "$got" = "$want" ] && grep -q "error" /tmp/actlab-curve-err.$$; then passes=$((passes+1))
  else echo "FAIL: actlab $* exited $got (want $want with an error message)"; fails=$((fails+1)); fi
}
tmp=$(mktemp -d); trap 'rm -rf "$tmp" /tmp/actlab-curve-err.$$' EXIT

"$bin" curve powlu --from -1 --to 1 --points 3 > "$tmp/c.csv"
check "header" grep -qx 'x,f,dfdx' "$tmp/c.csv"
check "3 rows" test "$(wc -l < "$tmp/c.csv")" -eq 4
# f(0) = 0, f'(0) = 0.5 and f(-1) = -0.2689414214 (ACTIVATIONS.md)
check "value at 0" grep -qx '0,0,0.5' "$tmp/c.csv"
check "value at -1" awk -F, 'NR==2 { d = $2 + 0.2689414214; exit !(d < 1e-6 && d > -1e-6) }' "$tmp/c.csv"
# m changes the curve: f_2(2) < f_3(2)
a=$("$bin" curve powlu --m 2 --from 1 --to 2 --points 2 | tail -1 | cut -d, -f2)
b=$("$bin" curve powlu --from 1 --to 2 --points 2 | tail -1 | cut -d, -f2)
check "--m takes effect" awk -v a="$a" -v b="$b" 'BEGIN { exit !(a < b) }'
check "--help" "$bin" curve --help
refuse "unknown activation" 2 curve nosuch
refuse "polynorm has no curve" 2 curve polynorm
refuse "bad number" 2 curve powlu --from abc
refuse "bad range" 2 curve powlu --from 2 --to 1
refuse "hyper out of range" 2 curve powlu --m 50
refuse "hyper of another activation" 2 curve swiglu --m 2
refuse "several without --plot" 2 curve swiglu powlu
refuse "missing value" 2 curve powlu --points
refuse "unknown command" 2 nosuchcommand
if command -v gnuplot >/dev/null; then
  check "plot png" "$bin" curve --plot swiglu powlu swiglu_clip --out "$tmp/g.png"
  check "png written" test -s "$tmp/g.png"
  check "plot svg" "$bin" curve --plot gelu relu2 powlu_scalar --out "$tmp/g.svg"
  check "svg written" grep -q "<svg" "$tmp/g.svg"
else
  echo "FAIL: gnuplot missing (scripts/setup.sh installs it)"; fails=$((fails+1))
fi
echo "cli_curve: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
