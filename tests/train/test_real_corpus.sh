#!/usr/bin/env bash
# test_real_corpus.sh ACTLAB REPO — on the real corpus (`actlab data`, built once into REPO/data if
# absent), a short run of a small model for EVERY activation: the validation loss, measured on the
# same fixed validation batches every 50 steps, must fall at each measurement and end well below the
# uniform-guess loss ln(8192) = 9.01.
set -u
bin=$1; repo=$2
cd "$repo" || exit 1
if [ ! -f data/val.bin ] || [ ! -f data/train.bin ]; then
  echo "building the corpus with 'actlab data' (needs scripts/setup.sh test)"
  "$bin" data >/dev/null || { echo "FAIL: actlab data could not build the corpus"; exit 1; }
fi
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
pass=0; fail=0
for act in $("$bin" --help | awk '/^activations:/ {on=1; next} on && NF {print $1}'); do
  "$bin" train --act "$act" --d-model 64 --n-layers 2 --n-heads 2 --n-kv-heads 2 --max-seq-len 64 --seq 64 \
    --batch 8 --steps 150 --warmup-steps 15 --lr 2e-3 --eval-interval 50 --eval-batches 8 \
    --telemetry-interval 0 --log-interval 50 --ckpt-interval 0 --seed 7 --out "$out/$act" >/dev/null 2>&1 || {
    echo "FAIL: $act: actlab train exited $?"; fail=$((fail+1)); continue; }
  losses=$(grep -o '"val_loss":[0-9.e+-]*' "$out/$act/metrics.jsonl" | cut -d: -f2 | tr '\n' ' ')
  if awk -v l="$losses" 'BEGIN { n = split(l, v, " "); if (n < 3) exit 1;
        for (i = 2; i <= n; i++) if (!(v[i] < v[i-1])) exit 1; exit !(v[n] < 7.5) }'; then
    echo "ok: $act validation loss $losses"; pass=$((pass+1))
  else
    echo "FAIL: $act validation loss did not fall steadily: $losses"; fail=$((fail+1))
  fi
done
echo "real_corpus: $pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -ge 13 ]
