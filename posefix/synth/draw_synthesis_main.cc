// Draws ground-truth and synthesized poses on real images, each synthesized
// keypoint coloured by its status (as the paper's Figures 3 and 4):
//   bazel run //posefix/synth:draw_synthesis -- --out_dir=$PWD/synth_png [--gt=FILE --images=DIR]
//   [--seed=N] [--max_images=N]
// Ground truth: white skeleton and dots. Each labelled keypoint: a line from
// its ground truth to its synthesized point, which is a dot in the colour of
// its status; unlabelled keypoints: grey rings.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gflags/gflags.h"
#include "opencv2/core.hpp"
#include "opencv2/imgcodecs.hpp"
#include "opencv2/imgproc.hpp"
#include "posefix/core/coco_io.h"
#include "posefix/core/command_line.h"
#include "posefix/core/file_util.h"
#include "posefix/core/image_io.h"
#include "posefix/core/keypoint_schema.h"
#include "posefix/core/status_macros.h"
#include "posefix/synth/synthesizer.h"

DEFINE_string(gt, "testdata/coco/annotations/person_keypoints_val2017_fixture.json",
              "COCO keypoint annotation file.");
DEFINE_string(images, "testdata/coco/val2017", "Directory of the annotation file's images.");
DEFINE_string(out_dir, "", "Directory for the PNG files (required; created if missing).");
DEFINE_uint64(seed, 0, "Seed, as for synthesize.");
DEFINE_int32(max_images, 8, "Draw at most this many images (those with persons, file order).");
DEFINE_string(error_model, "", "Text-format ErrorModel; fields left out keep the release's.");
DEFINE_string(area, "annotation", "'annotation' or 'box', as for synthesize.");

namespace posefix {
namespace {

// BGR colour of each SynthesisStatus.
const cv::Scalar kStatusColours[kNumSynthesisStatuses] = {
    {60, 200, 60},    // good: green
    {0, 215, 255},    // jitter: yellow
    {255, 60, 220},   // inversion: magenta
    {40, 40, 255},    // swap: red
    {255, 150, 30},   // miss: blue
    {0, 0, 0},        // dropped: not drawn
    {170, 170, 170},  // unlabelled: grey
};

void DrawLegend(cv::Mat* canvas, const std::vector<int>& counts, int scale) {
  const double font = 0.45 * scale;
  const int line = 18 * scale;
  const int rows = kNumSynthesisStatuses + 1;
  cv::rectangle(*canvas, {0, 0}, {175 * scale, line * rows + 6 * scale}, cv::Scalar(0, 0, 0),
                cv::FILLED);
  cv::circle(*canvas, {10 * scale, line / 2 + 3 * scale}, 4 * scale, {255, 255, 255}, cv::FILLED);
  cv::putText(*canvas, "ground truth", {22 * scale, line / 2 + 8 * scale}, cv::FONT_HERSHEY_SIMPLEX,
              font, {255, 255, 255}, scale, cv::LINE_AA);
  for (int s = 0; s < kNumSynthesisStatuses; ++s) {
    const int y = line * (s + 1) + line / 2 + 3 * scale;
    if (s != static_cast<int>(SynthesisStatus::kDropped)) {
      cv::circle(*canvas, {10 * scale, y}, 4 * scale, kStatusColours[s], cv::FILLED);
    }
    cv::putText(*canvas,
                absl::StrCat(SynthesisStatusName(static_cast<SynthesisStatus>(s)), " ", counts[s]),
                {22 * scale, y + 5 * scale}, cv::FONT_HERSHEY_SIMPLEX, font, {255, 255, 255}, scale,
                cv::LINE_AA);
  }
}

absl::Status Run() {
  ResolvePathFlags({"gt", "images", "out_dir", "error_model"});
  if (FLAGS_out_dir.empty()) return absl::InvalidArgumentError("--out_dir: required");
  if (FLAGS_max_images <= 0) return absl::InvalidArgumentError("--max_images: must be positive");
  absl::StatusOr<AreaSource> area_source = ParseAreaSource(FLAGS_area);
  if (!area_source.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--area: ", area_source.status().message()));
  }
  const KeypointSchema& schema = CocoSchema();
  ASSIGN_OR_RETURN(const Synthesizer synthesizer, LoadSynthesizer(FLAGS_error_model, schema));
  CocoReadOptions read_options;
  read_options.keep_extra_fields = false;
  read_options.num_keypoints = schema.keypoint_names_size();
  ASSIGN_OR_RETURN(const CocoDataset dataset, ReadCocoDataset(FLAGS_gt, read_options));
  ASSIGN_OR_RETURN(const std::vector<SynthesizedPerson> people,
                   SynthesizeDataset(dataset, synthesizer, FLAGS_seed, *area_source, FLAGS_gt));

  std::map<int64_t, std::vector<const SynthesizedPerson*>> by_image;
  for (const SynthesizedPerson& person : people) by_image[person.image_id].push_back(&person);

  RETURN_IF_ERROR(CreateDirectories(FLAGS_out_dir));
  int drawn = 0;
  for (const ImageInfo& image : dataset.images) {
    if (drawn >= FLAGS_max_images) break;
    auto it = by_image.find(image.id);
    if (it == by_image.end()) continue;
    const std::string path = (std::filesystem::path(FLAGS_images) / image.file_name).string();
    cv::Mat canvas = ReadImage(path);
    if (canvas.empty()) {
      return absl::NotFoundError(absl::StrCat(path, ": cannot read the image of image id ",
                                              image.id, " (", FLAGS_gt, ")"));
    }
    // Draw at least 2x so that thin lines and text stay legible.
    const int scale = std::max(2, 1200 / std::max(canvas.cols, canvas.rows));
    cv::resize(canvas, canvas, {}, scale, scale, cv::INTER_LINEAR);
    canvas *= 0.75;  // dim the photo so the overlay stands out
    const int radius = 3 * scale;
    auto at = [scale](const Keypoint& k) {
      return cv::Point(static_cast<int>(k.x * scale + 0.5), static_cast<int>(k.y * scale + 0.5));
    };
    std::vector<int> counts(kNumSynthesisStatuses, 0);
    for (const SynthesizedPerson* person : it->second) {
      const Pose& gt = dataset.annotations[person->annotation_index].keypoints;
      const SynthesizedPose& synth = person->synthesized;
      for (const auto& limb : schema.skeleton()) {
        if (gt[limb.from()].v > 0 && gt[limb.to()].v > 0) {
          cv::line(canvas, at(gt[limb.from()]), at(gt[limb.to()]), {255, 255, 255}, scale / 2 + 1,
                   cv::LINE_AA);
        }
      }
      for (int j = 0; j < static_cast<int>(gt.size()); ++j) {
        const int status = static_cast<int>(synth.status[j]);
        ++counts[status];
        if (synth.status[j] == SynthesisStatus::kDropped) continue;
        if (synth.status[j] == SynthesisStatus::kUnlabelled) {
          cv::circle(canvas, at(synth.pose[j]), radius, kStatusColours[status], scale / 2 + 1,
                     cv::LINE_AA);
          continue;
        }
        cv::line(canvas, at(gt[j]), at(synth.pose[j]), kStatusColours[status], scale / 2 + 1,
                 cv::LINE_AA);
        cv::circle(canvas, at(gt[j]), radius - 1, {255, 255, 255}, cv::FILLED, cv::LINE_AA);
      }
      for (int j = 0; j < static_cast<int>(gt.size()); ++j) {
        const int status = static_cast<int>(synth.status[j]);
        if (status >= kNumErrorStatuses) continue;
        cv::circle(canvas, at(synth.pose[j]), radius + 1, {0, 0, 0}, cv::FILLED, cv::LINE_AA);
        cv::circle(canvas, at(synth.pose[j]), radius, kStatusColours[status], cv::FILLED,
                   cv::LINE_AA);
      }
    }
    DrawLegend(&canvas, counts, scale);
    std::vector<unsigned char> png;
    if (!cv::imencode(".png", canvas, png)) {
      return absl::InternalError(absl::StrCat("cannot encode the drawing of ", path));
    }
    const std::string out = (std::filesystem::path(FLAGS_out_dir) /
                             (std::filesystem::path(image.file_name).stem().string() + ".png"))
                                .string();
    RETURN_IF_ERROR(WriteFileAtomically(
        out, absl::string_view(reinterpret_cast<const char*>(png.data()), png.size())));
    std::fprintf(stderr, "%s\n", out.c_str());
    ++drawn;
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace posefix

int main(int argc, char** argv) {
  return posefix::RunCommandLine(
      argc, argv, "--out_dir=DIR [--gt=FILE --images=DIR] [--seed=N] [--max_images=N]",
      posefix::Run);
}
