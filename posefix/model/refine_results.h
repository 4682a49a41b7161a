#ifndef POSEFIX_MODEL_REFINE_RESULTS_H_
#define POSEFIX_MODEL_REFINE_RESULTS_H_

// Refining a whole COCO keypoint results file (torch-free header): what
// `bazel run //tools:refine` does, callable in-process.
//
// The input is ANY estimator's results file. COCO results carry only
// image_id, so an annotation file (ground truth or a bare image list with
// "images": [{id, file_name, width, height}]) maps ids to image files.
// Per result (section 5 of docs/posefix-reference.md): category 1 and
// score > 0 only; a box from the input keypoints (extent x1.2, aspect, x1.25);
// optional flip test; the input scores pass through; optional OKS-NMS.
//
// Bad input is an error naming the file and the field, or, where an option
// allows it, a skip counted in the report; the output is written atomically,
// so a failed run leaves no file.

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "posefix/core/keypoint_schema.pb.h"
#include "posefix/model/refiner.h"

namespace posefix {

// What to do with a keypoint far outside its image: x outside
// [-W, 2W) or y outside [-H, 2H) (more than one image size beyond a border).
enum class FarKeypointPolicy {
  // Move it to the nearest point of the image, counted as clamped.
  kClamp,
  // Drop the whole result, counted as skipped.
  kSkip,
  // Fail, naming the file and the field.
  kError,
};

struct RefineFileOptions {
  // Used when no Refiner is passed: a checkpoint (SaveCheckpoint / Train).
  std::string checkpoint;
  // Flip test, device, batch size, threads. flip_permutation is filled in
  // from `schema` when empty.
  RefinerOptions refiner;
  // Folder that images[].file_name of `annotations` is relative to.
  std::string images_dir;
  // COCO annotation file (or image list) giving each image_id's file name.
  std::string annotations;
  // The estimator's COCO keypoint results.
  std::string input;
  // Where the refined COCO results are written (atomically). Empty: nothing
  // is written (in-process callers that only want the report).
  std::string output;

  // Empty: COCO-17. Must match the model's keypoint count.
  KeypointSchema schema;
  // OKS-NMS on the refined poses with this threshold (the release: 0.9),
  // each pose's OKS scaled by the area of the box it was refined in (as the
  // release); <= 0: off.
  double oks_nms_threshold = 0.9;

  // A result whose image_id is not in `annotations`: error, or (set) a
  // counted skip. The release skips them.
  bool skip_unknown_images = false;
  // A result whose image file is missing or undecodable: error, or (set) a
  // counted skip.
  bool skip_missing_images = false;
  FarKeypointPolicy far_keypoints = FarKeypointPolicy::kClamp;
  // Images decoded at once (memory bound for batching).
  int images_per_batch = 16;
};

struct RefineReport {
  int64_t input_results = 0;
  // Results refined and written (before OKS-NMS).
  int64_t refined = 0;
  // Written after OKS-NMS.
  int64_t written = 0;
  int64_t removed_by_nms = 0;
  int64_t skipped_category = 0;  // category_id != 1
  int64_t skipped_score = 0;     // score <= 0
  int64_t skipped_unknown_image = 0;
  int64_t skipped_missing_image = 0;
  int64_t skipped_far_keypoints = 0;
  // Keypoints moved into the image (FarKeypointPolicy::kClamp).
  int64_t clamped_keypoints = 0;
  int64_t images = 0;
  std::string device;
  double seconds = 0;
  // Refined instances per second (decode + crop + network + NMS).
  double instances_per_second = 0;
};

// Refines `options.input` with `refiner` (nullable: loads options.checkpoint)
// and writes options.output.
absl::StatusOr<RefineReport> RefineResultsFile(const RefineFileOptions& options,
                                               Refiner* refiner = nullptr);

// One line per counter, for tools' logs.
std::string RefineReportToString(const RefineReport& report);

}  // namespace posefix

#endif  // POSEFIX_MODEL_REFINE_RESULTS_H_
