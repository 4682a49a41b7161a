#include "posefix/eval/eval_io.h"

#include <algorithm>
#include <future>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "posefix/core/coco_io.h"
#include "posefix/core/file_util.h"
#include "posefix/core/parallel_for.h"
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

// A file of the plain form has no bbox: every area is its pose's extent.
EvalResults PlainEvalResults(KeypointResultColumns results, int num_threads) {
  EvalResults loaded;
  loaded.areas.resize(results.size());
  ParallelFor(num_threads, results.size(),
              [&](size_t r) { loaded.areas[r] = KeypointExtentArea(results.pose(r)); });
  loaded.results = std::move(results);
  return loaded;
}

// Any other file: the areas of its bbox members when the first result has
// one, as pycocotools' loadRes.
absl::StatusOr<EvalResults> DomEvalResults(const std::string& path,
                                           const std::vector<KeypointResult>& results,
                                           int num_keypoints, int num_threads) {
  EvalResults loaded;
  ASSIGN_OR_RETURN(loaded.areas, ResultAreas(results, path, num_threads));
  ASSIGN_OR_RETURN(loaded.results, ToResultColumns(path, results, num_keypoints));
  return loaded;
}

absl::StatusOr<EvalResults> ParseEvalResults(const std::string& path, absl::string_view text,
                                             const CocoDataset& ground_truth, int num_keypoints,
                                             int num_threads) {
  ResultsReadOptions options = EvalResultsOptions(num_keypoints, num_threads);
  options.ground_truth = &ground_truth;
  std::optional<KeypointResultColumns> plain = ParsePlainCocoResults(text, options);
  if (plain) return PlainEvalResults(*std::move(plain), num_threads);
  ASSIGN_OR_RETURN(const std::vector<KeypointResult> results,
                   ParseCocoResults(path, text, options));
  return DomEvalResults(path, results, num_keypoints, num_threads);
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
  const ResultsReadOptions options = EvalResultsOptions(num_keypoints, num_threads);
  std::optional<KeypointResultColumns> plain;
  absl::StatusOr<std::vector<KeypointResult>> other;
  if (contents.ok()) {
    plain = ParsePlainCocoResults(contents->view(), options);
    if (!plain) other = ParseCocoResults(results_path, contents->view(), options);
  }
  EvalInputs inputs;
  ASSIGN_OR_RETURN(inputs.ground_truth, ground_truth.get());
  RETURN_IF_ERROR(contents.status());
  const absl::flat_hash_map<int64_t, int> images = IndexImages(inputs.ground_truth);
  const auto known = [&images](int64_t image_id) { return images.contains(image_id); };
  if (plain && std::all_of(plain->image_ids.begin(), plain->image_ids.end(), known)) {
    inputs.results = PlainEvalResults(*std::move(plain), num_threads);
    return inputs;
  }
  if (other.ok() &&
      std::all_of(other->begin(), other->end(),
                  [&known](const KeypointResult& result) { return known(result.image_id); })) {
    ASSIGN_OR_RETURN(inputs.results,
                     DomEvalResults(results_path, *other, num_keypoints, num_threads));
    return inputs;
  }
  // An error, or an unknown image: read again with the ground truth, for the
  // error of the first entry at fault in file order.
  ASSIGN_OR_RETURN(inputs.results,
                   ParseEvalResults(results_path, contents->view(), inputs.ground_truth,
                                    num_keypoints, num_threads));
  return inputs;
}

}  // namespace posefix
