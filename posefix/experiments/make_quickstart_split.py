#!/usr/bin/env python3
"""Splits the 16-image COCO fixture into the quickstart's train and eval halves.

The images, sorted by id, alternate: even positions train, odd positions
evaluate. Writes (relative to the repository root):
  testdata/coco/annotations/person_keypoints_val2017_fixture_train.json
  testdata/coco/annotations/person_keypoints_val2017_fixture_eval.json
  testdata/results/movenet_thunder_topdown_APH56dets_fixture_eval_results.json
  testdata/results/movenet_multipose_lightning_fixture_eval_results.json
  testdata/results/movenet_thunder_topdown_gtboxes_fixture_eval_results.json
Every member of the source files is kept; only images, annotations and
results are filtered.

  python3 posefix/experiments/make_quickstart_split.py [--root .]
"""
import argparse
import json
import os

FIXTURE = "testdata/coco/annotations/person_keypoints_val2017_fixture.json"
# Source results file -> the file of its results on the evaluation half.
RESULTS = {
    "testdata/results/movenet_thunder_topdown_APH56dets_fixture_results.json":
        "testdata/results/movenet_thunder_topdown_APH56dets_fixture_eval_results.json",
    "testdata/results/movenet_multipose_lightning_val2017_260imgs_results.json":
        "testdata/results/movenet_multipose_lightning_fixture_eval_results.json",
    "testdata/results/movenet_thunder_topdown_gtboxes_val2017_260imgs_results.json":
        "testdata/results/movenet_thunder_topdown_gtboxes_fixture_eval_results.json",
}


def subset(dataset, image_ids):
    out = dict(dataset)
    out["images"] = [im for im in dataset["images"] if im["id"] in image_ids]
    out["annotations"] = [a for a in dataset["annotations"] if a["image_id"] in image_ids]
    return out


def write(path, value):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(value, f, separators=(",", ":"))
        f.write("\n")
    os.replace(tmp, path)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", default=".")
    args = parser.parse_args()
    with open(os.path.join(args.root, FIXTURE)) as f:
        dataset = json.load(f)
    ids = sorted(im["id"] for im in dataset["images"])
    train, evaluation = set(ids[0::2]), set(ids[1::2])
    base = os.path.join(args.root, "testdata/coco/annotations/person_keypoints_val2017_fixture")
    write(base + "_train.json", subset(dataset, train))
    write(base + "_eval.json", subset(dataset, evaluation))
    for source, target in RESULTS.items():
        with open(os.path.join(args.root, source)) as f:
            results = json.load(f)
        write(os.path.join(args.root, target),
              [r for r in results if r["image_id"] in evaluation])


if __name__ == "__main__":
    main()
