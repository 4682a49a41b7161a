#ifndef POSEFIX_EVAL_EVALUATE_H_
#define POSEFIX_EVAL_EVALUATE_H_

#include <string>

#include "absl/status/statusor.h"
#include "posefix/core/keypoint_schema.h"
#include "posefix/eval/metrics.pb.h"

namespace posefix {

// What the evaluate tool is asked to measure.
struct EvaluateRequest {
  std::string ground_truth_file;
  std::string results_file;
  KeypointSchema schema = CocoSchema();
  // Adds the error taxonomy and corrected AP.
  bool analyze = false;
  // When set, the OKS change from these results to results_file.
  std::string baseline_results_file;
  int num_threads = 2;
};

// Seconds spent in each stage of RunEvaluation.
struct EvaluateTimings {
  double read_seconds = 0;
  // COCOeval's evaluate + accumulate (+ summarize).
  double evaluate_seconds = 0;
  double analyze_seconds = 0;
};

// Reads the files and measures everything requested. Errors name the file and
// the field at fault.
absl::StatusOr<EvaluationMetrics> RunEvaluation(const EvaluateRequest& request,
                                                EvaluateTimings* timings = nullptr);

// The report the tool prints: pycocotools' ten summary lines, then the error
// table and the OKS change when present.
std::string FormatEvaluationReport(const EvaluationMetrics& metrics);

}  // namespace posefix

#endif  // POSEFIX_EVAL_EVALUATE_H_
