"""Differential test of //posefix/eval against pycocotools' COCOeval.

Generates random keypoint evaluation cases from a fixed seed (random image
counts, persons of every size, crowd regions, partially labelled and
keypoint-less ground truth, tied scores, empty images, detections without
ground truth and ground truth without detections, more detections than
maxDets, custom keypoint schemas, results with and without boxes), scores each
with pycocotools and with the coco_eval_batch binary, and fails on any
statistic that differs by more than 1e-12.
"""

import argparse
import contextlib
import copy
import io
import json
import os
import subprocess
import sys

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

TOLERANCE = 1e-12
STAT_NAMES = ["AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75", "ARm", "ARl"]


def random_person(rng, num_keypoints, image_size, category_id):
    size_class = rng.choice(["small", "medium", "large"], p=[0.2, 0.4, 0.4])
    side = {"small": rng.uniform(8, 40), "medium": rng.uniform(35, 110),
            "large": rng.uniform(90, 300)}[size_class]
    width = side * rng.uniform(0.5, 1.0)
    height = side * rng.uniform(1.0, 1.8)
    x = rng.uniform(0, image_size - width)
    y = rng.uniform(0, image_size - height)
    labelling = rng.choice(["all", "partial", "none", "one"], p=[0.35, 0.45, 0.12, 0.08])
    keypoints = []
    labelled = 0
    for j in range(num_keypoints):
        if labelling == "all":
            visible = True
        elif labelling == "partial":
            visible = rng.random() < 0.6
        elif labelling == "one":
            visible = j == 0
        else:
            visible = False
        if visible:
            keypoints += [float(x + rng.uniform(0, width)), float(y + rng.uniform(0, height)),
                          int(rng.choice([1, 2]))]
            labelled += 1
        else:
            keypoints += [0, 0, 0]
    area = width * height * rng.uniform(0.3, 0.9)
    if rng.random() < 0.02:
        area = 0.0
    num_keypoints_field = labelled
    if labelled > 0 and rng.random() < 0.03:
        num_keypoints_field = 0  # flagged keypoint-less although labelled
    return {"image_id": 0, "category_id": category_id, "keypoints": keypoints,
            "num_keypoints": num_keypoints_field, "area": float(area),
            "bbox": [float(x), float(y), float(width), float(height)], "iscrowd": 0}


def random_crowd(rng, num_keypoints, image_size, category_id):
    width, height = rng.uniform(50, 300), rng.uniform(50, 300)
    x, y = rng.uniform(0, image_size - width), rng.uniform(0, image_size - height)
    return {"image_id": 0, "category_id": category_id, "keypoints": [0] * (3 * num_keypoints),
            "num_keypoints": 0, "area": float(width * height * 0.6),
            "bbox": [float(x), float(y), float(width), float(height)], "iscrowd": 1}


def jittered(rng, gt, sigmas, image_size):
    kpts = gt["keypoints"]
    bx, by, bw, bh = gt["bbox"]
    scale = np.sqrt(max(gt["area"], 1.0)) * rng.choice([0.05, 0.2, 0.5, 1.0, 3.0])
    out = []
    for j in range(len(kpts) // 3):
        if kpts[3 * j + 2] > 0:
            sx = sigmas[j] * 2 * scale * rng.normal()
            sy = sigmas[j] * 2 * scale * rng.normal()
            px, py = kpts[3 * j] + sx, kpts[3 * j + 1] + sy
        else:
            px, py = bx + rng.uniform(-0.5, 1.5) * bw, by + rng.uniform(-0.5, 1.5) * bh
        out += [float(px), float(py), float(rng.random())]
    return out


def random_pose(rng, num_keypoints, image_size):
    cx, cy = rng.uniform(0, image_size, size=2)
    spread = rng.uniform(5, 150)
    out = []
    for _ in range(num_keypoints):
        out += [float(cx + rng.normal() * spread), float(cy + rng.normal() * spread),
                float(rng.random())]
    return out


def make_case(seed):
    rng = np.random.default_rng(seed)
    custom = rng.random() < 0.2
    if custom:
        num_keypoints = int(rng.integers(1, 21))
        sigmas = [float(s) for s in rng.uniform(0.02, 0.12, num_keypoints)]
    else:
        num_keypoints = 17
        sigmas = [.26, .25, .25, .35, .35, .79, .79, .72, .72, .62, .62, 1.07, 1.07, .87, .87,
                  .89, .89]
        sigmas = [s / 10.0 for s in sigmas]
    category_ids = [1] if rng.random() < 0.85 else [3, 1]
    image_size = 640
    num_images = int(rng.integers(1, 9))
    image_ids = [int(i) for i in rng.choice(np.arange(1, 100000), size=num_images, replace=False)]
    images = [{"id": i, "file_name": "%012d.jpg" % i, "width": image_size,
               "height": image_size} for i in image_ids]
    annotations = []
    for image_id in image_ids:
        num_persons = int(rng.choice([0, 1, 2, 3, 4, 6], p=[0.2, 0.25, 0.2, 0.15, 0.1, 0.1]))
        for _ in range(num_persons):
            ann = random_person(rng, num_keypoints, image_size, int(rng.choice(category_ids)))
            ann["image_id"] = image_id
            annotations.append(ann)
        if rng.random() < 0.15:
            ann = random_crowd(rng, num_keypoints, image_size, int(rng.choice(category_ids)))
            ann["image_id"] = image_id
            annotations.append(ann)
    order = rng.permutation(len(annotations))
    annotations = [annotations[i] for i in order]
    for index, ann in enumerate(annotations):
        ann["id"] = index + 1
    if annotations and rng.random() < 0.02:
        annotations[0]["id"] = 0  # pycocotools reads a match to id 0 as no match
    results = []
    tie_scores = rng.random() < 0.3
    for ann in annotations:
        if ann["iscrowd"] or rng.random() > 0.75:
            continue
        for _ in range(1 if rng.random() < 0.8 else 2):
            category_id = ann["category_id"] if rng.random() > 0.05 else 99
            results.append({"image_id": ann["image_id"], "category_id": category_id,
                            "keypoints": jittered(rng, ann, sigmas, image_size)})
    for image_id in image_ids:
        extra = int(rng.poisson(1.5)) if rng.random() > 0.05 else 25
        for _ in range(extra):
            results.append({"image_id": image_id, "category_id": int(rng.choice(category_ids)),
                            "keypoints": random_pose(rng, num_keypoints, image_size)})
    if not results:
        results.append({"image_id": image_ids[0], "category_id": category_ids[0],
                        "keypoints": random_pose(rng, num_keypoints, image_size)})
    rounded = rng.random() < 0.4
    with_boxes = rng.random() < 0.2
    for result in results:
        result["score"] = (float(rng.choice([0.3, 0.5, 0.9])) if tie_scores
                           else float(rng.random()))
        if rounded:
            result["keypoints"] = [round(v, 2) for v in result["keypoints"]]
        if with_boxes:
            result["bbox"] = [float(v) for v in rng.uniform(0, 200, size=4)]
    results = [results[i] for i in rng.permutation(len(results))]
    categories = [{"id": c, "name": "c%d" % c, "supercategory": "c",
                   "keypoints": ["k%d" % j for j in range(num_keypoints)], "skeleton": []}
                  for c in category_ids]
    gt = {"images": images, "annotations": annotations, "categories": categories}
    return gt, results, (sigmas if custom else None)


def pycocotools_stats(gt_dict, results, sigmas):
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = copy.deepcopy(gt_dict)
        gt.createIndex()
        dt = gt.loadRes(copy.deepcopy(results))
        evaluator = COCOeval(gt, dt, "keypoints")
        if sigmas is not None:
            evaluator.params.kpt_oks_sigmas = np.array(sigmas)
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return [float(v) for v in evaluator.stats]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", required=True, help="coco_eval_batch binary")
    parser.add_argument("--cases", type=int, default=1200)
    parser.add_argument("--seed", type=int, default=20240611)
    parser.add_argument("--workdir", required=True)
    args = parser.parse_args()

    os.makedirs(args.workdir, exist_ok=True)
    manifest_lines = []
    expected = []
    for index in range(args.cases):
        gt, results, sigmas = make_case(args.seed * 100003 + index)
        gt_path = os.path.join(args.workdir, "case%05d_gt.json" % index)
        dt_path = os.path.join(args.workdir, "case%05d_dt.json" % index)
        with open(gt_path, "w") as f:
            json.dump(gt, f)
        with open(dt_path, "w") as f:
            json.dump(results, f)
        line = [gt_path, dt_path] + (["%r" % s for s in sigmas] if sigmas else [])
        manifest_lines.append(" ".join(line))
        expected.append(pycocotools_stats(gt, results, sigmas))
    manifest = os.path.join(args.workdir, "manifest.txt")
    with open(manifest, "w") as f:
        f.write("\n".join(manifest_lines) + "\n")
    output = subprocess.run([args.batch, manifest], check=True, capture_output=True,
                            text=True).stdout.splitlines()
    if len(output) != args.cases:
        print("FAIL: %d output lines for %d cases" % (len(output), args.cases))
        return 1

    mismatches = 0
    bit_identical = 0
    for index, (line, reference) in enumerate(zip(output, expected)):
        if line.startswith("ERROR"):
            print("case %d: %s" % (index, line))
            mismatches += 1
            continue
        ours = [float(v) for v in line.split()]
        bad = [i for i in range(10) if not abs(ours[i] - reference[i]) <= TOLERANCE]
        if bad:
            mismatches += 1
            if mismatches <= 10:
                print("case %d (seed %d) differs: %s" % (
                    index, args.seed * 100003 + index,
                    ", ".join("%s ours %r ref %r" % (STAT_NAMES[i], ours[i], reference[i])
                              for i in bad)))
        elif ours == reference:
            bit_identical += 1
    print("%d cases, %d mismatches (> %g), %d bit-identical" % (
        args.cases, mismatches, TOLERANCE, bit_identical))
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
