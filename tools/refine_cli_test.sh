#!/usr/bin/env bash
# tools:refine end to end on the fixture with a checkpoint trained for one
# step, then bad inputs: non-zero exit, a message naming the file and the
# field, and no output file.
set -euo pipefail
train="$1"
refine="$2"
tmp="${TEST_TMPDIR:-/tmp}/refine_cli"
rm -rf "$tmp" && mkdir -p "$tmp"
gt=testdata/coco/annotations/person_keypoints_val2017_fixture.json
images=testdata/coco/val2017
input=testdata/results/movenet_thunder_topdown_APH56dets_fixture_results.json

"$train" --annotations="$gt" --images="$images" --checkpoint_dir="$tmp/run" --resnet_depth=18 \
  --input_height=64 --input_width=64 --epochs=1 --batch_size=2 --max_steps_per_epoch=1 \
  --threads=2 --device=cpu > "$tmp/train.txt" 2>&1 || { cat "$tmp/train.txt"; exit 1; }
ckpt="$tmp/run/epoch_0000.pt"
[[ -f "$ckpt" ]] || { echo "no checkpoint"; cat "$tmp/train.txt"; exit 1; }

"$refine" --checkpoint="$ckpt" --images="$images" --gt="$gt" --input="$input" \
  --output="$tmp/refined.json" --device=cpu 2> "$tmp/report.txt" || { cat "$tmp/report.txt"; exit 1; }
grep -q '^refined: [1-9]' "$tmp/report.txt" || { echo "nothing refined"; cat "$tmp/report.txt"; exit 1; }
python3 - "$input" "$tmp/refined.json" <<'PY'
import json, sys
inp, out = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert out and len(out) <= len(inp), (len(out), len(inp))
assert all(len(r["keypoints"]) == 51 for r in out)
scores = {round(r["score"], 6) for r in inp}
assert all(round(r["score"], 6) in scores for r in out), "scores must pass through"
PY

fail() {  # fail EXPECTED_TEXT ARGS...: must exit non-zero, name EXPECTED_TEXT, write nothing
  local expected="$1"; shift
  rm -f "$tmp/out.json"
  if "$refine" --checkpoint="$ckpt" --images="$images" --output="$tmp/out.json" --device=cpu \
      "$@" 2> "$tmp/err.txt"; then
    echo "accepted: $*"; exit 1
  fi
  grep -qF -- "$expected" "$tmp/err.txt" || { echo "error lacks '$expected':"; cat "$tmp/err.txt"; exit 1; }
  [[ ! -e "$tmp/out.json" ]] || { echo "output written on error: $*"; exit 1; }
  ls "$tmp" | grep -q 'out.json.tmp' && { echo "temporary left behind"; exit 1; }
  return 0
}

# Wrong keypoint count.
python3 -c "
import json; r = json.load(open('$input')); r[1]['keypoints'] = r[1]['keypoints'][:50]
json.dump(r, open('$tmp/short.json', 'w'))"
fail "short.json: [1].keypoints" --gt="$gt" --input="$tmp/short.json"
# Empty file.
: > "$tmp/empty.json"
fail "empty.json" --gt="$gt" --input="$tmp/empty.json"
# Unknown image: an error, or a counted skip.
python3 -c "
import json; r = json.load(open('$input')); r[0]['image_id'] = 123456789
json.dump(r, open('$tmp/unknown.json', 'w'))"
fail "unknown.json: [0].image_id" --gt="$gt" --input="$tmp/unknown.json"
"$refine" --checkpoint="$ckpt" --images="$images" --gt="$gt" --input="$tmp/unknown.json" \
  --output="$tmp/skipped.json" --device=cpu --skip_unknown_images 2> "$tmp/report.txt"
grep -q '^skipped (unknown image): 1$' "$tmp/report.txt" || { cat "$tmp/report.txt"; exit 1; }
# Missing image file.
mkdir -p "$tmp/noimages"
fail "cannot read" --gt="$gt" --input="$input" --images="$tmp/noimages"
# Far keypoints: error when asked, clamped by default.
python3 -c "
import json; r = json.load(open('$input')); r[2]['keypoints'][0] = 1e6
json.dump(r, open('$tmp/far.json', 'w'))"
fail "far.json: [2].keypoints" --gt="$gt" --input="$tmp/far.json" --far_keypoints=error
"$refine" --checkpoint="$ckpt" --images="$images" --gt="$gt" --input="$tmp/far.json" \
  --output="$tmp/clamped.json" --device=cpu 2> "$tmp/report.txt"
grep -q '^clamped keypoints: 1$' "$tmp/report.txt" || { cat "$tmp/report.txt"; exit 1; }
# Missing checkpoint, missing flag.
fail "nonexistent.pt" --gt="$gt" --input="$input" --checkpoint="$tmp/nonexistent.pt"
fail "--gt is required" --input="$input"
# Refinement policies: an unknown one; selective on a model without a status head.
fail "--policy: unknown refinement policy \"some\"" --gt="$gt" --input="$input" --policy=some
fail "selective refinement needs a model trained with a status head" --gt="$gt" --input="$input" \
  --policy=selective
# Out-of-range numbers; a folder where a file belongs.
fail "--oks_nms: must be in [0, 1]" --gt="$gt" --input="$input" --oks_nms=-1
fail "--threads: must be >= 0" --gt="$gt" --input="$input" --threads=-4
fail "--batch_size: must be positive" --gt="$gt" --input="$input" --batch_size=0
fail "$tmp: is a folder, not a file" --gt="$gt" --input="$tmp"
echo PASS
