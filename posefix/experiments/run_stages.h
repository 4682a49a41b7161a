#ifndef POSEFIX_EXPERIMENTS_RUN_STAGES_H_
#define POSEFIX_EXPERIMENTS_RUN_STAGES_H_

// The stages of a run after its plan (run_plan.h) and its input check
// (run_inputs.h): train, refine, evaluate. Each records what it measured in
// the run's RunMetrics and resumes what an earlier, interrupted process of
// the same run directory finished. The model is reached through
// posefix/model's torch-free headers only.

#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "posefix/experiments/run_metrics.pb.h"
#include "posefix/experiments/run_plan.h"

namespace posefix {

// Writes "[RUN_ID] LINE" to `log` (nullable): one line per stage.
void LogStage(std::ostream* log, const std::string& run_id, absl::string_view line);

// The model a run refines with.
struct RunModel {
  std::string checkpoint;
  // E2E_REFINE: the estimator fine-tuned with the refinement module; it
  // estimates the poses that `checkpoint` refines. Empty otherwise.
  std::string estimator;
};

// Trains the plan's model into RUN_DIR/checkpoints (resuming the training
// found there) on its training set (run_inputs.h TrainingSet), starting from
// plan.options.estimator_checkpoint for E2E_REFINE. Records the training
// curve, time and device in `metrics`.
absl::StatusOr<RunModel> TrainStage(const RunPlan& plan, std::ostream* log, RunMetrics* metrics);

// The input poses and the refined ones.
struct RunPoses {
  std::string input;
  std::string refined;
};

// Refines the input poses (run_inputs.h InputPoses) with `model` into
// RUN_DIR/refined_results.json, with the one refine path tools:refine takes
// and plan.options.evaluation; a run that refined before (refine.pbtxt
// written) keeps its results. Records the checkpoint, the refinement's time
// and, when training did not, the device in `metrics`.
absl::StatusOr<RunPoses> RefineStage(const RunPlan& plan, const RunModel& model, std::ostream* log,
                                     RunMetrics* metrics);

// Evaluates the input and the refined poses against the evaluation
// annotations (COCO AP/AR, the error analysis, the OKS change between them)
// into metrics->before and metrics->after, with the evaluation's time.
absl::Status EvaluateStage(const RunPlan& plan, const RunPoses& poses, std::ostream* log,
                           RunMetrics* metrics);

}  // namespace posefix

#endif  // POSEFIX_EXPERIMENTS_RUN_STAGES_H_
