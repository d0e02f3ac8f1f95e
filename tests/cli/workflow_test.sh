#!/usr/bin/env bash
# End to end: a user CSV with another network shape and other bit widths, a pruned checkerboard network, and the
# packaged data sets, through fhenn train, compile, evaluate (in the clear and encrypted) and plot. Usage: workflow_test.sh PATH/TO/fhenn
set -euo pipefail
fhenn="$1"
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/scratch.sh"

fail() { echo "FAIL: $*" >&2; exit 1; }
# The number after "key": in a JSON file (first match).
json_number() { grep -o "\"$2\": *[-0-9.e+]*" "$1" | head -1 | sed 's/.*: *//'; }

# A user's data: 3 features, 3 classes, the label column named in the header and not last.
awk 'BEGIN { srand(7); print "a,b,species,c";
  for (i = 0; i < 600; i++) { a = rand(); b = rand(); c = rand();
    label = (a + b < 0.7) ? 0 : ((a - c > 0.1) ? 1 : 2);
    printf "%.5f,%.5f,%d,%.5f\n", a, b, label, c } }' > user.csv
data=(--data user.csv --label-column species --test-fraction 0.25 --data-seed 3)

"$fhenn" train "${data[@]}" --hidden 16,12,8 --epochs 8 --lr 0.003 --batch-size 4 --seed 5 \
  --out user.fhm --json train.json
[ "$(json_number train.json input_size)" = 3 ] || fail "train: input size"
[ "$(json_number train.json classes)" = 3 ] || fail "train: classes"

"$fhenn" compile --model user.fhm "${data[@]}" --bits-inputs 6 --bits-weights 2 --bits-activations 4 \
  --rounding-bits 6 --out user.fhc --print --json compile.json > compile.txt
grep -q "fc4.accumulator" compile.txt || fail "compile --print: no fc4 (3 hidden layers + output)"
grep -q "accumulator size" compile.txt || fail "compile: no bit-width report"
grep -q '"op_weights": 2' compile.json || fail "compile: weight bits not 2"

"$fhenn" evaluate --model user.fhm --compiled user.fhc "${data[@]}" --json evaluate.json
quantized="$(json_number evaluate.json quantized_accuracy)"
circuit="$(json_number evaluate.json circuit_accuracy)"
[ "$quantized" = "$circuit" ] || fail "evaluate: circuit $circuit != quantized $quantized"
awk -v a="$(json_number evaluate.json fp32_accuracy)" 'BEGIN { exit !(a > 0.5) }' || fail "user model did not learn"

# The checkerboard, pruned per neuron, through every command.
"$fhenn" train --hidden 20,20 --epochs 1 --prune 5 --prune-mode neuron --out board.fhm --json board.json
grep -A4 '"max_non_zero_per_neuron"' board.json | grep -qE '^ *(6|[7-9]|[1-9][0-9]+),?$' \
  && fail "neuron pruning left more than 5 non-zero weights in a neuron"
"$fhenn" compile --model board.fhm --n-bits 4 --rounding-bits none --out board.fhc > /dev/null 2>&1 \
  && fail "compile: a 4-bit circuit with 10-bit accumulators was not refused"
# By default the rounding is chosen: the fewest bits that keep the calibration set's accuracy, planned.
"$fhenn" compile --model user.fhm "${data[@]}" --n-bits 4 --out auto.fhc --client auto.client \
  --server auto.server --json auto.json > auto.txt
grep -q "automatic rounding: lookups read at most" auto.txt || fail "compile: no automatic rounding reported"
/usr/bin/python3 - auto.json <<'PY' || fail "compile: automatic rounding JSON"
import json, sys
j = json.load(open(sys.argv[1]))
a = j["auto_rounding"]
assert a["unrounded_bits"] >= 10 and a["bits"] < a["unrounded_bits"], a
assert a["tolerance_of"] == "accuracy" and a["samples"] == 450, a  # the training labels
assert a["meets_target"] and a["rounded_accuracy"] >= a["unrounded_accuracy"] - a["tolerance"] - 1e-9, a
assert j["rounding_threshold_bits"] == a["bits"], j
assert j["deployment"]["max_lookup_input_bits"] <= a["bits"], j["deployment"]
assert all(acc["kept_bits"] <= a["bits"] for acc in a["accumulators"]), a
# the search's steps: fewer bits than chosen either cost too much accuracy or run on as costly a set
steps = {s["bits"]: s for s in a["steps"]}
chosen = steps[a["bits"]]
for bits, step in steps.items():
    if bits < a["bits"]:
        assert (step["accuracy"] is None or step["accuracy"] < a["unrounded_accuracy"] - a["tolerance"]
                or step["cost"] == chosen["cost"]), steps
PY
"$fhenn" compile --model board.fhm --n-bits 4 --rounding-bits 7 --lookup-bits 16 --out board.fhc > /dev/null
"$fhenn" evaluate --model board.fhm --compiled board.fhc --json - | grep -q '"circuit_accuracy"' || fail "evaluate json"
"$fhenn" plot --model board.fhm --compiled board.fhc --out board.png
[ "$(head -c 8 board.png | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "plot: not a PNG"

# Standardised inputs with a cosine schedule: the saved model takes raw features (standardisation folded into fc1),
# so the compiled circuit matches its quantized model and the float model still scores what training measured.
"$fhenn" train --hidden 12,12 --epochs 1 --standardize --lr-schedule cosine --out std.fhm --json std.json > /dev/null
grep -q '"standardize_inputs": true' std.json || fail "train: --standardize not recorded"
"$fhenn" compile --model std.fhm --n-bits 3 --rounding-bits 6 --out std.fhc > /dev/null
"$fhenn" evaluate --model std.fhm --compiled std.fhc --json std_eval.json > /dev/null
awk -v a="$(json_number std.json test_accuracy)" -v b="$(json_number std_eval.json fp32_accuracy)" \
  'BEGIN { d = a - b; exit !(d < 0.005 && d > -0.005) }' \
  || fail "the saved standardised model does not score what training measured"
[ "$(json_number std_eval.json quantized_accuracy)" = "$(json_number std_eval.json circuit_accuracy)" ] \
  || fail "standardised model: circuit != quantized"

# Fashion-MNIST from Debian's package: 784 pixel features, 10 classes, a few hundred images of each split.
fashion=(--data fashion-mnist --train-limit 600 --test-limit 200)
"$fhenn" train "${fashion[@]}" --hidden 16 --epochs 2 --batch-size 16 --lr 0.003 --out fashion.fhm \
  --json fashion.json > /dev/null
[ "$(json_number fashion.json input_size)" = 784 ] || fail "fashion-mnist: input size"
[ "$(json_number fashion.json classes)" = 10 ] || fail "fashion-mnist: classes"
"$fhenn" compile --model fashion.fhm "${fashion[@]}" --n-bits 6 --rounding-bits 7 --out fashion.fhc > /dev/null
"$fhenn" evaluate --model fashion.fhm --compiled fashion.fhc "${fashion[@]}" --json fashion_eval.json > /dev/null
awk -v a="$(json_number fashion_eval.json fp32_accuracy)" 'BEGIN { exit !(a > 0.4) }' \
  || fail "fashion-mnist: the model did not learn (10 classes: chance is 0.1)"
[ "$(json_number fashion_eval.json quantized_accuracy)" = "$(json_number fashion_eval.json circuit_accuracy)" ] \
  || fail "fashion-mnist: circuit != quantized"

# Iris and the digits from python3-sklearn's files; Iris predicted encrypted (exact lookups: encrypted = clear).
iris=(--data iris --data-seed 1)
"$fhenn" train "${iris[@]}" --hidden 8 --epochs 20 --lr 0.003 --batch-size 4 --seed 2 --out iris.fhm \
  --json iris.json > /dev/null
[ "$(json_number iris.json input_size)" = 4 ] || fail "iris: input size"
[ "$(json_number iris.json classes)" = 3 ] || fail "iris: classes"
"$fhenn" evaluate --model iris.fhm "${iris[@]}" --n-bits 2 --bits-inputs 3 --rounding-bits none --encrypted 3 \
  --threads 2 --json iris_eval.json > /dev/null
[ "$(json_number iris_eval.json encrypted_samples)" = 3 ] || fail "iris: encrypted samples"
awk -v a="$(json_number iris_eval.json agreement_encrypted_vs_clear)" 'BEGIN { exit !(a == 1) }' \
  || fail "iris: encrypted != clear"
grep -q '"parameter_set": "' iris_eval.json || fail "iris: no parameter set"
"$fhenn" train --data digits --hidden 16 --epochs 2 --batch-size 16 --lr 0.003 --out digits.fhm \
  --json digits.json > /dev/null
[ "$(json_number digits.json input_size)" = 64 ] || fail "digits: input size"
[ "$(json_number digits.json classes)" = 10 ] || fail "digits: classes"

# A CNN from a JSON architecture on the digits: trained, saved as a model graph, compiled and evaluated.
cat > cnn.json <<'JSON'
{"input": [1, 8, 8], "layers": [{"op": "conv", "out_channels": 4, "kernel": 3, "padding": 1}, {"op": "relu"},
  {"op": "avgpool", "kernel": 2}, {"op": "flatten"}, {"op": "linear", "out_features": 10}]}
JSON
"$fhenn" train --data digits --arch cnn.json --epochs 3 --batch-size 16 --lr 0.01 --out cnn.fhm \
  --json cnn_train.json > /dev/null
[ "$(json_number cnn_train.json classes)" = 10 ] || fail "cnn: classes"
"$fhenn" compile --model cnn.fhm --data digits --n-bits 5 --rounding-bits 6 --out cnn.fhc --json cnn_compile.json \
  > /dev/null
"$fhenn" evaluate --model cnn.fhm --compiled cnn.fhc --data digits --json cnn_eval.json > /dev/null
awk -v f="$(json_number cnn_eval.json fp32_accuracy)" -v q="$(json_number cnn_eval.json circuit_accuracy)" \
  'BEGIN { exit !(f > 0.8 && q > f - 0.05) }' || fail "cnn: the circuit does not track the float model"
echo '{"input": [1, 8, 8], "layers": [{"op": "linear", "out_features": 10}]}' > flat.json
"$fhenn" train --data digits --arch flat.json --out x.fhm 2> arch_error.txt && fail "cnn: a bad architecture trained"
grep -q 'add {"op": "flatten"} before it' arch_error.txt || fail "cnn: the architecture error names no fix"
sed 's/"out_features": 10/"out_features": 4/' cnn.json > four.json
"$fhenn" train --data digits --arch four.json --out x.fhm 2> classes_error.txt && fail "cnn: 4 scores for 10 classes"
grep -q "gives 4 scores but the data has 10 classes" classes_error.txt || fail "cnn: the class error is unclear"
# Its confusion matrices: float and circuit side by side, 10 x 10 cells of 52 pixels each (with labels and margins).
"$fhenn" plot --model cnn.fhm --compiled cnn.fhc --data digits --confusion --out confusion.png > plot.txt
[ "$(head -c 8 confusion.png | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "plot --confusion: not a PNG"
grep -q "rows: true class, columns: predicted class, on the 359 test samples" plot.txt || fail "plot --confusion: text"
width=$(od -An -tu1 -j 16 -N 4 confusion.png | awk '{ print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4 }')
[ "$width" -gt 1000 ] || fail "plot --confusion: $width pixels wide, not two 10-class panels"

# Structured pruning: half of the CNN's 4 channels removed after training, fine-tuned, and fewer bootstraps.
"$fhenn" train --data digits --arch cnn.json --epochs 3 --batch-size 16 --lr 0.01 --prune-channels 0.5 \
  --fine-tune-epochs 1 --out pruned.fhm --json pruned.json > pruned.txt
grep -q "pruned 2 of 4 channels" pruned.txt || fail "--prune-channels: not reported"
[ "$(json_number pruned.json pruned_channels)" = 2 ] || fail "--prune-channels: 2 channels"
for m in cnn pruned; do
  "$fhenn" compile --model $m.fhm --data digits --n-bits 4 --rounding-bits 5 --out $m.fhc --client $m.client \
    --server $m.server --json ${m}_plan.json > /dev/null
done
[ "$(json_number pruned_plan.json bootstraps_per_sample)" -lt "$(json_number cnn_plan.json bootstraps_per_sample)" ] \
  || fail "--prune-channels: no fewer bootstraps"
"$fhenn" train --data digits --hidden 8 --prune-channels 0.5 --out x.fhm 2> prune_error.txt \
  && fail "--prune-channels with --hidden"
grep -q "prune the networks of --arch" prune_error.txt || fail "--prune-channels: the --hidden error is unclear"

# The CNN trained with its quantizers (3 bits, a weight scale per channel): the circuit, unrounded, classifies the
# test split exactly as training measured it.
"$fhenn" train --data digits --arch cnn.json --qat --bits 3 --weight-scales per-channel --epochs 3 --batch-size 16 \
  --lr 0.01 --out qat_cnn.fhm --json qat_cnn.json > qat_cnn.txt
grep -q "exactly what its circuit computes" qat_cnn.txt || fail "qat cnn: not reported as the circuit"
"$fhenn" evaluate --model qat_cnn.fhm --data digits --rounding-bits none --json qat_cnn_eval.json > /dev/null
/usr/bin/python3 - qat_cnn.json qat_cnn_eval.json <<'PY' || fail "qat cnn: circuit != trained network"
import json, sys
train, evaluation = (json.load(open(f)) for f in sys.argv[1:])
assert train["qat"] and train["weight_scales"] == "per-channel" and train["test_accuracy"] > 0.8, train
assert evaluation["circuit_accuracy"] == train["test_accuracy"], (evaluation, train)
PY
"$fhenn" train --data digits --arch cnn.json --qat --weight-scales per-row --out x.fhm 2> scales_error.txt \
  && fail "qat cnn: per-row weight scales"
grep -q "give per-tensor or per-channel" scales_error.txt || fail "qat cnn: the weight-scales error is unclear"
"$fhenn" train --data digits --arch cnn.json --qat --rounding-bits 4 --out x.fhm 2> rounding_error.txt \
  && fail "qat cnn: --rounding-bits"
grep -q "rounded by the compiler" rounding_error.txt || fail "qat cnn: the --rounding-bits error is unclear"

# A residual CNN (a skip connection around a convolution), compiled with automatic rounding (the encrypted run of
# a residual circuit is tested in the compiler's tests).
cat > residual.json <<'JSON'
{"input": [1, 8, 8], "layers": [{"op": "conv", "out_channels": 4, "kernel": 3, "stride": 2, "padding": 1},
  {"op": "relu"}, {"op": "residual", "layers": [{"op": "conv", "out_channels": 4, "kernel": 3, "padding": 1},
  {"op": "relu"}]}, {"op": "flatten"}, {"op": "linear", "out_features": 10}]}
JSON
"$fhenn" train --data digits --arch residual.json --epochs 6 --batch-size 16 --lr 0.01 --seed 3 --out res.fhm \
  > /dev/null
"$fhenn" evaluate --model res.fhm --data digits --n-bits 5 --json res_eval.json > res.txt
grep -q "automatic rounding: lookups read at most" res.txt || fail "residual cnn: no automatic rounding"
/usr/bin/python3 - res_eval.json <<'PY' || fail "residual cnn: evaluation"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["fp32_accuracy"] > 0.85 and j["circuit_accuracy"] > j["fp32_accuracy"] - 0.05, j
a = j["auto_rounding"]
assert a["bits"] < a["unrounded_bits"] and [acc["tensor"] for acc in a["accumulators"]][:2] == ["conv1", "conv2"], a
PY
sed 's/"out_channels": 4, "kernel": 3, "padding": 1}/"out_channels": 5, "kernel": 3, "padding": 1}/' residual.json \
  > reshaped.json
"$fhenn" train --data digits --arch reshaped.json --out x.fhm 2> res_error.txt && fail "residual: a reshaping block"
grep -q "its layers turn (4, 4, 4) into (5, 4, 4)" res_error.txt || fail "residual: the shape error is unclear"

# A short experiment: the JSON has both tables and the circuit matches the quantized model.
"$fhenn" experiment ptq --runs 1 --epochs 1 --threads 2 --json ptq.json > ptq.txt
grep -q '"pruned"' ptq.json || fail "experiment: no pruned table"
grep -q '"circuit_matches_quantized_every_run": false' ptq.json && fail "experiment: circuit != quantized"
grep -q "reference" ptq.txt || fail "experiment: no reference figures"
grep -q '"recipe": "improved"' ptq.json || fail "experiment: the default recipe is not recorded"
echo "workflow ok"
