// COCO keypoint evaluation from the command line:
//   bazel run //posefix/eval:evaluate -- --gt=FILE --dt=FILE [--analyze] [--out=FILE]
// Prints pycocotools' ten summary lines (and the error table with
// --analyze); --out writes every number as a text-format EvaluationMetrics.
#include <cstdio>
#include <iostream>
#include <string>

#include "gflags/gflags.h"
#include "posefix/core/command_line.h"
#include "posefix/core/file_util.h"
#include "posefix/core/keypoint_schema.h"
#include "posefix/core/text_proto.h"
#include "posefix/eval/evaluate.h"
#include "posefix/eval/oks_change.h"

DEFINE_string(gt, "", "COCO keypoint annotation file (ground truth).");
DEFINE_string(dt, "", "COCO keypoint results file to evaluate.");
DEFINE_bool(analyze, false, "Also run the keypoint error taxonomy (Ronchi & Perona).");
DEFINE_string(out, "", "Write every number to this file as a text-format EvaluationMetrics.");
DEFINE_string(schema, "coco", "Built-in keypoint schema name or a KeypointSchema text file.");
DEFINE_string(baseline_dt, "",
              "Results before refinement: adds the per-instance OKS change to --dt.");
DEFINE_string(oks_change_csv, "", "With --baseline_dt: write the OKS pairs as CSV here.");
DEFINE_int32(threads, 2, "Threads for the evaluation.");
DEFINE_bool(timing, false, "Print the time of each stage to stderr.");

namespace posefix {
namespace {

int Main() {
  if (FLAGS_gt.empty() || FLAGS_dt.empty()) {
    std::cerr << "evaluate: --gt and --dt are required\n";
    return 1;
  }
  if (!FLAGS_oks_change_csv.empty() && FLAGS_baseline_dt.empty()) {
    std::cerr << "evaluate: --oks_change_csv needs --baseline_dt\n";
    return 1;
  }
  EvaluateRequest request;
  request.ground_truth_file = ResolveUserPath(FLAGS_gt);
  request.results_file = ResolveUserPath(FLAGS_dt);
  absl::StatusOr<KeypointSchema> schema =
      ResolveKeypointSchema(FLAGS_schema, UserWorkingDirectory());
  if (!schema.ok()) {
    std::cerr << "evaluate: --schema: " << schema.status().message() << "\n";
    return 1;
  }
  request.schema = *std::move(schema);
  request.analyze = FLAGS_analyze;
  if (!FLAGS_baseline_dt.empty()) {
    request.baseline_results_file = ResolveUserPath(FLAGS_baseline_dt);
  }
  request.num_threads = FLAGS_threads;
  EvaluateTimings timings;
  absl::StatusOr<EvaluationMetrics> metrics = RunEvaluation(request, &timings);
  if (!metrics.ok()) {
    std::cerr << metrics.status().message() << "\n";
    return 1;
  }
  std::cout << FormatEvaluationReport(*metrics) << std::flush;
  if (FLAGS_timing) {
    std::fprintf(stderr, "timing: read %.4f s, evaluate+accumulate %.4f s, analysis %.4f s\n",
                 timings.read_seconds, timings.evaluate_seconds, timings.analyze_seconds);
  }
  if (!FLAGS_out.empty()) {
    if (absl::Status status = WriteTextProto(ResolveUserPath(FLAGS_out), *metrics); !status.ok()) {
      std::cerr << status.message() << "\n";
      return 1;
    }
  }
  if (!FLAGS_oks_change_csv.empty()) {
    if (absl::Status status = WriteFileAtomically(ResolveUserPath(FLAGS_oks_change_csv),
                                                  OksChangeToCsv(metrics->oks_change()));
        !status.ok()) {
      std::cerr << status.message() << "\n";
      return 1;
    }
  }
  return 0;
}

}  // namespace
}  // namespace posefix

int main(int argc, char** argv) {
  gflags::SetUsageMessage("--gt=FILE --dt=FILE [--analyze] [--out=FILE]");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  return posefix::Main();
}
