#!/usr/bin/env bash
# Runs every row of tools/bad_inputs.tsv. Usage: bad_input_test.sh TABLE
# evaluate=BIN synthesize=BIN refine=BIN train=BIN run=BIN report=BIN
set -euo pipefail
table="$1"
shift
declare -A binary
for pair in "$@"; do binary["${pair%%=*}"]="${pair#*=}"; done

T="${TEST_TMPDIR:-/tmp}/bad_inputs"
rm -rf "$T" && mkdir -p "$T/folder" "$T/missing_runs_parent" "$T/truncated_runs/run-1"
GT=testdata/coco/annotations/person_keypoints_val2017_fixture.json
DT=testdata/results/movenet_thunder_topdown_APH56dets_fixture_results.json
IMG=testdata/coco/val2017
printf '{"images": [' > "$T/malformed.json"
python3 -c "print('[' * 150000 + ']' * 150000)" > "$T/deep.json"
cat > "$T/duplicate_ids.json" <<'JSON'
{"images": [{"id": 1}], "annotations": [{"id": 7, "image_id": 1, "category_id": 1},
                                        {"id": 7, "image_id": 1, "category_id": 1}]}
JSON
python3 -c "
import json; r = json.load(open('$DT')); r[0]['keypoints'] = r[0]['keypoints'][:50]
json.dump(r, open('$T/short_keypoints.json', 'w'))"
echo 'good_ks: 2' > "$T/bad_error_model.pbtxt"
echo 'not a zip archive' > "$T/garbage.pt"
echo 'depth: 3' > "$T/unknown_field.pbtxt"
: > "$T/truncated_runs/run-1/metrics.pb"

failures=0
row=0
while IFS=$'\t' read -r command arguments code fragment forbidden; do
  [[ -z "$command" || "$command" == \#* ]] && continue
  row=$((row + 1))
  eval "args=($arguments)"
  status=0
  "${binary[$command]}" "${args[@]}" > "$T/stdout" 2> "$T/stderr" || status=$?
  problem=""
  [[ "$status" == "$code" ]] || problem="exit $status, expected $code"
  grep -qF -- "$(eval echo "\"$fragment\"")" "$T/stderr" || problem="$problem; stderr lacks '$fragment'"
  if [[ -n "$forbidden" ]]; then
    target="$(eval echo "\"$forbidden\"")"
    [[ ! -e "$target" ]] || problem="$problem; $target was written"
  fi
  if find "$T" -name '*.tmp.*' | grep -q .; then problem="$problem; temporary files left"; fi
  if [[ -n "$problem" ]]; then
    echo "FAIL row $row: $command $arguments: $problem"
    sed 's/^/    /' "$T/stderr" | head -5
    failures=$((failures + 1))
  fi
done < "$table"
echo "$row cases, $failures failed"
[[ "$failures" == 0 ]]
