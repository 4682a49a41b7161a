#ifndef POSEFIX_EVAL_EVAL_IO_H_
#define POSEFIX_EVAL_EVAL_IO_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "posefix/core/types.h"

namespace posefix {

// Reads a ground-truth annotation file for evaluation (members the evaluator
// does not use are dropped).
absl::StatusOr<CocoDataset> ReadEvalGroundTruth(const std::string& path, int num_keypoints);

// A results file by column, with the area pycocotools' loadRes gives each
// result.
struct EvalResults {
  KeypointResultColumns results;
  std::vector<double> areas;
};

// Reads a keypoint results file; every result's image must be in
// `ground_truth`. Errors name the file and the field at fault. A large file
// is parsed on `num_threads` threads.
absl::StatusOr<EvalResults> ReadEvalResults(const std::string& path,
                                            const CocoDataset& ground_truth, int num_keypoints,
                                            int num_threads = 1);

// The ground truth and a results file over it, as the two functions above
// read them, with the same errors; the results parse while the ground truth
// does.
struct EvalInputs {
  CocoDataset ground_truth;
  EvalResults results;
};
absl::StatusOr<EvalInputs> ReadEvalInputs(const std::string& ground_truth_path,
                                          const std::string& results_path, int num_keypoints,
                                          int num_threads = 1);

}  // namespace posefix

#endif  // POSEFIX_EVAL_EVAL_IO_H_
