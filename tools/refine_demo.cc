// Refines the poses of one image and draws the input (orange) and refined
// (green) skeletons into a PNG.
//   bazel run //tools:refine_demo -- --checkpoint=FILE --image=FILE \
//       --input=RESULTS.json [--image_id=N] --out=PNG
// --input is a COCO keypoint results file; its results for --image_id are
// drawn (--image_id may be left out when the file holds one image). Results
// with score <= 0 or category != 1 are ignored, as by tools:refine.

#include <algorithm>
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gflags/gflags.h"
#include "opencv2/imgcodecs.hpp"
#include "opencv2/imgproc.hpp"
#include "posefix/core/coco_io.h"
#include "posefix/core/command_line.h"
#include "posefix/core/file_util.h"
#include "posefix/core/image_io.h"
#include "posefix/core/keypoint_schema.h"
#include "posefix/core/status_macros.h"
#include "posefix/model/refiner.h"

DEFINE_string(checkpoint, "", "PoseFix checkpoint (required).");
DEFINE_string(image, "", "The image (required).");
DEFINE_string(input, "", "COCO keypoint results holding the image's poses (required).");
DEFINE_int64(image_id, -1, "Which image of --input; -1: the only one.");
DEFINE_string(out, "", "PNG to write (required).");
DEFINE_bool(flip_test, true, "Flip test.");
DEFINE_string(device, "auto", "auto, cpu, cuda or cuda:N.");

namespace posefix {
namespace {

void DrawPose(const Pose& pose, const KeypointSchema& schema, const cv::Scalar& colour,
              int thickness, cv::Mat* canvas) {
  auto at = [](const Keypoint& k) { return cv::Point(cvRound(k.x), cvRound(k.y)); };
  for (const auto& limb : schema.skeleton()) {
    cv::line(*canvas, at(pose[limb.from()]), at(pose[limb.to()]), colour, thickness, cv::LINE_AA);
  }
  for (const Keypoint& k : pose) cv::circle(*canvas, at(k), thickness + 2, colour, cv::FILLED);
}

absl::Status Run() {
  if (FLAGS_checkpoint.empty() || FLAGS_image.empty() || FLAGS_input.empty() || FLAGS_out.empty()) {
    return absl::InvalidArgumentError("--checkpoint, --image, --input and --out are required");
  }
  const KeypointSchema& schema = CocoSchema();
  const std::string input_path = ResolveUserPath(FLAGS_input);
  ASSIGN_OR_RETURN(const std::vector<KeypointResult> results, ReadCocoResults(input_path));
  int64_t image_id = FLAGS_image_id;
  if (image_id < 0) {
    std::set<int64_t> ids;
    for (const KeypointResult& r : results) ids.insert(r.image_id);
    if (ids.size() != 1) {
      return FieldError(input_path, "image_id",
                        absl::StrCat("holds ", ids.size(), " images: pass --image_id"));
    }
    image_id = *ids.begin();
  }
  std::vector<Pose> poses;
  for (const KeypointResult& r : results) {
    if (r.image_id == image_id && r.category_id == 1 && r.score > 0) poses.push_back(r.keypoints);
  }
  if (poses.empty()) {
    return FieldError(input_path, "image_id", absl::StrCat("no pose of image ", image_id));
  }
  const std::string image_path = ResolveUserPath(FLAGS_image);
  const cv::Mat image = ReadImage(image_path);
  if (image.empty()) return FieldError(image_path, "image", "cannot read the image");

  RefinerOptions options;
  options.flip_test = FLAGS_flip_test;
  options.flip_permutation = FlipPermutation(schema);
  options.device = FLAGS_device;
  ASSIGN_OR_RETURN(std::unique_ptr<Refiner> refiner,
                   Refiner::FromCheckpoint(ResolveUserPath(FLAGS_checkpoint), options));
  ASSIGN_OR_RETURN(const std::vector<Pose> refined, refiner->RefineInImage(image, poses));

  // Draw at least 640 px wide so the lines stay legible.
  const double scale = std::max(1.0, 640.0 / image.cols);
  cv::Mat canvas;
  cv::resize(image, canvas, cv::Size(), scale, scale, cv::INTER_LINEAR);
  auto scaled = [scale](Pose pose) {
    for (Keypoint& k : pose) {
      k.x = (k.x + 0.5) * scale - 0.5;
      k.y = (k.y + 0.5) * scale - 0.5;
    }
    return pose;
  };
  const cv::Scalar input_colour(0, 140, 255), refined_colour(60, 220, 60);  // BGR
  for (const Pose& pose : poses) DrawPose(scaled(pose), schema, input_colour, 2, &canvas);
  for (const Pose& pose : refined) DrawPose(scaled(pose), schema, refined_colour, 2, &canvas);
  cv::rectangle(canvas, {0, 0}, {230, 50}, cv::Scalar(0, 0, 0), cv::FILLED);
  cv::putText(canvas, "input", {10, 20}, cv::FONT_HERSHEY_SIMPLEX, 0.6, input_colour, 2);
  cv::putText(canvas, "refined (PoseFix)", {10, 42}, cv::FONT_HERSHEY_SIMPLEX, 0.6, refined_colour,
              2);
  std::vector<uchar> png;
  if (!cv::imencode(".png", canvas, png)) {
    return absl::InternalError("cannot encode the PNG");
  }
  RETURN_IF_ERROR(WriteFileAtomically(
      ResolveUserPath(FLAGS_out),
      absl::string_view(reinterpret_cast<const char*>(png.data()), png.size())));
  std::cerr << poses.size() << " poses of image " << image_id << " refined on " << refiner->device()
            << "; wrote " << FLAGS_out << '\n';
  return absl::OkStatus();
}

}  // namespace
}  // namespace posefix

int main(int argc, char** argv) {
  return posefix::RunCommandLine(
      argc, argv, "Draws input and refined poses of one image; see tools/refine_demo.cc.",
      posefix::Run);
}
