#!/bin/sh
# test_train_cli.sh ACTLAB MKSHARDS — train, resume, eval, sample and export through the CLI, plus
# the usage errors (exit 2) and runtime errors (exit 1) they promise.
set -eu
ACTLAB=$1
MKSHARDS=$2
. "$(dirname "$0")/../testlib.sh"
test_tmpdir cli

"$MKSHARDS" "$DIR"
for cmd in train eval sample export; do
    "$ACTLAB" $cmd --help | grep -q "usage: actlab $cmd" || fail "$cmd --help"
done
"$ACTLAB" train --help | grep -q -- "--grad-accum" || fail "train --help lists every key"

TINY="--data-dir $DIR --vocab-size 300 --d-model 32 --n-layers 2 --n-heads 2 --n-kv-heads 2 --max-seq-len 32
      --batch 4 --seq 32 --warmup-steps 2 --lr 3e-3 --eval-interval 4 --eval-batches 2 --telemetry-interval 4
      --threads 2"
expect_status 2 "$ACTLAB" train $TINY --steps 8 --bogus 1
grep -q "unknown key 'bogus'" "$DIR/err.txt" || fail "unknown flag message"
expect_status 2 "$ACTLAB" train $TINY --steps 8 --m 3
expect_status 2 "$ACTLAB" train $TINY --steps eight
expect_status 2 "$ACTLAB" train $TINY --steps 8 --seq 64
echo '{"stepz": 3}' > "$DIR/bad.json"
expect_status 2 "$ACTLAB" train --config "$DIR/bad.json"
grep -q "stepz" "$DIR/err.txt" || fail "config error names the key"
expect_status 1 "$ACTLAB" train $TINY --steps 8 --data-dir "$DIR/none" --out "$DIR/r0"

# --m before --act works: the activation is applied first.
"$ACTLAB" train $TINY --m 2 --act powlu --steps 8 --print-config | grep -q '"m": 2' || fail "--print-config"

# Precedence through the command: defaults < --config FILE < flags, wherever --config stands.
has() {  # has FILE 'json line'...: each line is in FILE
    f=$1; shift
    for l in "$@"; do grep -qF -- "$l" "$f" || { cat "$f" >&2; fail "$f lacks $l"; }; done
}
printf '{"steps": 50, "lr": 0.001, "warmup_steps": 3, "d_model": 64}\n' > "$DIR/p.json"
"$ACTLAB" train --config "$DIR/p.json" --print-config > "$DIR/p0.txt"
has "$DIR/p0.txt" '"steps": 50,' '"lr": 0.001,' '"warmup_steps": 3,' '"d_model": 64,' '"n_layers": 4,'
"$ACTLAB" train --lr 0.002 --config "$DIR/p.json" --steps 40 --print-config > "$DIR/p1.txt"
has "$DIR/p1.txt" '"steps": 40,' '"lr": 0.002,' '"warmup_steps": 3,' '"d_model": 64,'
# Defaults that follow --steps: unset warmup and eval interval adapt; a set, conflicting one fails.
"$ACTLAB" train --act powlu --steps 60 --print-config > "$DIR/p2.txt"
has "$DIR/p2.txt" '"warmup_steps": 6,' '"eval_interval": 6,' '"steps": 60,'
expect_status 2 "$ACTLAB" train --act powlu --steps 60 --warmup-steps 100 --print-config
grep -q "warmup_steps 100 exceeds steps 60" "$DIR/err.txt" || fail "explicit warmup conflict message"

# 8 steps straight vs 4 + resume + 4 (--stop-after checkpoints at 4 in the second run).
"$ACTLAB" train $TINY --act powlu --steps 8 --out "$DIR/a" 2>/dev/null
"$ACTLAB" train $TINY --act powlu --steps 8 --stop-after 4 --out "$DIR/b" 2>/dev/null
"$ACTLAB" train --resume "$DIR/b/checkpoint.bin" --out "$DIR/b" 2>"$DIR/resume.txt"
grep -q "resuming at step 4" "$DIR/resume.txt" || fail "resume banner"
grep -q "threads: OpenMP 2, OpenBLAS 2" "$DIR/resume.txt" || fail "thread banner"
# The default thread count follows a CPU binding (one core here), not the host's core count.
if command -v taskset >/dev/null 2>&1; then
    taskset -c 0 "$ACTLAB" train $TINY --threads 0 --steps 2 --eval-interval 0 --out "$DIR/bound" 2>"$DIR/bound.txt"
    grep -q "threads: OpenMP 1, OpenBLAS 1" "$DIR/bound.txt" || { cat "$DIR/bound.txt" >&2; fail "threads under a binding"; }
fi
# --resume without --config: the checkpoint's settings (its resolved warmup included), then flags;
# with --config: the file replaces them (and the trainer then checks the model keys against it).
"$ACTLAB" train --resume "$DIR/b/checkpoint.bin" --steps 12 --print-config > "$DIR/p3.txt"
has "$DIR/p3.txt" '"steps": 12,' '"d_model": 32,' '"warmup_steps": 2,' '"lr": 0.003,' '"eval_interval": 4,'
"$ACTLAB" train --resume "$DIR/b/checkpoint.bin" --config "$DIR/p.json" --lr 0.004 --print-config > "$DIR/p4.txt"
has "$DIR/p4.txt" '"steps": 50,' '"d_model": 64,' '"lr": 0.004,'
test -s "$DIR/a/config.json" || fail "config.json"
[ "$(wc -l < "$DIR/a/metrics.jsonl")" = 8 ] || fail "metrics lines"
[ "$(wc -l < "$DIR/b/metrics.jsonl")" = 8 ] || fail "resumed metrics lines"
grep -q '"p99"' "$DIR/a/metrics.jsonl" || fail "telemetry in metrics"
# Same parameters, so the same validation loss to the last printed digit (test_trainer compares bits).
for r in a b; do
    "$ACTLAB" eval --checkpoint "$DIR/$r/checkpoint.bin" --data "$DIR/val.bin" --batches 2 --json --threads 2 2>/dev/null \
        | grep -o '"loss": *[0-9.e+-]*' > "$DIR/loss_$r.txt"
done
cmp -s "$DIR/loss_a.txt" "$DIR/loss_b.txt" || fail "resumed run differs: $(cat "$DIR/loss_a.txt") vs $(cat "$DIR/loss_b.txt")"
# A fresh start into a folder that holds a run is refused (nothing lost), unless --overwrite.
cp "$DIR/a/checkpoint.bin" "$DIR/a_before.bin"
expect_status 2 "$ACTLAB" train $TINY --act powlu --steps 8 --out "$DIR/a"
grep -q "already holds a run" "$DIR/err.txt" || fail "existing-run message"
cmp -s "$DIR/a/checkpoint.bin" "$DIR/a_before.bin" || fail "a refused run changed the existing checkpoint"
expect_status 0 "$ACTLAB" train $TINY --act powlu --steps 8 --out "$DIR/a" --overwrite
# A run that resumes with other model flags is refused.
expect_status 1 "$ACTLAB" train $TINY --act swiglu --steps 8 --out "$DIR/c" --resume "$DIR/a/checkpoint.bin"
grep -q "activation is powlu in the checkpoint, swiglu here" "$DIR/err.txt" || fail "mismatch message"

# eval: shard and text, JSON.
"$ACTLAB" eval --checkpoint "$DIR/a/checkpoint.bin" --data "$DIR/val.bin" --batches 4 --json --threads 2 > "$DIR/eval.json" 2>/dev/null
grep -q '"perplexity"' "$DIR/eval.json" || fail "eval --json"
"$ACTLAB" eval --checkpoint "$DIR/a/checkpoint.bin" --text "$DIR/sample.txt" --data-dir "$DIR" --threads 2 2>/dev/null \
    | grep -q "perplexity" || fail "eval --text"
expect_status 2 "$ACTLAB" eval --checkpoint "$DIR/a/checkpoint.bin"
expect_status 1 "$ACTLAB" eval --checkpoint "$DIR/none.bin" --data "$DIR/val.bin"
head -c 100 "$DIR/a/checkpoint.bin" > "$DIR/trunc.bin"
expect_status 1 "$ACTLAB" eval --checkpoint "$DIR/trunc.bin" --data "$DIR/val.bin"
grep -q "truncated" "$DIR/err.txt" || fail "truncated checkpoint message"

# sample: deterministic for a seed.
"$ACTLAB" sample --checkpoint "$DIR/a/checkpoint.bin" --data-dir "$DIR" --prompt "the cat" --tokens 12 --seed 5 > "$DIR/s1.txt"
"$ACTLAB" sample --checkpoint "$DIR/a/checkpoint.bin" --data-dir "$DIR" --prompt "the cat" --tokens 12 --seed 5 > "$DIR/s2.txt"
cmp -s "$DIR/s1.txt" "$DIR/s2.txt" || fail "sample is not deterministic for a seed"
grep -q "^the cat" "$DIR/s1.txt" || fail "sample echoes the prompt"
expect_status 2 "$ACTLAB" sample --checkpoint "$DIR/a/checkpoint.bin" --temperature -1

# export
"$ACTLAB" export --checkpoint "$DIR/a/checkpoint.bin" --safetensors "$DIR/hf" --data-dir "$DIR" > /dev/null
test -s "$DIR/hf/model.safetensors" && grep -q '"hidden_act": "powlu"' "$DIR/hf/config.json" || fail "export"
expect_status 2 "$ACTLAB" export --checkpoint "$DIR/a/checkpoint.bin"
echo "test_train_cli: ok"
