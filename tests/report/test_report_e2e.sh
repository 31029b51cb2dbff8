#!/usr/bin/env bash
# test_report_e2e.sh ACTLAB MKSHARDS — a tiny sweep folder built by hand (plan.json, `actlab train`
# runs, run.json written as `actlab sweep` writes it), then `actlab report`: every section present,
# figures drawn, numbers parse back to the metrics they came from, identical bytes on a rerun, the
# no-gnuplot path, usage errors (exit 2) and bad input (exit 1, file and line named, nothing written).
set -u
ACTLAB=$1
MKSHARDS=$2
T=$(mktemp -d "${TMPDIR:-/tmp}/actlab_report_XXXXXX")
[ -n "${KEEP:-}" ] || trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
expect_status() {  # expect_status N command...
    local want=$1; shift
    "$@" >"$T/out.txt" 2>"$T/err.txt"; local got=$?
    [ "$got" = "$want" ] || { cat "$T/err.txt" >&2; fail "'$*' exited $got, expected $want"; }
}

mkdir -p "$T/data"
"$MKSHARDS" "$T/data" >/dev/null 2>&1 || { echo "FAIL: mkshards"; exit 1; }
S=$T/sweep
mkdir -p "$S/runs" "$T/logs"
VOCAB=300
BASE="--data-dir $T/data --vocab-size $VOCAB --n-heads 2 --n-kv-heads 2 --max-seq-len 16 --batch 4 --seq 16
      --warmup-steps 2 --lr 3e-3 --eval-interval 10 --eval-batches 2 --telemetry-interval 5 --threads 1 --steps 30"
PLAN=""

# last_num FILE KEY: the value of KEY in the last metrics line that has it ("null" stays "null").
last_num() { grep -o "\"$2\":[^,}]*" "$1" | tail -1 | cut -d: -f2; }

# run NAME EXPERIMENTS D_MODEL N_LAYERS [train flags...]: trains one run and writes its run.json.
run() {
    local name=$1 exps=$2 d=$3 L=$4; shift 4
    local dir="$S/runs/$name" log="$T/logs/$name.log"
    "$ACTLAB" train $BASE --d-model "$d" --n-layers "$L" "$@" --out "$dir" >/dev/null 2>"$log"
    local rc=$? status=failed
    case $rc in 0) status=done ;; 3) status=diverged ;; 1) status=stopped ;; esac
    local np; np=$(grep -o '[0-9]* parameters' "$log" | head -1 | cut -d' ' -f1)
    local fl fv steps
    fl=$(last_num "$dir/metrics.jsonl" loss); fv=$(last_num "$dir/metrics.jsonl" val_loss)
    steps=$(last_num "$dir/metrics.jsonl" step)
    printf '{"name":"%s","experiments":%s,"coords":{},"status":"%s","exit_code":%d,"steps_done":%s,"n_params":%s,"n_params_nonembed":%s,"final_loss":%s,"final_val_loss":%s}\n' \
        "$name" "$exps" "$status" "$rc" "${steps:-0}" "${np:-null}" "$((np - 2 * VOCAB * d))" "${fl:-null}" "${fv:-null}" \
        > "$dir/run.json"
    PLAN="$PLAN${PLAN:+,}{\"name\":\"$name\",\"dir\":\"runs/$name\",\"experiments\":$exps,\"coords\":{},\"steps\":30}"
}

for lr in 3e-3 6e-3; do
    for act in swiglu polynorm; do run "tune-$act-lr$lr" '["tune"]' 32 1 --act $act --seed 101 --lr $lr; done
done
for seed in 1 2; do
    run "e3-swiglu-seed$seed" '["E3","E1"]' 32 1 --act swiglu --seed $seed
    run "e3-polynorm-seed$seed" '["E3.poly"]' 32 1 --act polynorm --seed $seed
    run "e1-powlu-seed$seed" '["E1","E3"]' 32 1 --act powlu --seed $seed
    run "e4-m2-seed$seed" '["E4"]' 32 1 --act powlu --m 2 --seed $seed
done
run "e3-gelu-seed1" '["E3"]' 32 1 --act gelu --seed 1
for act in swiglu powlu; do
    for size in 16:1 24:1 32:2 48:2; do
        run "e5-${size%:*}x${size#*:}-$act" '["E5"]' "${size%:*}" "${size#*:}" --act $act
    done
    for lr in 0.003 0.3; do
        run "e2-$act-lr$lr" '["E2"]' 32 1 --act $act --lr $lr --precision fp8 --fp8-scaling delayed --spike-window 5
    done
    run "e2.ctl-$act-lr0.003" '["E2.ctl"]' 32 1 --act $act --lr 0.003 --precision bf16 --spike-window 5
done
PLAN="$PLAN,{\"name\":\"e3-relu-seed1\",\"dir\":\"runs/e3-relu-seed1\",\"experiments\":[\"E3\"],\"coords\":{},\"steps\":30}"
echo "{\"version\":1,\"name\":\"tiny\",\"spec_hash\":\"0\",\"runs\":[$PLAN]}" > "$S/plan.json"

# ---- usage ----
"$ACTLAB" report --help | grep -q "usage: actlab report" || fail "--help"
expect_status 2 "$ACTLAB" report
expect_status 2 "$ACTLAB" report "$S" --bogus
expect_status 2 "$ACTLAB" report "$S" "$S"

# ---- the report ----
expect_status 0 "$ACTLAB" report "$S"
MD=$S/report.md
[ -s "$MD" ] && [ -s "$S/report.html" ] || fail "report.md / report.html written"
for h in "## 1. Runs overview" "## 2. Loss and validation-loss curves" "## 3. Validation loss" \
         "## 4. E1: activation and gradient outliers" "## 5. E2: FP8 learning-rate ladder with a control" \
         "## 6. E3: PolyNorm and PolyReLU against the baselines" "## 7. E4: PowLU's m, an equivalence test" \
         "## 8. E5: scaling law" "## 9. Verdicts"; do
    grep -qxF "$h" "$MD" || fail "section heading '$h'"
done
grep -q '^| e3-relu-seed1 | E3 | .* | not finished |' "$MD" || fail "unfinished run listed as not finished"
[ "$(grep -cE '^- E[1-5]: (reproduced|not reproduced|inconclusive) — ' "$MD")" = 5 ] || fail "five verdict lines E1-E5"
grep -q '^- E6: not run' "$MD" || fail "E6 not run"
if grep -Eq 'tokens_per_s|/tmp/|actlab_report_' "$MD" "$S/report.html"; then fail "timings or paths leaked into the report"; fi

# Every finished run's final val loss in the runs table is the last val_loss of its metrics.jsonl.
checked=0
while IFS='|' read -r _ name _ _ _ _ _ _ _ status _ _ _ _ fval _; do
    name=$(echo $name); status=$(echo $status); fval=$(echo $fval)
    [ "$status" = "not finished" ] && continue
    want=$(awk -v v="$(last_num "$S/runs/$name/metrics.jsonl" val_loss)" 'BEGIN { if (v == "null" || v == "") print "n/a"; else printf "%.4f", v }')
    [ "$fval" = "$want" ] || fail "$name: final val loss $fval in report.md, $want in metrics.jsonl"
    checked=$((checked + 1))
done < <(grep -E '^\| (e[0-9][.a-z]*|tune)-' "$MD")
[ "$checked" = 27 ] || fail "checked $checked finished runs in the runs table, expected 27"
grep -q '^| tune-swiglu-lr3e-3 | tune | swiglu |' "$MD" || fail "tuning run tagged tune"
grep -q '^| e3-polynorm-seed1 | E3 | polynorm |' "$MD" || fail "E3.poly read as E3"

# The parameter split, computed from config.json, equals the n_params the trainer printed, for every model.
rows=$(grep -cE '^\| [a-z_]+ \| [0-9]+ \| [0-9]+ \| [0-9]+ \([0-9]+\) \| ' "$MD")
[ "$rows" -ge 6 ] || fail "parameter split rows: $rows"
if grep -E '^\| [a-z_]+ \| [0-9]+ \| [0-9]+ \| [0-9]+ \([0-9]+\) \| ' "$MD" | grep -vq '| yes | [0-9]'; then
    fail "a parameter split does not match n_params"
fi
# These tiny models are mostly embeddings: each gets the FFN-share warning.
grep -q '^\*\*Warning: swiglu at d_model 32, 1 layers has only' "$MD" || fail "FFN share warning"
# Tuning table, paired E3 rows, TOST rows.
grep -q '^| swiglu | 0.003 → [0-9.]*, 0.006 → [0-9.]* | 0.00[36] | \*\*warning: the best lr is at the edge' "$MD" || fail "tuning row"
grep -qE '^\| polynorm − swiglu \| 2 \| [-+][0-9.]+ \| \[[-+][0-9.]+, [-+][0-9.]+\] \| ' "$MD" || fail "E3 paired row"
grep -qE '^\| 2 \| 2 \| [0-9.]+ ± [0-9.]+ \| 2 \| [-+][0-9.]+ \| \[' "$MD" || fail "E4 TOST row for m = 2"
# The E2 control: the rung at 0.003 has one FP8 and one bf16 run per activation.
grep -qE '^\| swiglu \| delayed \| [0-9]+ \| 0.003 \| [01] / 1 \| [01] / 1 \| ' "$MD" || fail "E2 rung with control"
# New telemetry keys are optional: without them the sections say so instead of failing.
if ! grep -q '"z":' "$S/runs/e1-powlu-seed1/metrics.jsonl"; then
    grep -q 'no gate pre-activation (z) telemetry' "$MD" || fail "missing z telemetry stated"
else
    grep -qE '^PowLU \(E1\): z (never exceeded 4|exceeded 4 on [0-9]+ of 12 telemetry steps)' "$MD" || fail "z sentence"
    grep -qE '^\| powlu / swiglu \| up/gate weight gradient \| 2 \| [0-9.]+ \| \[' "$MD" || fail "weight-gradient ratio"
fi

# The swiglu mean ± std in the validation table, recomputed from the E3 metrics files.
want=$(for s in 1 2; do last_num "$S/runs/e3-swiglu-seed$s/metrics.jsonl" val_loss; done |
       awk '{ x[NR] = $1; s += $1 } END { m = s / NR; for (i = 1; i <= NR; i++) q += (x[i] - m) ^ 2;
             printf "%.4f ± %.4f", m, sqrt(q / (NR - 1)) }')
grep -qF "| swiglu | 2 | $want |" "$MD" || fail "validation table swiglu '$want'"
# The E2 ladder rows: saturated and flushed-to-zero sums of the lowp counts.
for r in e2-swiglu-lr0.003 e2-powlu-lr0.3; do
    f=$S/runs/$r/metrics.jsonl
    sat=$(grep -o '"lowp":{"n":[0-9]*,"sat":[0-9]*' "$f" | awk -F: '{ s += $NF } END { printf "%.0f", s }')
    ftz=$(grep -o '"lowp":{"n":[0-9]*,"sat":[0-9]*,"ftz":[0-9]*' "$f" | awk -F: '{ s += $NF } END { printf "%.0f", s }')
    # spike events: runs of consecutive flagged steps
    spikes=$(awk -F'"step":' 'BEGIN { last = -10 } /"spike"/ { split($2, a, ","); s = a[1] + 0; if (s != last + 1) n++; last = s } END { print n + 0 }' "$f")
    bumps=$(grep -c '"above_divergence_loss":true' "$f" || true)
    lr=${r##*-lr}; act=${r#e2-}; act=${act%-lr*}
    grep -qE "^\| $act \| fp8 \| delayed \| [0-9]+ \| $lr \| [0-9]+ \| [a-z]+ \| $bumps \| $spikes \| [-0-9]+ \| $sat \| $ftz \| " "$MD" ||
        fail "E2 row of $r: bumps $bumps, spikes $spikes, sat $sat, ftz $ftz"
done
grep -q "^| powlu | 4 | .* ± .* | .* ± .* |" "$MD" || fail "E5 fit of powlu over 4 sizes"

if command -v gnuplot >/dev/null; then
    for f in train_loss val_loss e1_act_out e1_grad_up e1_grad_gate e1_widths e2_ladder e2_loss e3_pairs e4_m e5_scaling; do
        [ -s "$S/figures/$f.svg" ] && [ -s "$S/figures/$f.png" ] || fail "figure $f.svg/.png"
        grep -qF "](figures/$f.svg)" "$MD" || fail "report.md links $f.svg"
    done
    # wgrad figures exist only when the trainer logs weight gradients: as many inline figures as links.
    links=$(grep -c '](figures/.*\.svg)' "$MD")
    [ "$links" -ge 11 ] || fail "$links figure links"
    [ "$(grep -o 'data:image/svg+xml;base64,' "$S/report.html" | wc -l)" = "$links" ] || fail "$links figures inline in report.html"
    if grep -qE 'src="(figures|http)|href="http' "$S/report.html"; then fail "report.html refers outside itself"; fi
else
    fail "gnuplot missing (scripts/setup.sh installs it)"
fi

# Identical run results, identical bytes.
mkdir -p "$T/first"; cp "$MD" "$S/report.html" "$T/first/"; cp -r "$S/figures" "$T/first/" 2>/dev/null
expect_status 0 "$ACTLAB" report "$S" --quiet
cmp -s "$MD" "$T/first/report.md" || fail "report.md differs on a rerun"
cmp -s "$S/report.html" "$T/first/report.html" || fail "report.html differs on a rerun"
for f in "$T"/first/figures/*.svg; do cmp -s "$f" "$S/figures/${f##*/}" || fail "${f##*/} differs on a rerun"; done

# ---- no gnuplot: the report is still written, and says so ----
cp -r "$S" "$T/nogp"; rm -rf "$T/nogp/figures" "$T/nogp/report."*
ACTLAB_GNUPLOT=/nonexistent/gnuplot "$ACTLAB" report "$T/nogp" >/dev/null 2>&1 || fail "report without gnuplot"
grep -q "^Figures skipped: gnuplot was not found" "$T/nogp/report.md" || fail "no-gnuplot line"
[ ! -e "$T/nogp/figures" ] || fail "figures folder made without gnuplot"
rm -f "$T/nogp/report."*
env PATH=/nonexistent "$ACTLAB" report "$T/nogp" >/dev/null 2>&1 || fail "report with gnuplot off PATH"
grep -q "^Figures skipped" "$T/nogp/report.md" || fail "no-gnuplot line (PATH)"
grep -qxF "## 9. Verdicts" "$T/nogp/report.md" || fail "sections without gnuplot"

# ---- bad input: exit 1, the file (and line) named, nothing written ----
expect_status 1 "$ACTLAB" report "$T/none"
grep -q "$T/none/plan.json" "$T/err.txt" || fail "missing folder names plan.json"
mkdir "$T/empty"
expect_status 1 "$ACTLAB" report "$T/empty"
grep -q "plan.json" "$T/err.txt" || fail "missing plan.json named"
[ -z "$(ls "$T/empty")" ] || fail "files written into a folder without plan.json"
cp -r "$T/nogp" "$T/bad"; cp "$T/bad/report.md" "$T/before.md"
echo '{"version": 1, "runs": [' > "$T/bad/plan.json"
expect_status 1 "$ACTLAB" report "$T/bad"
grep -q "plan.json:2: not valid JSON" "$T/err.txt" || fail "corrupt plan.json: file and line"
cp "$S/plan.json" "$T/bad/plan.json"
sed -i '3s/.*/{"step":3,"loss":oops}/' "$T/bad/runs/e3-gelu-seed1/metrics.jsonl"
expect_status 1 "$ACTLAB" report "$T/bad"
grep -q "runs/e3-gelu-seed1/metrics.jsonl:3: " "$T/err.txt" || fail "corrupt metrics line: file and line"
cmp -s "$T/bad/report.md" "$T/before.md" || fail "a failed report changed report.md"
[ -z "$(ls -a "$T/bad" | grep -v -E '^(\.|\.\.|report\.md|report\.html|plan\.json|runs)$')" ] || fail "leftover files"

echo "test_report_e2e: $fails failed"
[ "$fails" = 0 ]
