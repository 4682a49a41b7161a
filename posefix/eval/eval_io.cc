#include "posefix/eval/eval_io.h"

#include <algorithm>
#include <future>
#include <utility>

#include "absl/container/flat_hash_map.h"
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

ResultsReadOptions EvalResultsOptions(int num_keypoints, int num_threads) {
  ResultsReadOptions options;
  options.num_threads = num_threads;
  options.num_keypoints = num_keypoints;
  // Kept for the "bbox" member, which decides the result areas.
  options.keep_extra_fields = true;
  return options;
}

absl::StatusOr<EvalResults> ToEvalResults(const std::string& path,
                                          std::vector<KeypointResult> results, int num_threads) {
  EvalResults loaded;
  ASSIGN_OR_RETURN(loaded.areas, ResultAreas(results, path, num_threads));
  // The other members are not needed past this point.
  for (KeypointResult& result : results) ExtraFields().swap(result.extra);
  loaded.results = std::move(results);
  return loaded;
}

absl::StatusOr<EvalResults> ParseEvalResults(const std::string& path, absl::string_view text,
                                             const CocoDataset& ground_truth, int num_keypoints,
                                             int num_threads) {
  ResultsReadOptions options = EvalResultsOptions(num_keypoints, num_threads);
  options.ground_truth = &ground_truth;
  ASSIGN_OR_RETURN(std::vector<KeypointResult> results, ParseCocoResults(path, text, options));
  return ToEvalResults(path, std::move(results), num_threads);
}

}  // namespace

absl::StatusOr<EvalResults> ReadEvalResults(const std::string& path,
                                            const CocoDataset& ground_truth, int num_keypoints,
                                            int num_threads) {
  ASSIGN_OR_RETURN(const FileContents contents, FileContents::Read(path));
  return ParseEvalResults(path, contents.view(), ground_truth, num_keypoints, num_threads);
}

absl::StatusOr<EvalInputs> ReadEvalInputs(const std::string& ground_truth_path,
                                          const std::string& results_path, int num_keypoints,
                                          int num_threads) {
  std::future<absl::StatusOr<CocoDataset>> ground_truth =
      std::async(std::launch::async, ReadEvalGroundTruth, ground_truth_path, num_keypoints);
  // The results parse while the ground truth does, without it; their images
  // are looked up once both are read.
  absl::StatusOr<FileContents> contents = FileContents::Read(results_path);
  absl::StatusOr<std::vector<KeypointResult>> results;
  if (contents.ok()) {
    results = ParseCocoResults(results_path, contents->view(),
                               EvalResultsOptions(num_keypoints, num_threads));
  }
  EvalInputs inputs;
  ASSIGN_OR_RETURN(inputs.ground_truth, ground_truth.get());
  RETURN_IF_ERROR(contents.status());
  const absl::flat_hash_map<int64_t, int> images = IndexImages(inputs.ground_truth);
  if (!results.ok() ||
      !std::all_of(results->begin(), results->end(), [&images](const KeypointResult& result) {
        return images.contains(result.image_id);
      })) {
    // Parsed again with the ground truth, for the error of the first entry
    // at fault in file order.
    ASSIGN_OR_RETURN(inputs.results,
                     ParseEvalResults(results_path, contents->view(), inputs.ground_truth,
                                      num_keypoints, num_threads));
    return inputs;
  }
  ASSIGN_OR_RETURN(inputs.results, ToEvalResults(results_path, *std::move(results), num_threads));
  return inputs;
}

}  // namespace posefix
