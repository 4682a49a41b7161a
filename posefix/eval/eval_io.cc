#include "posefix/eval/eval_io.h"

#include "posefix/core/coco_io.h"
#include "posefix/core/status_macros.h"
#include "posefix/eval/coco_eval.h"

namespace posefix {

absl::StatusOr<CocoDataset> ReadEvalGroundTruth(const std::string& path, int num_keypoints) {
  CocoReadOptions options;
  options.num_keypoints = num_keypoints;
  options.keep_extra_fields = false;
  return ReadCocoDataset(path, options);
}

absl::StatusOr<EvalResults> ReadEvalResults(const std::string& path,
                                            const CocoDataset& ground_truth, int num_keypoints,
                                            int num_threads) {
  ResultsReadOptions options;
  options.num_threads = num_threads;
  options.num_keypoints = num_keypoints;
  options.ground_truth = &ground_truth;
  // Kept for the "bbox" member, which decides the result areas.
  options.keep_extra_fields = true;
  EvalResults loaded;
  ASSIGN_OR_RETURN(loaded.results, ReadCocoResults(path, options));
  ASSIGN_OR_RETURN(loaded.areas, ResultAreas(loaded.results, path));
  // The other members are not needed past this point.
  for (KeypointResult& result : loaded.results) ExtraFields().swap(result.extra);
  return loaded;
}

}  // namespace posefix
