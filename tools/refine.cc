// Refines ANY pose estimator's COCO keypoint results with a PoseFix checkpoint
// and writes a COCO results file.
//   bazel run //tools:refine -- --checkpoint=FILE --images=DIR --input=FILE \
//       --output=FILE --gt=ANNOTATIONS.json [--flip_test=false] [--oks_nms=0.9] \
//       [--policy=all|selective]
//
// COCO results carry only image_id, so --gt names a COCO annotation file (or
// a bare image list: {"images": [{"id", "file_name", "width", "height"}],
// "annotations": [], "categories": [...]}) that maps ids to files under
// --images. Per result: category 1 and score > 0 only (others are counted
// skips, as in the release); a result whose image is not in --gt or whose
// JPEG is missing is an error unless --skip_unknown_images /
// --skip_missing_images; a keypoint more than one image size outside its
// image is clamped into it (--far_keypoints=clamp, counted), or the result is
// skipped (skip) or the run fails (error). Counts go to stderr. Any error
// exits non-zero with a message naming the file and the field, and writes no
// output.

#include <iostream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gflags/gflags.h"
#include "posefix/core/command_line.h"
#include "posefix/core/keypoint_schema.h"
#include "posefix/core/status_macros.h"
#include "posefix/model/compute_threads.h"
#include "posefix/model/refine_results.h"

DEFINE_string(checkpoint, "", "PoseFix checkpoint (tools:train, Train()) (required).");
DEFINE_string(images, "", "Folder the --gt file names are relative to (required).");
DEFINE_string(input, "", "COCO keypoint results of any estimator (required).");
DEFINE_string(output, "", "Refined COCO keypoint results to write (required).");
DEFINE_string(gt, "", "COCO annotation file or image list mapping image_id to file (required).");
DEFINE_bool(flip_test, true, "Average with the refinement of the mirrored crop.");
DEFINE_double(oks_nms, 0.9, "OKS-NMS threshold on the refined poses; 0 turns it off.");
DEFINE_bool(skip_unknown_images, false, "Skip (and count) results whose image_id is not in --gt.");
DEFINE_bool(skip_missing_images, false, "Skip (and count) results whose image cannot be read.");
DEFINE_string(far_keypoints, "clamp", "clamp, skip or error: keypoints far outside the image.");
DEFINE_string(device, "auto", "auto, cpu, cuda or cuda:N.");
DEFINE_int32(batch_size, 32, "Crops per forward pass.");
DEFINE_int32(threads, 0, "LibTorch intra-op threads (0: LibTorch's default).");
DEFINE_string(schema, "coco", "Built-in keypoint schema or a text-format KeypointSchema file.");
DEFINE_string(policy, "all",
              "all (every keypoint takes the refined position, the paper's) or selective (only "
              "where the model's status head judges the input keypoint wrong).");
DEFINE_double(keep_threshold, -1,
              "selective: keep an input keypoint where P(good) >= this; negative: the threshold "
              "chosen on training data and stored in the checkpoint.");

namespace posefix {
namespace {

absl::Status Run() {
  ResolvePathFlags({"checkpoint", "images", "input", "output", "gt"});
  for (const auto& [name, value] :
       {std::pair<const char*, const std::string*>{"--checkpoint", &FLAGS_checkpoint},
        {"--images", &FLAGS_images},
        {"--input", &FLAGS_input},
        {"--output", &FLAGS_output},
        {"--gt", &FLAGS_gt}}) {
    if (value->empty()) return absl::InvalidArgumentError(absl::StrCat(name, " is required"));
  }
  if (!(FLAGS_oks_nms >= 0 && FLAGS_oks_nms <= 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--oks_nms: must be in [0, 1] (0 turns it off), got ", FLAGS_oks_nms));
  }
  if (FLAGS_threads < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--threads: must be >= 0 (0: LibTorch's default), got ", FLAGS_threads));
  }
  if (FLAGS_batch_size <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--batch_size: must be positive, got ", FLAGS_batch_size));
  }
  SetComputeThreads(FLAGS_threads);
  RefineFileOptions options;
  options.checkpoint = FLAGS_checkpoint;
  options.images_dir = FLAGS_images;
  options.input = FLAGS_input;
  options.output = FLAGS_output;
  options.annotations = FLAGS_gt;
  options.refiner.flip_test = FLAGS_flip_test;
  options.refiner.device = FLAGS_device;
  options.refiner.batch_size = FLAGS_batch_size;
  absl::StatusOr<RefinementPolicy> policy = ParseRefinementPolicy(FLAGS_policy);
  if (!policy.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--policy: ", policy.status().message()));
  }
  options.refiner.policy = *policy;
  options.refiner.keep_threshold = FLAGS_keep_threshold;
  options.oks_nms_threshold = FLAGS_oks_nms;
  options.skip_unknown_images = FLAGS_skip_unknown_images;
  options.skip_missing_images = FLAGS_skip_missing_images;
  if (FLAGS_far_keypoints == "clamp") {
    options.far_keypoints = FarKeypointPolicy::kClamp;
  } else if (FLAGS_far_keypoints == "skip") {
    options.far_keypoints = FarKeypointPolicy::kSkip;
  } else if (FLAGS_far_keypoints == "error") {
    options.far_keypoints = FarKeypointPolicy::kError;
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "--far_keypoints: expected clamp, skip or error, got \"", FLAGS_far_keypoints, "\""));
  }
  absl::StatusOr<KeypointSchema> schema =
      ResolveKeypointSchema(FLAGS_schema, UserWorkingDirectory());
  if (!schema.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--schema: ", schema.status().message()));
  }
  options.schema = *std::move(schema);
  ASSIGN_OR_RETURN(const RefineReport report, RefineResultsFile(options));
  std::cerr << RefineReportToString(report);
  return absl::OkStatus();
}

}  // namespace
}  // namespace posefix

int main(int argc, char** argv) {
  posefix::KeepLargeAllocationsInTheHeap();
  return posefix::RunCommandLine(
      argc, argv, "Refines COCO keypoint results with PoseFix; see tools/refine.cc.", posefix::Run);
}
