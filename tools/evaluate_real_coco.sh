#!/bin/bash
# Evidence run, second half: refines MoveNet's real outputs with the model of
# tools/train_real_coco.sh and evaluates before and after with posefix/eval,
# on the 34 val2017 images with exact annotations (kept out of training).
#   bash tools/evaluate_real_coco.sh [WORK_DIR] [CHECKPOINT]
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-$PWD/../shared/data}
WORK=${1:-/tmp/posefix_real}
CKPT=${2:-$(grep '^checkpoint:' "$WORK/run/training_state.pbtxt" | sed 's/.*"\(.*\)"/\1/')}
[[ "$CKPT" == /* ]] || CKPT="$WORK/run/$CKPT"
GT=$DATA/coco/annotations/person_keypoints_val2017_exact34.json
IMAGES=$DATA/coco/images/val2017
bazel build //tools:refine //posefix/eval:evaluate

# MoveNet multipose lightning, restricted to the 34 kept-out images.
python3 - "$DATA/results/movenet_multipose_lightning_val2017_260imgs_results.json" "$GT" \
  "$WORK/multipose_34.json" <<'PY'
import json, sys
ids = {i["id"] for i in json.load(open(sys.argv[2]))["images"]}
json.dump([r for r in json.load(open(sys.argv[1])) if r["image_id"] in ids], open(sys.argv[3], "w"))
PY

for name in thunder_aph56 multipose_34; do
  case $name in
    thunder_aph56) input=$DATA/results/movenet_thunder_topdown_APH56dets_val2017_34imgs_results.json ;;
    multipose_34) input=$WORK/multipose_34.json ;;
  esac
  for flip in true false; do
    out=$WORK/${name}_refined_flip_${flip}.json
    bazel-bin/tools/refine --checkpoint="$CKPT" --images="$IMAGES" --gt="$GT" --input="$input" \
      --output="$out" --flip_test=$flip --threads=2 --device=cpu 2> "$WORK/${name}_refine_${flip}.log"
    grep -E '^(refined|written|instances/s)' "$WORK/${name}_refine_${flip}.log" | tr '\n' ' '; echo
  done
  echo "== $name: before"
  bazel-bin/posefix/eval/evaluate --gt="$GT" --dt="$input" | grep -E 'Average Precision  \(AP\) @\[ IoU=0.50(:0.95)? +\| area=   all'
  for flip in true false; do
    echo "== $name: after (flip test $flip)"
    bazel-bin/posefix/eval/evaluate --gt="$GT" --dt="$WORK/${name}_refined_flip_${flip}.json" \
      | grep -E 'Average Precision  \(AP\) @\[ IoU=0.50(:0.95)? +\| area=   all'
  done
done
