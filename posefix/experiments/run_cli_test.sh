#!/bin/bash
# End to end: a tiny run (1 epoch of 2 steps, EfficientNet-Lite0 96x64) of the smoke
# C2F spec through the runner binary, then its resumption, the refusal to
# overwrite another spec's run, bad specs, and the report of the run.
# Usage: run_cli_test.sh RUN REPORT SPEC REFINE
set -u
RUN="$1"
REPORT="$2"
SPEC="$3"
REFINE="$4"
OUT="${TEST_TMPDIR}/runs"
fail() { echo "FAIL: $*" >&2; exit 1; }

"$RUN" --spec="$SPEC" --out_dir="$OUT" --data_root=. --source_revision=test \
  > "${TEST_TMPDIR}/run.out" 2> "${TEST_TMPDIR}/run.err" \
  || { cat "${TEST_TMPDIR}/run.err"; fail "the run failed"; }
RUN_DIR="$(ls -d "$OUT"/c2f-*)"
[ -d "$RUN_DIR" ] || fail "no run directory"
for f in spec.pbtxt metrics.pbtxt metrics.pb refined_results.json checkpoints/training_state.pbtxt; do
  [ -s "$RUN_DIR/$f" ] || fail "missing $f"
done
ls "$RUN_DIR"/checkpoints/epoch_*.pt > /dev/null || fail "no checkpoint"
grep -q "^c2f-.*	c2f	C2F	finished	" "$OUT/index.tsv" || { cat "$OUT/index.tsv"; fail "index.tsv"; }
grep -q 'source_revision: "test"' "$RUN_DIR/metrics.pbtxt" || fail "source revision"
grep -q "oks_before" "$RUN_DIR/metrics.pbtxt" || fail "no OKS pairs"
grep -q "training_curve" "$RUN_DIR/metrics.pbtxt" || fail "no training curve"
ls "$OUT"/*/*.tmp.* 2> /dev/null && fail "temporary files left"

# One refine path: tools:refine with the run's checkpoint, input and evaluation
# options (flip test, no OKS-NMS) writes the same refined results.
CHECKPOINT="$RUN_DIR/$(sed -n 's/^checkpoint: "\(.*\)"$/\1/p' "$RUN_DIR/metrics.pbtxt")"
"$REFINE" --checkpoint="$CHECKPOINT" --images=testdata/coco/val2017 \
  --gt=testdata/coco/annotations/person_keypoints_val2017_fixture_eval.json \
  --input=testdata/results/movenet_thunder_topdown_APH56dets_fixture_eval_results.json \
  --output="${TEST_TMPDIR}/tool_refined.json" --oks_nms=0 --device=cpu --threads=2 \
  2> "${TEST_TMPDIR}/tool.err" || { cat "${TEST_TMPDIR}/tool.err"; fail "tools:refine"; }
cmp -s "$RUN_DIR/refined_results.json" "${TEST_TMPDIR}/tool_refined.json" \
  || fail "the runner's refined results differ from tools:refine's"

# Running it again finds the finished run.
"$RUN" --spec="$SPEC" --out_dir="$OUT" --data_root=. --source_revision=test \
  > /dev/null 2> "${TEST_TMPDIR}/again.err" || fail "the second run failed"
grep -q "finished earlier; skipped" "${TEST_TMPDIR}/again.err" || fail "not skipped"

# Every point of the training curve has its step (2 steps per epoch).
[ "$(grep -c '^  step: ' "$RUN_DIR/metrics.pbtxt")" = "$(grep -c '^training_curve {' "$RUN_DIR/metrics.pbtxt")" ] \
  || fail "training_curve points without their step"
grep -q '^  step: 2$' "$RUN_DIR/metrics.pbtxt" || fail "training_curve step"

# An interrupted run (metrics missing) resumes: training and refinement are
# complete, the evaluation runs again; the refinement's time and device are
# those it was measured with.
timings() { sed -n '/^timings {/,/^}/p' "$RUN_DIR/metrics.pbtxt" | grep -v evaluate_seconds | grep -v total_seconds; }
BEFORE_TIMINGS="$(timings; grep '^device:' "$RUN_DIR/metrics.pbtxt")"
grep -q "refine_seconds: [1-9]\|refine_seconds: 0\.[0-9]*[1-9]" "$RUN_DIR/metrics.pbtxt" || fail "refine time"
rm "$RUN_DIR/metrics.pb" "$RUN_DIR/metrics.pbtxt"
"$RUN" --spec="$SPEC" --out_dir="$OUT" --data_root=. --source_revision=test \
  > /dev/null 2> "${TEST_TMPDIR}/resume.err" || { cat "${TEST_TMPDIR}/resume.err"; fail "resume"; }
grep -q "resuming" "${TEST_TMPDIR}/resume.err" || fail "did not resume"
[ -s "$RUN_DIR/metrics.pb" ] || fail "resume wrote no metrics"
[ "$(timings; grep '^device:' "$RUN_DIR/metrics.pbtxt")" = "$BEFORE_TIMINGS" ] \
  || fail "the resumed run reports other training or refinement times or device"

# A killed write leaves a truncated metrics.pb and temporaries: the run is not
# finished (evaluated again, not skipped), the report refuses the record, and
# the temporaries of dead processes go.
: > "$RUN_DIR/metrics.pb"
"$REPORT" --runs="$OUT" --out="${TEST_TMPDIR}/report_truncated" > /dev/null \
  2> "${TEST_TMPDIR}/truncated.err" && fail "the report accepted an empty metrics.pb"
grep -q "metrics.pb: run_id: missing" "${TEST_TMPDIR}/truncated.err" \
  || { cat "${TEST_TMPDIR}/truncated.err"; fail "empty metrics message"; }
echo partial > "$RUN_DIR/checkpoints/epoch_0000.pt.tmp.4194305"
"$RUN" --spec="$SPEC" --out_dir="$OUT" --data_root=. --source_revision=test \
  > /dev/null 2> "${TEST_TMPDIR}/truncated_run.err" \
  || { cat "${TEST_TMPDIR}/truncated_run.err"; fail "rerun over a truncated metrics.pb"; }
grep -q "evaluating again" "${TEST_TMPDIR}/truncated_run.err" || fail "a truncated metrics.pb counted as finished"
grep -q "removed 1 stale temporary files" "${TEST_TMPDIR}/truncated_run.err" || fail "stale temporary kept"
[ -s "$RUN_DIR/metrics.pb" ] || fail "no metrics after the rerun"
[ ! -e "$RUN_DIR/checkpoints/epoch_0000.pt.tmp.4194305" ] || fail "stale temporary still there"

# index.tsv is scanned and written under index.lock: while another process
# holds it, a finishing run waits, so its index cannot be overwritten by a
# stale one.
: > "$RUN_DIR/metrics.pb"
( flock -x 9; sleep 3; touch "${TEST_TMPDIR}/index_released" ) 9> "$OUT/index.lock" &
LOCKER=$!
for _ in $(seq 50); do flock -n "$OUT/index.lock" true 2> /dev/null || break; sleep 0.1; done
"$RUN" --spec="$SPEC" --out_dir="$OUT" --data_root=. --source_revision=test \
  > /dev/null 2> "${TEST_TMPDIR}/index.err" || { cat "${TEST_TMPDIR}/index.err"; fail "rerun for the index"; }
wait "$LOCKER"
[ "$OUT/index.tsv" -nt "${TEST_TMPDIR}/index_released" ] || fail "index.tsv written while another process held its lock"
grep -q "$(basename "$RUN_DIR").*finished" "$OUT/index.tsv" || fail "index does not list the finished run"

# The same spec started while it runs elsewhere (unfinished: no metrics.pb)
# stops at once.
mv "$RUN_DIR/metrics.pb" "${TEST_TMPDIR}/metrics.pb.saved"
flock -x "$RUN_DIR/run.lock" sleep 30 &
LOCKER=$!
for _ in $(seq 50); do flock -n "$RUN_DIR/run.lock" true 2> /dev/null || break; sleep 0.1; done
"$RUN" --spec="$SPEC" --out_dir="$OUT" --data_root=. 2> "${TEST_TMPDIR}/twice.err" \
  && { kill "$LOCKER"; fail "a running spec was started twice"; }
kill "$LOCKER"; wait "$LOCKER" 2> /dev/null || true
grep -q "this spec is running in another process" "${TEST_TMPDIR}/twice.err" \
  || { cat "${TEST_TMPDIR}/twice.err"; fail "second start message"; }
mv "${TEST_TMPDIR}/metrics.pb.saved" "$RUN_DIR/metrics.pb"

# A directory holding another spec is never overwritten.
cp "$RUN_DIR/spec.pbtxt" "${TEST_TMPDIR}/spec.saved"
echo 'seed: 99' >> "$RUN_DIR/spec.pbtxt"
if "$RUN" --spec="$SPEC" --out_dir="$OUT" --data_root=. 2> "${TEST_TMPDIR}/clash.err"; then
  fail "overwrote another spec's run"
fi
grep -q "not overwriting" "${TEST_TMPDIR}/clash.err" || fail "clash message"
cp "${TEST_TMPDIR}/spec.saved" "$RUN_DIR/spec.pbtxt"

# Bad specs: unknown field (line:col), invalid value (field named), missing
# input file; nothing is created.
BAD="${TEST_TMPDIR}/bad"
mkdir -p "$BAD"
printf 'base: "%s"\nmodel { depth: 3 }\n' "$(cd "$(dirname "$SPEC")" && pwd)/smoke_base.pbtxt" > "$BAD/unknown.pbtxt"
printf 'base: "%s"\nmodel { resnet_depth: 3 }\n' "$(cd "$(dirname "$SPEC")" && pwd)/smoke_base.pbtxt" > "$BAD/invalid.pbtxt"
printf 'base: "%s"\ndataset { input_results: "nowhere.json" }\n' "$(cd "$(dirname "$SPEC")" && pwd)/smoke_base.pbtxt" > "$BAD/missing.pbtxt"
"$RUN" --spec="$BAD/unknown.pbtxt" --out_dir="$BAD/out" --data_root=. 2> "$BAD/e1" && fail "unknown field accepted"
grep -q "unknown.pbtxt: posefix.ExperimentSpec: line 2:" "$BAD/e1" || { cat "$BAD/e1"; fail "unknown field message"; }
"$RUN" --spec="$BAD/invalid.pbtxt" --out_dir="$BAD/out" --data_root=. 2> "$BAD/e2" && fail "invalid value accepted"
grep -q "invalid.pbtxt: model: resnet_depth" "$BAD/e2" || { cat "$BAD/e2"; fail "invalid value message"; }
"$RUN" --spec="$BAD/missing.pbtxt" --out_dir="$BAD/out" --data_root=. 2> "$BAD/e3" && fail "missing file accepted"
grep -q "missing.pbtxt: dataset.input_results: ./nowhere.json" "$BAD/e3" || { cat "$BAD/e3"; fail "missing file message"; }
[ -e "$BAD/out" ] && fail "a bad spec created output"

# Training sources merged (the evaluation images added, then excluded again),
# with an estimator's poses for the unlabelled keypoints, and a refine-only run of its epoch-1 checkpoint on poses synthesized on the
# evaluation images, refined with the selective policy of its status head.
MORE="${TEST_TMPDIR}/more"
mkdir -p "$MORE"
BASE="$(cd "$(dirname "$SPEC")" && pwd)/smoke_base.pbtxt"
EVAL_GT=testdata/coco/annotations/person_keypoints_val2017_fixture_eval.json
cat > "$MORE/merged.pbtxt" <<SPEC
base: "$BASE"
model { status_head { enabled: true } }
dataset {
  extra_train { annotations: "$EVAL_GT" images: "testdata/coco/val2017" }
  exclude_from_training: "$EVAL_GT"
  train_estimates: "testdata/results/movenet_thunder_topdown_APH56dets_fixture_results.json"
}
SPEC
cat > "$MORE/synthesized.pbtxt" <<SPEC
base: "$BASE"
checkpoint_from_spec: "merged.pbtxt"
checkpoint_epoch: 1
clear_fields: "init_weights"
clear_fields: "dataset.input_results"
dataset { synthesize_input_seed: 5 }
evaluation { policy: REFINE_SELECTIVE }
SPEC
"$RUN" --spec="$MORE/synthesized.pbtxt" --out_dir="$MORE/out" --data_root=. \
  2> "$MORE/err" || { cat "$MORE/err"; fail "merged/synthesized runs"; }
MERGED="$(ls -d "$MORE"/out/merged-*)"
TRAIN_IMAGES=$(grep -o '"file_name"' "$MERGED/train_annotations.json" | wc -l)
[ "$TRAIN_IMAGES" = 8 ] || fail "merged training set has $TRAIN_IMAGES images, expected the 8 training images"
grep -q "status head on up to 512 synthesized training samples" "$MORE/err" || fail "no status-head calibration"
grep -Eq "estimates for unlabelled keypoints: [1-9][0-9]* persons" "$MORE/err" \
  || fail "the training estimates were not attached"
SYNTH="$(ls -d "$MORE"/out/synthesized-*)"
[ -s "$SYNTH/input_results.json" ] || fail "no synthesized input poses"
grep -Eq "^ +keypoints: [1-9]" "$SYNTH/metrics.pbtxt" || fail "no keypoint count of the OKS change"
sed -i 's/checkpoint_epoch: 1/checkpoint_epoch: 7/' "$MORE/synthesized.pbtxt"
"$RUN" --spec="$MORE/synthesized.pbtxt" --out_dir="$MORE/out" --data_root=. 2> "$MORE/e7" \
  && fail "a missing epoch checkpoint was accepted"
grep -q "synthesized.pbtxt: checkpoint_epoch: .*epoch_0006.pt: no such checkpoint" "$MORE/e7" \
  || { cat "$MORE/e7"; fail "missing epoch message"; }

# A suite is checked whole, its files' contents included, before anything
# trains; a missing dependency names the spec and the field.
SUITE="${TEST_TMPDIR}/suite"
mkdir -p "$SUITE/specs"
echo '[{"image_id": 785, "category_id": 1, "keypoints": [1, 2, 1], "score": 1}]' > "$SUITE/malformed.json"
printf 'base: "%s"\n' "$BASE" > "$SUITE/specs/a_trains.pbtxt"
printf 'base: "%s"\ndataset { input_results: "%s" }\n' "$BASE" "$SUITE/malformed.json" > "$SUITE/specs/b_bad.pbtxt"
"$RUN" --suite="$SUITE/specs" --out_dir="$SUITE/out" --data_root=. 2> "$SUITE/err" \
  && fail "a suite with a malformed results file ran"
grep -q "b_bad.pbtxt: dataset.input_results: $SUITE/malformed.json: \[0\]\." "$SUITE/err" \
  || { cat "$SUITE/err"; fail "malformed results message"; }
[ -e "$SUITE/out" ] && fail "the suite trained before its inputs were checked"
printf 'base: "%s"\ncheckpoint_from_spec: "nowhere.pbtxt"\nclear_fields: "init_weights"\n' "$BASE" > "$SUITE/orphan.pbtxt"
"$RUN" --spec="$SUITE/orphan.pbtxt" --out_dir="$SUITE/out" --data_root=. 2> "$SUITE/orphan.err" \
  && fail "a missing checkpoint_from_spec was accepted"
grep -q "orphan.pbtxt: checkpoint_from_spec: $SUITE/nowhere.pbtxt: no such spec" "$SUITE/orphan.err" \
  || { cat "$SUITE/orphan.err"; fail "missing dependency message"; }

# Sources whose annotation ids collide (the local COCO subsets reuse ids)
# merge into a ground truth with unique ids.
python3 - "$EVAL_GT" "$MORE/colliding.json" <<'PY'
import json, sys
data = json.load(open(sys.argv[1]))
for number, annotation in enumerate(data["annotations"]):
    annotation["id"] = 900000001 + number
json.dump(data, open(sys.argv[2], "w"))
PY
python3 - testdata/coco/annotations/person_keypoints_val2017_fixture_train.json "$MORE/train_colliding.json" <<'PY'
import json, sys
data = json.load(open(sys.argv[1]))
for number, annotation in enumerate(data["annotations"]):
    annotation["id"] = 900000001 + number
json.dump(data, open(sys.argv[2], "w"))
PY
cat > "$MORE/colliding.pbtxt" <<SPEC
base: "$BASE"
dataset {
  train_annotations: "$MORE/train_colliding.json"
  extra_train { annotations: "$MORE/colliding.json" images: "testdata/coco/val2017" }
}
SPEC
"$RUN" --spec="$MORE/colliding.pbtxt" --out_dir="$MORE/out" --data_root=. 2> "$MORE/colliding.err" \
  || { cat "$MORE/colliding.err"; fail "sources with colliding annotation ids"; }
python3 - "$(ls -d "$MORE"/out/colliding-*)/train_annotations.json" <<'PY' || fail "merged annotation ids repeat"
import json, sys
ids = [a["id"] for a in json.load(open(sys.argv[1]))["annotations"]]
assert len(ids) == len(set(ids)) and len(ids) > 0, ids
PY

# The report of the run.
"$REPORT" --runs="$OUT" --out="${TEST_TMPDIR}/report" > "${TEST_TMPDIR}/report.md" \
  || fail "report failed"
grep -q "## Table 1" "${TEST_TMPDIR}/report.md" || fail "no Table 1"
for f in report.md table1.csv table2.csv figure6.png figure7_c2f.png figure8_c2f.png; do
  [ -s "${TEST_TMPDIR}/report/$f" ] || fail "report misses $f"
done
echo PASS
