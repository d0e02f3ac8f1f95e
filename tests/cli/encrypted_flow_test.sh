#!/usr/bin/env bash
# End to end, as a user runs it: QAT training, compile to client and server parts, keygen, encrypt, run, decrypt;
# the decrypted classes equal the clear circuit's (fhenn predict --mode disable); then every artifact mix-up is
# refused with a clear error and a non-zero exit. Usage: encrypted_flow_test.sh PATH/TO/fhenn
set -uo pipefail
fhenn="$1"
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/scratch.sh"
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
source "$here/expect.sh"
must() { "$fhenn" "$@" > /dev/null || { echo "FAIL: fhenn $* exited non-zero" >&2; exit 1; }; }

# A small QAT network with rounding to 3 bits: cheap lookups (N=1024 class), a few seconds end to end.
must train --qat --hidden 12,12 --bits 2 --rounding-bits 3 --epochs 1 --prune 6 --prune-mode neuron --seed 3 \
  --out qat.fhm
must compile --model qat.fhm --out qat.fhc --client client.part --server server.part
printf 'x,y,label\n0.1,0.1,0\n0.9,0.2,1\n0.5,0.5,0\n0.2,0.8,1\n0.7,0.7,0\n0.95,0.95,0\n' > points.csv

must keygen --client client.part --secret-key secret.key --evaluation-keys evaluation.keys --json keygen.json
must encrypt --client client.part --secret-key secret.key --input points.csv --drop-column label --out inputs.enc \
  --json encrypt.json
grep -q '"bytes_per_ciphertext": 8' encrypt.json || fail "encrypt --json: inputs are not seed-compressed (8 bytes each)"
must run --server server.part --evaluation-keys evaluation.keys --input inputs.enc --out results.enc
"$fhenn" decrypt --client client.part --secret-key secret.key --input results.enc --out encrypted.csv \
  || fail "decrypt exited non-zero"
"$fhenn" predict --client client.part --server server.part --input points.csv --drop-column label --mode disable \
  --out clear.csv || fail "predict exited non-zero"
[ "$(cut -d, -f2 encrypted.csv)" = "$(cut -d, -f2 clear.csv)" ] \
  || fail "encrypted classes differ from the clear circuit's: $(paste -d' ' encrypted.csv clear.csv)"
[ "$(wc -l < encrypted.csv)" = 7 ] || fail "decrypt: expected a header and 6 rows"
grep -q '"evaluation_key_bytes"' keygen.json || fail "keygen --json: no evaluation_key_bytes"

# The secret key never reaches the server's files, and only its owner can read it.
cmp -s secret.key evaluation.keys && fail "evaluation keys equal the secret key"
[ "$(stat -c %a secret.key)" = 600 ] || fail "secret.key has mode $(stat -c %a secret.key), not 600"
# The client part holds no circuit: predicting needs the server part, and says so.
expect_error "pass the model's server part with --server" predict --client client.part --input points.csv \
  --drop-column label

# The security floor: a weak set is refused unless the user says --insecure, and is then marked.
expect_error "below 128-bit security" compile --model qat.fhm --out weak.fhc --client weak-client.part \
  --server weak-server.part --parameter-set test_weak
must compile --model qat.fhm --out weak.fhc --client weak-client.part --server weak-server.part \
  --parameter-set test_weak --insecure
expect_error "--insecure" keygen --client weak-client.part --secret-key weak.key --evaluation-keys weak.keys
"$fhenn" keygen --client weak-client.part --secret-key weak.key --evaluation-keys weak.keys --insecure \
  | grep -q INSECURE || fail "keygen --insecure does not mark its output INSECURE"

# Mix-ups: another model's keys, another key's ciphertexts, results as inputs, files of the wrong kind,
# truncated and corrupted files.
must train --qat --hidden 8,8 --bits 2 --rounding-bits 3 --epochs 1 --seed 4 --out other.fhm
must compile --model other.fhm --out other.fhc --client other-client.part --server other-server.part
must keygen --client other-client.part --secret-key other.key --evaluation-keys other.keys
expect_error "keygen" encrypt --client client.part --secret-key other.key --input points.csv --drop-column label
expect_error "evaluation keys were generated for model" run --server server.part --evaluation-keys other.keys \
  --input inputs.enc
must keygen --client client.part --secret-key second.key --evaluation-keys second.keys
expect_error "the inputs are encrypted under key" run --server server.part --evaluation-keys second.keys \
  --input inputs.enc
expect_error "decrypt with the key that encrypted the inputs" decrypt --client client.part --secret-key second.key \
  --input results.enc
expect_error "not a 'fhenn-encrypted-inputs'" run --server server.part --evaluation-keys evaluation.keys \
  --input results.enc
expect_error "not a 'fhenn-server-part'" run --server client.part --evaluation-keys evaluation.keys \
  --input inputs.enc
expect_error "it holds a 'fhenn-evaluation-keys'" decrypt --client client.part --secret-key evaluation.keys \
  --input results.enc
head -c -40 inputs.enc > truncated.enc
expect_error "truncated" run --server server.part --evaluation-keys evaluation.keys --input truncated.enc
cp results.enc corrupted.enc
printf '\x55' | dd of=corrupted.enc bs=1 seek=3000 conv=notrunc 2> /dev/null
expect_error "corrupted" decrypt --client client.part --secret-key secret.key --input corrupted.enc
printf 'x,y\n0.1,nan\n' > nan.csv
expect_error "not a finite number" encrypt --client client.part --secret-key secret.key --input nan.csv
printf 'x,y,z\n0.1,0.2,0.3\n' > wide.csv
expect_error "features per sample" encrypt --client client.part --secret-key secret.key --input wide.csv
expect_error "cannot open" keygen --client missing.part

if [ "$failures" -ne 0 ]; then
  echo "$failures failure(s)" >&2
  exit 1
fi
echo "encrypted flow: all checks passed"
