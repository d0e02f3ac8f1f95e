#!/usr/bin/env bash
# The reference's examples table, small: `fhenn experiment examples` and `fhenn demo --example` on a few hundred
# training samples, one or two epochs and a handful of encrypted samples. Usage: examples_test.sh PATH/TO/fhenn
set -euo pipefail
fhenn="$1"
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/scratch.sh"

fail() { echo "FAIL: $*" >&2; exit 1; }

"$fhenn" experiment examples --examples iris-mlp,digits-cnn,fashion-mlp --epochs 2 --train-limit 400 \
  --test-limit 60 --samples 4 --threads 2 --json examples.json > examples.txt
grep -q "reference" examples.txt || fail "experiment examples: no reference figures"
/usr/bin/python3 - examples.json <<'PY' || fail "experiment examples: the JSON table"
import json, sys
table = json.load(open(sys.argv[1]))
assert table["cpu"], "no CPU model"
rows = {row["name"]: row for row in table["examples"]}
assert list(rows) == ["iris-mlp", "digits-cnn", "fashion-mlp"], list(rows)
fields = ["fp32_accuracy", "circuit_accuracy", "simulated_accuracy", "encrypted_accuracy", "encrypted_samples",
          "agreement_encrypted_vs_clear", "lookups_per_sample", "max_lookup_input_bits", "parameter_set",
          "seconds_per_sample", "keygen_seconds", "evaluation_key_bytes", "ciphertext_bytes_per_sample",
          "training_seconds"]
for name, row in rows.items():
    missing = [f for f in fields if f not in row]
    assert not missing, (name, missing)
    for f in ["fp32_accuracy", "circuit_accuracy", "simulated_accuracy", "encrypted_accuracy"]:
        assert 0.0 <= row[f] <= 1.0, (name, f, row[f])
    assert row["encrypted_samples"] == 4, (name, row["encrypted_samples"])
    print(name, "agreement encrypted", row["agreement_encrypted_vs_clear"], "simulated",
          row["agreement_simulated_vs_clear"])
    assert row["lookups_per_sample"] > 0 and 1 <= row["max_lookup_input_bits"] <= 8, (name, row)
    assert row["circuit_accuracy"] > 0.3, (name, "the circuit is no better than chance", row["circuit_accuracy"])
    # Rounded lookups may read a neighbouring entry near a rounding boundary (approximate rounding): a class
    # may change, rarely; a wrong key or encoding would change most of them.
    assert row["agreement_encrypted_vs_clear"] >= 0.5, (name, row["agreement_encrypted_vs_clear"])
# Iris's lookups read few bits (automatic rounding), rounded approximately: its encrypted predictions agree with
# the clear circuit's as the simulator predicts, within one of the 4 samples.
iris = rows["iris-mlp"]
assert iris["agreement_encrypted_vs_clear"] >= iris["agreement_simulated_vs_clear"] - 0.25 - 1e-9, iris
assert rows["fashion-mlp"]["train_samples"] == 400 and rows["fashion-mlp"]["test_samples"] == 60
PY

# One example end to end as the demo runs it.
"$fhenn" demo --example digits --epochs 1 --samples 2 --json demo.json > demo.txt
grep -q "encrypted (TFHE)" demo.txt || fail "demo --example: no encrypted row"
grep -q '"name": "digits-cnn"' demo.json || fail "demo --example: the JSON names no example"

# An unknown example names the ones there are.
"$fhenn" experiment examples --examples mnist 2> unknown.txt && fail "an unknown example ran"
grep -q "choose one of iris-mlp, digits-cnn, fashion-mlp, fashion-cnn" unknown.txt || fail "unknown example: message"
"$fhenn" demo --example fashion 2> ambiguous.txt && fail "an ambiguous example ran"
grep -q "it starts several names" ambiguous.txt || fail "ambiguous example: message"
echo "examples ok"
