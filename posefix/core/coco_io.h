#ifndef POSEFIX_CORE_COCO_IO_H_
#define POSEFIX_CORE_COCO_IO_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "posefix/core/types.h"

namespace posefix {

struct CocoReadOptions {
  // Keypoints per annotation. -1: taken from the file's categories[].keypoints
  // (and 17 where a keypoint category lists none).
  int num_keypoints = -1;
  // Keep members the project does not interpret (segmentation, urls, ...) so
  // that a written file equals the one read. Readers that only evaluate or
  // train turn this off for speed.
  bool keep_extra_fields = true;
};

// Parses a COCO annotation file's text. `source` names it in errors, which
// always name the field at fault (e.g. "annotations[3].keypoints").
absl::StatusOr<CocoDataset> ParseCocoDataset(absl::string_view source, std::string text,
                                             const CocoReadOptions& options = {});
absl::StatusOr<CocoDataset> ReadCocoDataset(const std::string& path,
                                            const CocoReadOptions& options = {});

std::string CocoDatasetToJson(const CocoDataset& dataset);
absl::Status WriteCocoDataset(const std::string& path, const CocoDataset& dataset);

struct ResultsReadOptions {
  // Keypoints per result.
  int num_keypoints = 17;
  // When set, every result's image_id must be one of these images.
  const CocoDataset* ground_truth = nullptr;
  bool keep_extra_fields = true;
  // Threads for a file of the plain form (objects of exactly image_id,
  // category_id, keypoints and score), parsed in runs of about 1 MB, each
  // taken by whichever thread is free. Any other file, and any error, is
  // read by the DOM path on one thread (same results, same errors).
  int num_threads = 1;
};

// Parses a COCO keypoint results file: a JSON array of
// {image_id, category_id, keypoints, score}.
absl::StatusOr<std::vector<KeypointResult>> ParseCocoResults(
    absl::string_view source, absl::string_view text, const ResultsReadOptions& options = {});
absl::StatusOr<std::vector<KeypointResult>> ReadCocoResults(const std::string& path,
                                                            const ResultsReadOptions& options = {});

// The plain form of a results file (an array of objects with exactly
// image_id, category_id, keypoints and score), parsed into columns on
// options.num_threads threads with no allocation per pose; nullopt for any
// other text and any error, which ParseCocoResults then reads or reports.
std::optional<KeypointResultColumns> ParsePlainCocoResults(absl::string_view text,
                                                           const ResultsReadOptions& options);

// `results` by column (their extra fields dropped); an error names
// `source` and the first result whose pose has not `num_keypoints` points.
absl::StatusOr<KeypointResultColumns> ToResultColumns(absl::string_view source,
                                                      absl::Span<const KeypointResult> results,
                                                      int num_keypoints);

std::string CocoResultsToJson(const std::vector<KeypointResult>& results);
absl::Status WriteCocoResults(const std::string& path, const std::vector<KeypointResult>& results);

// Image id -> position in dataset.images.
absl::flat_hash_map<int64_t, int> IndexImages(const CocoDataset& dataset);

// Image id -> positions in dataset.annotations, in file order.
absl::flat_hash_map<int64_t, std::vector<int>> GroupAnnotationsByImage(const CocoDataset& dataset);

// Keypoints with v > 0.
int CountLabelled(const Pose& pose);

// A person the release trains on: not a crowd region, at least one labelled
// keypoint, a box of positive width and height. Only such persons count as
// another person's overlapping neighbours.
bool IsTrainablePerson(const PersonAnnotation& person);

}  // namespace posefix

#endif  // POSEFIX_CORE_COCO_IO_H_
