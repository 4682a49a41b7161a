#!/usr/bin/env bash
# The evaluate tool: summary layout, --out text proto, non-zero exit on bad files.
set -euo pipefail
evaluate="$1"
gt=testdata/golden/mmpose_coco4/gt.json
dt=testdata/golden/mmpose_coco4/dt.json
out="${TEST_TMPDIR:-/tmp}/metrics.pbtxt"

"$evaluate" --gt="$gt" --dt="$dt" --analyze --out="$out" > "${TEST_TMPDIR:-/tmp}/stdout.txt"
lines=$(grep -c '^ Average' "${TEST_TMPDIR:-/tmp}/stdout.txt")
[[ "$lines" == 10 ]] || { echo "expected 10 summary lines, got $lines"; exit 1; }
grep -q '^ Average Precision  (AP) @\[ IoU=0.50:0.95 | area=   all | maxDets= 20 \] = 0.861$' \
  "${TEST_TMPDIR:-/tmp}/stdout.txt" || { echo "AP line missing"; exit 1; }
grep -q 'Keypoint errors' "${TEST_TMPDIR:-/tmp}/stdout.txt" || { echo "no error table"; exit 1; }
grep -q '^  ap: 0.86088960544406' "$out" || { echo "metrics proto lacks ap"; cat "$out"; exit 1; }
grep -q 'good: 160' "$out" || { echo "metrics proto lacks error counts"; exit 1; }

if "$evaluate" --gt=testdata/golden/none.json --dt="$dt" 2> "${TEST_TMPDIR:-/tmp}/stderr.txt"; then
  echo "missing file accepted"; exit 1
fi
grep -q 'testdata/golden/none.json' "${TEST_TMPDIR:-/tmp}/stderr.txt" || { echo "error does not name the file"; exit 1; }
if "$evaluate" --gt="$gt" --dt="$gt" 2>/dev/null; then echo "bad results accepted"; exit 1; fi
echo PASS
