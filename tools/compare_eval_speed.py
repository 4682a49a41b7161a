#!/usr/bin/env python3
"""Side-by-side speed of COCO keypoint evaluators on the full val2017 size.

Generates a results file of >= 100,000 detections over the 5000-image
val2017 ground truth (jittered copies of every ground-truth pose at several
noise levels plus false positives on every image, fixed seed), then scores it
with pycocotools, faster-coco-eval, hotcoco and //posefix/eval:evaluate, each
in its own process. Reports evaluate+accumulate time, whole-process time and
peak memory (max RSS of the process), and checks that all four give the same
ten statistics.

  bazel build //posefix/eval:evaluate
  /opt/posefix/venv/bin/python tools/compare_eval_speed.py \
      --gt=../shared/data/coco/annotations/person_keypoints_val2017_rebuilt.json
"""

import argparse
import contextlib
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import time

# --run value -> name in the table; pycocotools first (the reference).
PYTHON_EVALUATORS = {"pycocotools": "pycocotools", "faster": "faster-coco-eval",
                     "hotcoco": "hotcoco"}

SIGMAS = [.26, .25, .25, .35, .35, .79, .79, .72, .72, .62, .62, 1.07, 1.07, .87, .87, .89, .89]


def make_results(gt_path, out_path, seed, copies, false_positives):
    import numpy as np
    rng = np.random.default_rng(seed)
    with open(gt_path) as f:
        gt = json.load(f)
    sigmas = np.array(SIGMAS) / 10.0
    results = []
    for ann in gt["annotations"]:
        if ann.get("iscrowd", 0) or ann.get("num_keypoints", 0) == 0:
            continue
        kpts = np.array(ann["keypoints"], dtype=float).reshape(-1, 3)
        x, y, w, h = ann["bbox"]
        scale = np.sqrt(max(ann["area"], 1.0))
        for level in rng.choice([0.1, 0.3, 0.6, 1.2, 2.5], size=copies):
            noise = rng.normal(size=(17, 2)) * (sigmas * 2 * scale * level)[:, None]
            points = np.where(kpts[:, 2:3] > 0, kpts[:, :2],
                              np.array([x + w / 2, y + h / 2]))
            points = points + noise
            out = np.column_stack([points, rng.random(17)]).round(3).ravel()
            results.append({"image_id": ann["image_id"], "category_id": 1,
                            "keypoints": out.tolist(),
                            "score": float(round(rng.random(), 4))})
    for image in gt["images"]:
        for _ in range(false_positives):
            cx = rng.uniform(0, image["width"])
            cy = rng.uniform(0, image["height"])
            spread = rng.uniform(5, 120)
            points = np.column_stack([cx + rng.normal(size=17) * spread,
                                      cy + rng.normal(size=17) * spread, rng.random(17)])
            results.append({"image_id": image["id"], "category_id": 1,
                            "keypoints": points.round(3).ravel().tolist(),
                            "score": float(round(rng.random() * 0.6, 4))})
    order = rng.permutation(len(results))
    with open(out_path, "w") as f:
        json.dump([results[i] for i in order], f)
    return len(results), len(gt["images"]), len(gt["annotations"])


def run_python_evaluator(kind, gt_path, dt_path):
    """Runs in a child process; prints a JSON line with timings and stats."""
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        if kind == "pycocotools":
            from pycocotools.coco import COCO
            from pycocotools.cocoeval import COCOeval as Eval
        elif kind == "hotcoco":
            from hotcoco import COCO
            from hotcoco import COCOeval as Eval
        else:
            from faster_coco_eval import COCO
            from faster_coco_eval import COCOeval_faster as Eval
        gt = COCO(gt_path)
        dt = gt.loadRes(dt_path)
        loaded = time.perf_counter()
        evaluator = Eval(gt, dt, "keypoints")
        evaluator.evaluate()
        evaluator.accumulate()
        evaluated = time.perf_counter()
        evaluator.summarize()
    print(json.dumps({"load": loaded - start, "evaluate_accumulate": evaluated - loaded,
                      "stats": [float(v) for v in evaluator.stats[:10]]}))


def peak_rss_mib(command):
    """Runs `command` under /usr/bin/time -v and returns (stdout, stderr, wall, MiB)."""
    start = time.perf_counter()
    process = subprocess.run(["/usr/bin/time", "-v"] + command, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if process.returncode != 0:
        raise RuntimeError("%s failed: %s" % (command[0], process.stderr[-2000:]))
    match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", process.stderr)
    return process.stdout, process.stderr, wall, int(match.group(1)) / 1024.0


def parse_metrics_proto(path):
    names = ["ap", "ap50", "ap75", "ap_medium", "ap_large", "ar", "ar50", "ar75",
             "ar_medium", "ar_large"]
    values = {}
    in_stats = False
    with open(path) as f:
        for line in f:
            stripped = line.strip()
            if stripped.startswith("stats {"):
                in_stats = True
            elif in_stats and stripped == "}":
                in_stats = False
            elif in_stats and ":" in stripped:
                key, value = stripped.split(":", 1)
                values[key.strip()] = float(value)
    return [values.get(name, 0.0) for name in names]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--gt", default="../shared/data/coco/annotations/"
                        "person_keypoints_val2017_rebuilt.json")
    parser.add_argument("--evaluate", default="bazel-bin/posefix/eval/evaluate")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--copies", type=int, default=4)
    parser.add_argument("--false_positives", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json_out", help="also write the table as JSON to this file")
    parser.add_argument("--repeats", type=int, default=1,
                        help="runs of each evaluator; the fastest whole process is reported")
    parser.add_argument("--run", choices=list(PYTHON_EVALUATORS), help=argparse.SUPPRESS)
    parser.add_argument("--dt", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        run_python_evaluator(args.run, args.gt, args.dt)
        return 0

    workdir = tempfile.mkdtemp(prefix="compare_eval_speed_")
    dt_path = os.path.join(workdir, "results.json")
    num_results, num_images, num_annotations = make_results(
        args.gt, dt_path, args.seed, args.copies, args.false_positives)
    print("ground truth: %d images, %d annotations; results: %d detections" % (
        num_images, num_annotations, num_results))
    if num_results < 100000:
        print("FAIL: fewer than 100,000 detections")
        return 1

    def fastest(command, parse):
        """Runs `command` --repeats times; the run of least whole-process time."""
        best = None
        for _ in range(args.repeats):
            stdout, stderr, wall, rss = peak_rss_mib(command)
            evaluate_s, stats = parse(stdout, stderr)
            if best is None or wall < best[1]:
                best = (evaluate_s, wall, rss, stats)
        return best

    def parse_python(stdout, _):
        report = json.loads(stdout.strip().splitlines()[-1])
        return report["evaluate_accumulate"], report["stats"]

    metrics_path = os.path.join(workdir, "metrics.pbtxt")

    def parse_posefix(_, stderr):
        internal = float(re.search(r"evaluate\+accumulate ([0-9.]+) s", stderr).group(1))
        return internal, parse_metrics_proto(metrics_path)

    rows = []
    for kind, name in PYTHON_EVALUATORS.items():
        rows.append((name,) + fastest(
            [sys.executable, os.path.abspath(__file__), "--run=" + kind, "--gt=" + args.gt,
             "--dt=" + dt_path], parse_python))
    rows.append(("posefix evaluate",) + fastest(
        [args.evaluate, "--gt=" + args.gt, "--dt=" + dt_path, "--out=" + metrics_path,
         "--timing", "--threads=%d" % args.threads], parse_posefix))

    reference = rows[0][4]
    print("%-18s %22s %16s %14s %s" % ("evaluator", "evaluate+accumulate s", "whole process s",
                                       "peak RSS MiB", "stats == pycocotools"))
    ok = True
    for name, evaluate_s, wall_s, rss_mib, stats in rows:
        diff = max(abs(a - b) for a, b in zip(stats, reference))
        same = stats == reference
        ok &= diff <= 1e-12
        print("%-18s %22.3f %16.3f %14.1f %s (max |diff| %.3g)" % (
            name, evaluate_s, wall_s, rss_mib, "identical" if same else "DIFFERENT", diff))
    ours = rows[-1]
    for name, evaluate_s, wall_s, _, _ in rows[:-1]:
        print("posefix vs %s: evaluate+accumulate %.1fx, whole process %.2fx faster" % (
            name, evaluate_s / ours[1], wall_s / ours[2]))
    print("stats: %s" % " ".join("%.6f" % v for v in reference))
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"detections": num_results, "images": num_images,
                       "evaluators": [{"name": name, "evaluate_accumulate_s": evaluate_s,
                                       "whole_process_s": wall_s, "peak_rss_mib": rss_mib,
                                       "stats": stats, "identical_to_pycocotools": stats == reference}
                                      for name, evaluate_s, wall_s, rss_mib, stats in rows]},
                      f, indent=1)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
