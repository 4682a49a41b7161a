#!/usr/bin/env bash
# Differential test: random cases scored by pycocotools and by
# //posefix/eval:coco_eval_batch must agree on every statistic.
set -euo pipefail
python="${POSEFIX_PYTHON:-/opt/posefix/venv/bin/python}"
exec "$python" "$1" --batch="$2" --cases="${POSEFIX_DIFFERENTIAL_CASES:-1200}" \
  --workdir="${TEST_TMPDIR:-$(mktemp -d)}"
