// Evaluates many small cases in one process, for the differential test
// against pycocotools. Reads a manifest with one case per line:
//   GT_FILE DT_FILE [SIGMA ...]
// (no sigmas: the COCO schema's) and prints one line per case: the ten
// statistics with 17 significant digits, or "ERROR <message>".
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "posefix/core/keypoint_schema.h"
#include "posefix/core/status_macros.h"
#include "posefix/eval/coco_eval.h"
#include "posefix/eval/eval_io.h"

namespace posefix {
namespace {

absl::StatusOr<CocoSummaryStats> EvaluateCase(const std::vector<std::string>& fields) {
  std::vector<double> sigmas;
  for (size_t i = 2; i < fields.size(); ++i) {
    double sigma = 0;
    if (!absl::SimpleAtod(fields[i], &sigma)) {
      return absl::InvalidArgumentError("manifest: bad sigma " + fields[i]);
    }
    sigmas.push_back(sigma);
  }
  if (sigmas.empty()) sigmas = Sigmas(CocoSchema());
  CocoEvalParams params;
  params.variances = OksVariances(sigmas);
  ASSIGN_OR_RETURN(const CocoDataset gt, ReadEvalGroundTruth(fields[0], sigmas.size()));
  ASSIGN_OR_RETURN(const EvalResults dt, ReadEvalResults(fields[1], gt, sigmas.size()));
  return EvaluateKeypoints(gt, dt.results, params, dt.areas);
}

int Run(const char* manifest_path) {
  std::ifstream manifest(manifest_path);
  if (!manifest) {
    std::cerr << manifest_path << ": cannot open\n";
    return 1;
  }
  std::string line;
  while (std::getline(manifest, line)) {
    std::vector<std::string> fields = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (fields.empty()) continue;
    if (fields.size() < 2) {
      std::cout << "ERROR manifest line needs GT_FILE DT_FILE\n";
      continue;
    }
    absl::StatusOr<CocoSummaryStats> stats = EvaluateCase(fields);
    if (!stats.ok()) {
      std::cout << "ERROR " << stats.status().message() << "\n";
      continue;
    }
    std::string out;
    for (double value : stats->values) absl::StrAppendFormat(&out, "%.17g ", value);
    out.back() = '\n';
    std::cout << out;
  }
  return 0;
}

}  // namespace
}  // namespace posefix

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: coco_eval_batch MANIFEST\n";
    return 2;
  }
  return posefix::Run(argv[1]);
}
