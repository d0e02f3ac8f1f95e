#!/usr/bin/env bash
# Bad inputs to the clear-workflow commands: each gets a clear error message and a non-zero exit.
# Usage: bad_inputs_test.sh PATH/TO/fhenn
set -uo pipefail
fhenn="$1"
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/scratch.sh"
source "$here/expect.sh"

printf 'x,y,label\n1,2,0\n3,4\n' > ragged.csv
printf 'x,y,label\n1,2,0\n3,abc,1\n' > word.csv
printf 'x,y,label\n1,2,0\n3,nan,1\n' > nan.csv
printf 'x,y,label\n1,2,0\n3,inf,1\n' > inf.csv
: > empty.csv
printf 'x,y,class\n1,2,0\n3,4,1\n' > nolabel.csv
printf 'x,y,label\n1,2,0\n3,4,0.5\n' > fraction.csv
printf 'a,b,c,label\n1,2,3,0\n4,5,6,1\n7,8,9,0\n1,1,1,1\n' > three.csv
head -c 100 /dev/urandom > garbage.fhm

train=(train --hidden 4 --epochs 1 --out m.fhm)
expect_error "ragged row" "${train[@]}" --data ragged.csv --label-column label
expect_error "word.csv:3: column 2 ('y'): 'abc' is not a number" "${train[@]}" --data word.csv --label-column label
expect_error "not a finite number" "${train[@]}" --data nan.csv --label-column label
expect_error "not a finite number" "${train[@]}" --data inf.csv --label-column label
expect_error "is empty" "${train[@]}" --data empty.csv
expect_error "no column named 'label'" "${train[@]}" --data nolabel.csv --label-column label
expect_error "is not a class number" "${train[@]}" --data fraction.csv --label-column label
expect_error "no data file" "${train[@]}" --data missing.csv
expect_error "unknown pruning mode" "${train[@]}" --prune 2 --prune-mode rows
expect_error "at least 1 non-zero" "${train[@]}" --prune 0
expect_error "at least 1 epoch" train --hidden 4 --epochs 0 --out m.fhm
expect_error "learning rate" train --hidden 4 --lr -1 --out m.fhm
expect_error "--out is required" train --hidden 4
expect_error "unknown learning-rate schedule 'step'" "${train[@]}" --lr-schedule step
expect_error "--standardize is for float training" "${train[@]}" --qat --standardize

"$fhenn" train --hidden 4 --epochs 1 --out small.fhm > /dev/null || { echo "FAIL: training a small model" >&2; exit 1; }
expect_error "garbage.fhm" compile --model garbage.fhm --out c.fhc
expect_error "missing.fhm" compile --model missing.fhm --out c.fhc
expect_error "reads 2 features but the data has 3" compile --model small.fhm --data three.csv --out c.fhc
expect_error "bits" compile --model small.fhm --n-bits 1 --out c.fhc
expect_error "rounding-bits" compile --model small.fhm --rounding-bits 0 --out c.fhc
expect_error "the limit is 6; set rounding_threshold_bits to 6 or less, or lower the weight or input bits" compile --model small.fhm --rounding-bits none --lookup-bits 6 --out c.fhc
expect_error "--rounding-bits is 'seven': give 'auto', 'none' or a number of bits" compile --model small.fhm --rounding-bits seven --out c.fhc
expect_error "rounding-tolerance" compile --model small.fhm --rounding-tolerance 1.5 --out c.fhc
expect_error "unknown --measure" compile --model small.fhm --measure typical --out c.fhc
expect_error "small.fhm" evaluate --model small.fhm --compiled small.fhm
"$fhenn" train --data three.csv --hidden 4 --epochs 1 --test-fraction 0.5 --out three.fhm > /dev/null \
  || { echo "FAIL: training on three.csv" >&2; exit 1; }
expect_error "needs a model with 2 input features" plot --model three.fhm --data three.csv --out p.png
expect_error "add --confusion for a confusion matrix" plot --model three.fhm --data three.csv --out p.png
expect_error "--runs must be at least 1" experiment ptq --runs 0
expect_error "unknown --recipe 'fast'" experiment ptq --recipe fast

if [ "$failures" -ne 0 ]; then echo "$failures bad-input checks failed" >&2; exit 1; fi
echo "bad inputs ok"
