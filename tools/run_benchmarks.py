#!/usr/bin/env python3
"""Runs every Google Benchmark target of the project and the side-by-side
comparison scripts, and writes OUT/summary.json and OUT/summary.md.

  python3 tools/run_benchmarks.py --out=/tmp/posefix_bench [--filter=REGEX]
      [--skip_compare] [--benchmark_args=--benchmark_min_time=0.2]

Each benchmark binary writes its own Google Benchmark JSON (OUT/NAME.json);
the summary lists every benchmark's real/CPU time and counters, and puts each
of the product's measurements beside the peer it replaces, measured in the
same run (SIDE_BY_SIDE; the evaluators come from compare_eval_speed.py).
"""

import argparse
import json
import os
import shlex
import subprocess
import sys


# (what, target, ours, peer, counter, our label, peer's label): benchmark
# pairs measured by the same binary in the same run.
SIDE_BY_SIDE = [
    ("Synthesis over the annotation file, persons/s per core", "synthesizer_benchmark",
     "BM_SynthesizeDataset/release_batches:0", "BM_SynthesizeDataset/release_batches:1",
     "items_per_second", "exact sampler", "release's whole batches"),
    ("Synthesis of one crop with 4 neighbours, persons/s per core", "synthesizer_benchmark",
     "BM_SynthesizeCrop/neighbours:4/release_batches:0",
     "BM_SynthesizeCrop/neighbours:4/release_batches:1",
     "items_per_second", "exact sampler", "release's whole batches"),
]

# Benchmarks that read an annotation file take the --gt file.
READS_ANNOTATIONS = {"coco_io_benchmark", "synthesizer_benchmark"}


def bazel(*args, capture=True):
    result = subprocess.run(["bazel", *args], check=True, text=True,
                            stdout=subprocess.PIPE if capture else None)
    return result.stdout if capture else ""


def benchmark_targets(filter_regex):
    query = 'attr(name, "_benchmark$", kind("cc_binary", //...))'
    targets = bazel("query", query, "--output=label").split()
    if filter_regex:
        import re
        targets = [t for t in targets if re.search(filter_regex, t)]
    return sorted(targets)


def run_benchmark(target, out_dir, extra_args, gt):
    package, name = target[2:].split(":")
    if name in READS_ANNOTATIONS and os.path.exists(gt):
        extra_args = ["--annotations=" + os.path.abspath(gt), *extra_args]
    binary = os.path.join("bazel-bin", package, name)
    runfiles = binary + ".runfiles/posefix"
    out_json = os.path.abspath(os.path.join(out_dir, name + ".json"))
    command = [os.path.abspath(binary), "--benchmark_out=" + out_json,
               "--benchmark_out_format=json", *extra_args]
    print("running", target, flush=True)
    completed = subprocess.run(command, cwd=runfiles if os.path.isdir(runfiles) else None)
    if completed.returncode != 0:
        return {"target": target, "error": "exit code %d" % completed.returncode}
    with open(out_json) as f:
        report = json.load(f)
    rows = []
    for entry in report.get("benchmarks", []):
        row = {"name": entry["name"], "real_time": entry.get("real_time"),
               "cpu_time": entry.get("cpu_time"), "time_unit": entry.get("time_unit")}
        skip = {"name", "run_name", "run_type", "repetitions", "repetition_index", "threads",
                "iterations", "real_time", "cpu_time", "time_unit", "family_index",
                "per_family_instance_index", "aggregate_name", "label", "error_occurred",
                "error_message"}
        row["counters"] = {k: v for k, v in entry.items() if k not in skip}
        if entry.get("label"):
            row["label"] = entry["label"]
        if entry.get("error_occurred"):
            row["error"] = entry.get("error_message", "error")
        rows.append(row)
    return {"target": target, "context": report.get("context", {}), "benchmarks": rows}


def side_by_side(summary):
    """The SIDE_BY_SIDE rows whose two benchmarks both ran."""
    by_name = {}
    for result in summary["benchmarks"]:
        name = result["target"].split(":")[-1]
        for row in result.get("benchmarks", []):
            by_name[(name, row["name"])] = row
    rows = []
    for what, target, ours, peer, counter, our_label, peer_label in SIDE_BY_SIDE:
        a, b = by_name.get((target, ours)), by_name.get((target, peer))
        if not a or not b or counter not in a["counters"] or counter not in b["counters"]:
            continue
        rows.append({"what": what, "ours": our_label, "ours_value": a["counters"][counter],
                     "peer": peer_label, "peer_value": b["counters"][counter],
                     "speedup": a["counters"][counter] / b["counters"][counter]})
    return rows


def markdown(summary):
    lines = ["# PoseFix benchmark summary", ""]
    context = next((r.get("context") for r in summary["benchmarks"] if r.get("context")), {})
    if context:
        lines += ["Host: %s CPUs at %s MHz, %s; library build: %s." % (
            context.get("num_cpus"), context.get("mhz_per_cpu"), context.get("date"),
            context.get("library_build_type")), ""]
    if summary.get("side_by_side"):
        lines += ["## Side by side with the peers", "",
                  "| measurement | posefix | value | peer | value | ratio |",
                  "|---|---|---:|---|---:|---:|"]
        for row in summary["side_by_side"]:
            lines.append("| %s | %s | %.4g | %s | %.4g | %.1fx |" % (
                row["what"], row["ours"], row["ours_value"], row["peer"], row["peer_value"],
                row["speedup"]))
        lines.append("")
    for result in summary["benchmarks"]:
        lines += ["## %s" % result["target"], ""]
        if "error" in result:
            lines += ["failed: %s" % result["error"], ""]
            continue
        lines += ["| benchmark | real time | CPU time | counters |", "|---|---|---|---|"]
        for row in result["benchmarks"]:
            counters = ", ".join("%s=%.4g" % (k, v) for k, v in row["counters"].items()
                                 if isinstance(v, (int, float)))
            if row.get("label"):
                counters = (row["label"] + "; " + counters).strip("; ")
            if row.get("error"):
                counters = "error: " + row["error"]
            lines.append("| %s | %.4g %s | %.4g %s | %s |" % (
                row["name"], row["real_time"] or 0, row["time_unit"], row["cpu_time"] or 0,
                row["time_unit"], counters))
        lines.append("")
    compare = summary.get("compare_eval_speed")
    if compare:
        lines += ["## COCO keypoint evaluation, side by side (%d detections, %d images)" % (
            compare["detections"], compare["images"]), "",
                  "| evaluator | evaluate+accumulate s | whole process s | peak RSS MiB | stats |",
                  "|---|---|---|---|---|"]
        for row in compare["evaluators"]:
            lines.append("| %s | %.3f | %.3f | %.0f | %s |" % (
                row["name"], row["evaluate_accumulate_s"], row["whole_process_s"],
                row["peak_rss_mib"],
                "identical" if row["identical_to_pycocotools"] else "DIFFERENT"))
        lines.append("")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True)
    parser.add_argument("--filter", help="only benchmark targets matching this regex")
    parser.add_argument("--benchmark_args", default="",
                        help="extra flags for every benchmark binary")
    parser.add_argument("--skip_compare", action="store_true")
    parser.add_argument("--gt", default="../shared/data/coco/annotations/"
                        "person_keypoints_val2017_rebuilt.json")
    parser.add_argument("--python", default="/opt/posefix/venv/bin/python")
    args = parser.parse_args()
    os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    os.makedirs(args.out, exist_ok=True)

    targets = benchmark_targets(args.filter)
    bazel("build", "//posefix/eval:evaluate", *targets, capture=False)
    summary = {"benchmarks": [run_benchmark(t, args.out, shlex.split(args.benchmark_args), args.gt)
                              for t in targets]}
    summary["side_by_side"] = side_by_side(summary)
    if not args.skip_compare:
        if os.path.exists(args.gt):
            compare_json = os.path.join(args.out, "compare_eval_speed.json")
            subprocess.run([args.python, "tools/compare_eval_speed.py", "--gt=" + args.gt,
                            "--json_out=" + compare_json], check=True)
            with open(compare_json) as f:
                summary["compare_eval_speed"] = json.load(f)
        else:
            print("skipping compare_eval_speed.py: %s not found" % args.gt)
    with open(os.path.join(args.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    with open(os.path.join(args.out, "summary.md"), "w") as f:
        f.write(markdown(summary))
    print("wrote %s and %s" % (os.path.join(args.out, "summary.json"),
                               os.path.join(args.out, "summary.md")))
    failed = [r["target"] for r in summary["benchmarks"] if "error" in r]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
