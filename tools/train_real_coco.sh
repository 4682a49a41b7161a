#!/bin/bash
# Evidence run (issue 6, item 5): trains C2F (ResNet-18, random init: no
# ImageNet weights are available offline) on the real COCO images in
# ../shared/data — train2017 (local) plus the local val2017 images MINUS the
# 34 that have exact annotations, which are kept out for evaluation — on the
# CPU with 2 threads.
#   bash tools/train_real_coco.sh [WORK_DIR]   (default /tmp/posefix_real)
# Environment overrides: EPOCHS, MILESTONES, HEIGHT, WIDTH, BATCH, LR, THREADS.
# Resumable: run it again after an interruption.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-$PWD/../shared/data}
WORK=${1:-/tmp/posefix_real}
mkdir -p "$WORK"

# One annotation file over both image folders: file_name gets the folder.
python3 - "$DATA" "$WORK/train_merged.json" <<'PY'
import json, os, sys
data, out = sys.argv[1], sys.argv[2]
ann = data + "/coco/annotations/"
exact = {i["id"] for i in json.load(open(ann + "person_keypoints_val2017_exact538.json"))["images"]}
merged = {"images": [], "annotations": [], "categories": None}
for name, folder in (("person_keypoints_train2017_local.json", "train2017"),
                     ("person_keypoints_val2017_local.json", "val2017")):
    d = json.load(open(ann + name))
    merged["categories"] = d["categories"]
    keep = set()
    for image in d["images"]:
        path = os.path.join(data, "coco/images", folder, image["file_name"])
        if image["id"] in exact or not os.path.exists(path):
            continue
        image = dict(image, file_name=folder + "/" + image["file_name"])
        merged["images"].append(image)
        keep.add(image["id"])
    merged["annotations"] += [a for a in d["annotations"] if a["image_id"] in keep]
# The two files reuse annotation ids (900000001, ...): repeats get fresh ones,
# as the runner's merge does (a ground truth must not repeat an id).
next_id = 1 + max(a["id"] for a in merged["annotations"])
seen = set()
for a in merged["annotations"]:
    if a["id"] in seen:
        a["id"], next_id = next_id, next_id + 1
    seen.add(a["id"])
tmp = out + ".tmp"
json.dump(merged, open(tmp, "w"))
os.replace(tmp, out)
print("%d images, %d annotations (kept out: %d exact val2017 images)" %
      (len(merged["images"]), len(merged["annotations"]), len(exact)))
PY

bazel build //tools:train
bazel-bin/tools/train \
  --annotations="$WORK/train_merged.json" --images="$DATA/coco/images" \
  --checkpoint_dir="$WORK/run" --resnet_depth=18 \
  --input_height="${HEIGHT:-128}" --input_width="${WIDTH:-96}" \
  --epochs="${EPOCHS:-30}" --lr_milestones="${MILESTONES:-20,26}" \
  --batch_size="${BATCH:-16}" --learning_rate="${LR:-1e-3}" \
  --threads="${THREADS:-2}" --loader_threads=1 --device=cpu --seed=1 \
  --training='log_every_steps: 10'
