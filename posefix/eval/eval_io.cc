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

absl::StatusOr<EvalResults> ParseEvalResults(const std::string& path, absl::string_view text,
                                             const CocoDataset& ground_truth, int num_keypoints,
                                             int num_threads) {
  ResultsReadOptions options;
  options.num_threads = num_threads;
  options.num_keypoints = num_keypoints;
  options.ground_truth = &ground_truth;
  // Kept for the "bbox" member, which decides the result areas.
  options.keep_extra_fields = true;
  EvalResults loaded;
  ASSIGN_OR_RETURN(loaded.results, ParseCocoResults(path, text, options));
  ASSIGN_OR_RETURN(loaded.areas, ResultAreas(loaded.results, path));
  // The other members are not needed past this point.
  for (KeypointResult& result : loaded.results) ExtraFields().swap(result.extra);
  return loaded;
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
  std::future<absl::StatusOr<FileContents>> results_file =
      std::async(std::launch::async, FileContents::Read, results_path);
  absl::StatusOr<CocoDataset> ground_truth = ReadEvalGroundTruth(ground_truth_path, num_keypoints);
  absl::StatusOr<FileContents> contents = results_file.get();
  EvalInputs inputs;
  ASSIGN_OR_RETURN(inputs.ground_truth, std::move(ground_truth));
  RETURN_IF_ERROR(contents.status());
  ASSIGN_OR_RETURN(inputs.results,
                   ParseEvalResults(results_path, contents->view(), inputs.ground_truth,
                                    num_keypoints, num_threads));
  return inputs;
}

}  // namespace posefix
