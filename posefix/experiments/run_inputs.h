#ifndef POSEFIX_EXPERIMENTS_RUN_INPUTS_H_
#define POSEFIX_EXPERIMENTS_RUN_INPUTS_H_

// The input files of a run: checked before anything of a suite runs, then
// prepared in the run directory where the spec combines or derives them
// (the merged training set, the input poses).

#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "posefix/experiments/run_plan.h"

namespace posefix {

// Every file the plan names exists (the training files only when the run
// trains). Errors read "SPEC: FIELD: PATH: no such file or folder".
absl::Status CheckRunInputs(const RunPlan& plan);

// Every annotation and results file the plan names parses (the input results
// against the evaluation images), and its error model completes, so that a
// malformed file fails before training rather than after. Errors name the
// spec and the field, then the file and its field. `checked` holds the files
// already read by earlier plans of the same check; they are not read again.
absl::Status CheckRunInputContents(const RunPlan& plan, absl::flat_hash_set<std::string>& checked);

struct TrainingFiles {
  std::string annotations;
  std::string images;
};

// The training set: train_annotations over train_images plus every
// extra_train source, minus the images of exclude_from_training. The spec's
// files themselves when that is all; otherwise the merged set, written as
// RUN_DIR/train_annotations.json with absolute image paths (repeated
// annotation ids get fresh ones).
absl::StatusOr<TrainingFiles> TrainingSet(const RunPlan& plan);

// The input poses: the spec's input_results file; or, written once as
// RUN_DIR/input_results.json, its results on the evaluation images
// (input_results_beyond_eval_images) or poses synthesized on the evaluation
// annotations (synthesize_input_seed).
absl::StatusOr<std::string> InputPoses(const RunPlan& plan);

}  // namespace posefix

#endif  // POSEFIX_EXPERIMENTS_RUN_INPUTS_H_
