#!/bin/sh
# test_hf_export.sh ACTLAB MKSHARDS NPM_DIR — the exported folder as Hugging Face tooling reads it:
# npm's @huggingface/tokenizers (pure JS Hugging Face tokenizers) loads the exported tokenizer.json
# of gpt2 and of a trained bpe:N and gives exactly `actlab tokenize`'s ids on a validation text and
# on gpt-tokenizer's GPT-2 test vectors; config.json / modeling files per activation.
# Exits 77 (skipped) only when node or the npm packages are absent: `scripts/setup.sh test` installs them.
set -eu
ACTLAB=$1
MKSHARDS=$2
NPM_DIR=$3
DIR=$(mktemp -d "${TMPDIR:-/tmp}/actlab_hf_XXXXXX")
trap 'rm -rf "$DIR"' EXIT
. "$(dirname "$0")/../testlib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
PLANS=$NPM_DIR/node_modules/gpt-tokenizer/data/TestPlans.txt
if ! command -v node >/dev/null || [ ! -f "$NPM_DIR/node_modules/@huggingface/tokenizers/package.json" ] ||
   [ ! -f "$PLANS" ]; then
    echo "skipped: node or npm @huggingface/tokenizers / gpt-tokenizer missing (run scripts/setup.sh test)"
    exit 77
fi
export ACTLAB_NPM_DIR=$NPM_DIR

"$MKSHARDS" "$DIR" >/dev/null 2>&1

# Inputs: the validation text, a text of awkward whitespace, digits and scripts, and every r50k_base
# sample of TestPlans.txt as a file of its own (without a trailing newline).
mkdir "$DIR/in"
cp "$DIR/sample.txt" "$DIR/in/val.txt"
printf 'I'"'"'m here  \n\n\t x   y\r\nnaïve café 3.14159 1,000 — Καλημέρα мир 日本語 🌍\n  end  ' > "$DIR/in/mixed.txt"
awk -v dir="$DIR/in" '
    /^EncodingName: / { r50k = ($2 == "r50k_base"); next }
    r50k && /^Sample: / { n++; f = sprintf("%s/plan%03d.txt", dir, n); printf "%s", substr($0, 9) > f; close(f) }
' "$PLANS"
[ "$(ls "$DIR/in" | grep -c '^plan')" = 64 ] || fail "expected 64 r50k_base samples in $PLANS"

# Each tokenizer: JS ids == actlab ids, file by file (an empty sample gives an empty line on both).
for spec in gpt2 bpe:300; do
    out="$DIR/tok_$(echo "$spec" | tr : _)"
    "$ACTLAB" export --tokenizer "$spec" --data-dir "$DIR" --safetensors "$out" >/dev/null
    for f in tokenizer.json tokenizer_config.json special_tokens_map.json; do test -s "$out/$f" || fail "$spec: $f"; done
    : > "$DIR/actlab_ids.txt"
    for f in "$DIR"/in/*.txt; do
        "$ACTLAB" tokenize --tokenizer "$spec" --data-dir "$DIR" < "$f" >> "$DIR/actlab_ids.txt"
    done
    node "$HERE/hf_tokenize.mjs" "$NPM_DIR" "$out" "$DIR"/in/*.txt > "$DIR/hf_ids.txt" || fail "$spec: tokenizers.js"
    if ! cmp -s "$DIR/actlab_ids.txt" "$DIR/hf_ids.txt"; then
        diff "$DIR/actlab_ids.txt" "$DIR/hf_ids.txt" | head -5 >&2
        fail "$spec: tokenizers.js ids differ from actlab tokenize"
    fi
    echo "$spec: $(ls "$DIR/in" | wc -l) texts, $(wc -w < "$DIR/hf_ids.txt") ids identical"
done
grep -q '"content":"<|endoftext|>"' "$DIR/tok_gpt2/tokenizer.json" || fail "end-of-text special token"
grep -q '"id":50256' "$DIR/tok_gpt2/tokenizer.json" || fail "gpt2 end-of-text id"

# Models: a stock activation (swiglu: LlamaForCausalLM, hidden_act silu) and one that needs
# modeling_actlab.py (powlu: auto_map, trust_remote_code); the tokenizer files come along.
TINY="--data-dir $DIR --vocab-size 300 --d-model 16 --n-layers 1 --n-heads 2 --n-kv-heads 2 --max-seq-len 16
      --batch 2 --seq 16 --steps 2 --warmup-steps 1 --eval-interval 2 --eval-batches 1 --threads 1"
for act in swiglu powlu; do
    "$ACTLAB" train $TINY --act $act --out "$DIR/run_$act" >/dev/null 2>&1 || fail "train $act"
    expect_status 1 "$ACTLAB" export --checkpoint "$DIR/run_$act/checkpoint.bin" --safetensors "$DIR/hf_$act" \
        --data-dir "$DIR/none"
    grep -q "data-dir" "$DIR/err.txt" || fail "a missing tokenizer names --data-dir"
    "$ACTLAB" export --checkpoint "$DIR/run_$act/checkpoint.bin" --safetensors "$DIR/hf_$act" --data-dir "$DIR" >/dev/null
    cmp -s "$DIR/hf_$act/tokenizer.json" "$DIR/tok_bpe_300/tokenizer.json" || fail "$act: tokenizer.json"
    grep -q '"model_max_length": 16' "$DIR/hf_$act/tokenizer_config.json" || fail "$act: model_max_length"
    grep -q '"eos_token_id": 299' "$DIR/hf_$act/config.json" || fail "$act: eos_token_id"
done
grep -q '"hidden_act": "silu"' "$DIR/hf_swiglu/config.json" || fail "swiglu: hidden_act silu"
grep -q '"LlamaForCausalLM"' "$DIR/hf_swiglu/config.json" || fail "swiglu: LlamaForCausalLM"
! grep -q auto_map "$DIR/hf_swiglu/config.json" || fail "swiglu: no auto_map"
test ! -e "$DIR/hf_swiglu/modeling_actlab.py" || fail "swiglu: no modeling file"
grep -q '"AutoModelForCausalLM": "modeling_actlab.ActlabForCausalLM"' "$DIR/hf_powlu/config.json" || fail "powlu: auto_map"
grep -q '"model_type": "actlab"' "$DIR/hf_powlu/config.json" || fail "powlu: its own model_type"
grep -q '"activation": "powlu"' "$DIR/hf_powlu/config.json" || fail "powlu: actlab section"
test -s "$DIR/hf_powlu/modeling_actlab.py" && test -s "$DIR/hf_powlu/actlab_activations.py" || fail "powlu: modeling files"

expect_status 2 "$ACTLAB" export --tokenizer gpt2 --checkpoint "$DIR/run_powlu/checkpoint.bin" --safetensors "$DIR/x"
expect_status 2 "$ACTLAB" export --tokenizer gpt2
expect_status 1 "$ACTLAB" export --tokenizer bpe:123 --data-dir "$DIR" --safetensors "$DIR/x"
echo "test_hf_export: ok"
