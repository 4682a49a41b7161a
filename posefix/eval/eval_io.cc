#include "posefix/eval/eval_io.h"

#include <future>
#include <utility>

#include "posefix/core/coco_io.h"
#include "posefix/core/file_util.h"
#include "posefix/core/status_macros.h"
#include "posefix/eval/coco_eval.h"

namespace posefix {

absl::StatusOr<CocoDataset> ReadEvalGroundTruth(const std::string& path, int num_keypoints) {
  CocoReadOptions options;
  options.num_keypoints = num_keypoints;
  options.keep_extra_fields = false;
  return ReadCocoDataset(path, options);
}

namespace {

absl::StatusOr<EvalResults> ParseEvalResults(const std::string& path, std::string text,
                                             const CocoDataset& ground_truth, int num_keypoints,
                                             int num_threads) {
  ResultsReadOptions options;
  options.num_threads = num_threads;
  options.num_keypoints = num_keypoints;
  options.ground_truth = &ground_truth;
  // Kept for the "bbox" member, which decides the result areas.
  options.keep_extra_fields = true;
  EvalResults loaded;
  ASSIGN_OR_RETURN(loaded.results, ParseCocoResults(path, std::move(text), options));
  ASSIGN_OR_RETURN(loaded.areas, ResultAreas(loaded.results, path));
  // The other members are not needed past this point.
  for (KeypointResult& result : loaded.results) ExtraFields().swap(result.extra);
  return loaded;
}

}  // namespace

absl::StatusOr<EvalResults> ReadEvalResults(const std::string& path,
                                            const CocoDataset& ground_truth, int num_keypoints,
                                            int num_threads) {
  ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  return ParseEvalResults(path, std::move(text), ground_truth, num_keypoints, num_threads);
}

absl::StatusOr<EvalInputs> ReadEvalInputs(const std::string& ground_truth_path,
                                          const std::string& results_path, int num_keypoints,
                                          int num_threads) {
  std::future<absl::StatusOr<std::string>> results_text =
      std::async(std::launch::async, ReadFileToString, results_path);
  absl::StatusOr<CocoDataset> ground_truth = ReadEvalGroundTruth(ground_truth_path, num_keypoints);
  absl::StatusOr<std::string> text = results_text.get();
  EvalInputs inputs;
  ASSIGN_OR_RETURN(inputs.ground_truth, std::move(ground_truth));
  ASSIGN_OR_RETURN(std::string results, std::move(text));
  ASSIGN_OR_RETURN(inputs.results,
                   ParseEvalResults(results_path, std::move(results), inputs.ground_truth,
                                    num_keypoints, num_threads));
  return inputs;
}

}  // namespace posefix
