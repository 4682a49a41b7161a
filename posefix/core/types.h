#ifndef POSEFIX_CORE_TYPES_H_
#define POSEFIX_CORE_TYPES_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/types/span.h"

namespace posefix {

// One keypoint. For ground truth `v` is COCO's visibility flag (0 not
// labelled, 1 labelled but occluded, 2 visible); for an estimator's output
// it is the keypoint's confidence.
struct Keypoint {
  double x = 0;
  double y = 0;
  double v = 0;

  friend bool operator==(const Keypoint& a, const Keypoint& b) {
    return a.x == b.x && a.y == b.y && a.v == b.v;
  }
};

// One keypoint per entry of the keypoint schema, in the schema's order.
using Pose = std::vector<Keypoint>;

// An axis-aligned box in COCO's [x, y, width, height] convention.
struct Box {
  double x = 0;
  double y = 0;
  double width = 0;
  double height = 0;

  double center_x() const { return x + width / 2; }
  double center_y() const { return y + height / 2; }
  double area() const { return width * height; }

  friend bool operator==(const Box& a, const Box& b) {
    return a.x == b.x && a.y == b.y && a.width == b.width && a.height == b.height;
  }
};

// JSON members the project does not interpret (segmentation, coco_url, ...)
// kept as key and raw JSON text so that a file survives a read/write round
// trip unchanged.
using ExtraFields = std::vector<std::pair<std::string, std::string>>;

struct ImageInfo {
  int64_t id = 0;
  std::string file_name;
  int width = 0;
  int height = 0;
  ExtraFields extra;
};

struct Category {
  int64_t id = 0;
  std::string name;
  // The category's keypoint names; empty for categories without keypoints.
  std::vector<std::string> keypoints;
  ExtraFields extra;
};

// A ground-truth person instance (or crowd region, iscrowd = true).
struct PersonAnnotation {
  int64_t id = 0;
  int64_t image_id = 0;
  int64_t category_id = 1;
  Pose keypoints;
  Box bbox;
  double area = 0;
  bool iscrowd = false;
  // Number of labelled keypoints; the file's value where it has one.
  int num_keypoints = 0;
  ExtraFields extra;
  // Training only, not part of the COCO format: an estimator's pose of this
  // person (v = 1 where it has a point), around which the synthesis places
  // the unlabelled keypoints, as the release does (AttachEstimates in
  // posefix/synth). Empty: none.
  Pose estimate;
};

// A COCO annotation file.
struct CocoDataset {
  std::vector<ImageInfo> images;
  std::vector<PersonAnnotation> annotations;
  std::vector<Category> categories;
  // Top-level members other than the three above (info, licenses, ...).
  ExtraFields extra;
};

// One entry of a COCO keypoint results file: a pose an estimator produced.
struct KeypointResult {
  int64_t image_id = 0;
  int64_t category_id = 1;
  Pose keypoints;
  double score = 0;
  ExtraFields extra;
};

// Keypoint results by column, every pose in one array: the form evaluation
// reads, which a results file of 100k entries fills without an allocation
// per pose. Members the evaluator does not read (extra fields) are not kept.
struct KeypointResultColumns {
  int num_keypoints = 0;
  std::vector<int64_t> image_ids;
  std::vector<int64_t> category_ids;
  std::vector<double> scores;
  // Result r's pose: num_keypoints entries from r * num_keypoints on.
  std::vector<Keypoint> keypoints;

  size_t size() const { return scores.size(); }
  absl::Span<const Keypoint> pose(size_t r) const {
    return absl::MakeConstSpan(keypoints).subspan(r * num_keypoints, num_keypoints);
  }
  absl::Span<Keypoint> mutable_pose(size_t r) {
    return absl::MakeSpan(keypoints).subspan(r * num_keypoints, num_keypoints);
  }
};

}  // namespace posefix

#endif  // POSEFIX_CORE_TYPES_H_
