#include "posefix/eval/evaluate.h"

#include <chrono>

#include "absl/strings/str_format.h"
#include "posefix/core/elapsed.h"
#include "posefix/core/keypoint_schema.h"
#include "posefix/core/status_macros.h"
#include "posefix/eval/coco_eval.h"
#include "posefix/eval/error_analysis.h"
#include "posefix/eval/eval_io.h"
#include "posefix/eval/oks.h"
#include "posefix/eval/oks_change.h"

namespace posefix {
namespace {

void ToProto(const CocoSummaryStats& stats, CocoKeypointStats* proto) {
  proto->set_ap(stats.values[0]);
  proto->set_ap50(stats.values[1]);
  proto->set_ap75(stats.values[2]);
  proto->set_ap_medium(stats.values[3]);
  proto->set_ap_large(stats.values[4]);
  proto->set_ar(stats.values[5]);
  proto->set_ar50(stats.values[6]);
  proto->set_ar75(stats.values[7]);
  proto->set_ar_medium(stats.values[8]);
  proto->set_ar_large(stats.values[9]);
}

CocoSummaryStats FromProto(const CocoKeypointStats& proto) {
  return {{proto.ap(), proto.ap50(), proto.ap75(), proto.ap_medium(), proto.ap_large(), proto.ar(),
           proto.ar50(), proto.ar75(), proto.ar_medium(), proto.ar_large()}};
}

}  // namespace

absl::StatusOr<EvaluationMetrics> RunEvaluation(const EvaluateRequest& request,
                                                EvaluateTimings* timings) {
  EvaluateTimings local_timings;
  if (timings == nullptr) timings = &local_timings;
  const KeypointSchema& schema = request.schema;
  const int num_keypoints = schema.keypoint_names_size();

  auto start = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(const EvalInputs inputs,
                   ReadEvalInputs(request.ground_truth_file, request.results_file, num_keypoints,
                                  request.num_threads));
  const CocoDataset& gt = inputs.ground_truth;
  const EvalResults& dt = inputs.results;
  timings->read_seconds = SecondsSince(start);

  EvaluationMetrics metrics;
  metrics.set_ground_truth_file(request.ground_truth_file);
  metrics.set_results_file(request.results_file);
  metrics.set_schema(schema.name());
  metrics.set_num_images(gt.images.size());
  metrics.set_num_results(dt.results.size());

  start = std::chrono::steady_clock::now();
  CocoEvalParams params;
  params.variances = OksVariances(schema);
  ASSIGN_OR_RETURN(const CocoSummaryStats stats,
                   EvaluateKeypoints(gt, dt.results, params, dt.areas, request.num_threads));
  timings->evaluate_seconds = SecondsSince(start);
  ToProto(stats, metrics.mutable_stats());

  start = std::chrono::steady_clock::now();
  if (request.analyze) {
    ASSIGN_OR_RETURN(*metrics.mutable_error_analysis(),
                     AnalyzeKeypointErrors(gt, dt.results, dt.areas, schema));
  }
  if (!request.baseline_results_file.empty()) {
    ASSIGN_OR_RETURN(
        const EvalResults baseline,
        ReadEvalResults(request.baseline_results_file, gt, num_keypoints, request.num_threads));
    ASSIGN_OR_RETURN(*metrics.mutable_oks_change(),
                     ComputeOksChange(gt, baseline.results, baseline.areas, dt.results, dt.areas,
                                      params.variances));
  }
  timings->analyze_seconds = SecondsSince(start);
  return metrics;
}

std::string FormatEvaluationReport(const EvaluationMetrics& metrics) {
  std::string report = FormatCocoSummary(FromProto(metrics.stats()));
  if (metrics.has_error_analysis()) report += FormatErrorAnalysis(metrics.error_analysis());
  if (metrics.has_oks_change()) {
    const OksChange& change = metrics.oks_change();
    absl::StrAppendFormat(&report,
                          "OKS change: %d persons matched in both (OKS >= %g), mean OKS %.4f -> "
                          "%.4f; %d matched only before, %d only after\n",
                          change.pairs_size(), change.match_oks(), change.mean_oks_before(),
                          change.mean_oks_after(), change.matched_before_only(),
                          change.matched_after_only());
  }
  return report;
}

}  // namespace posefix
