#include "posefix/model/refine_results.h"

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "posefix/core/coco_io.h"
#include "posefix/core/geometry.h"
#include "posefix/core/keypoint_schema.h"
#include "posefix/core/test_util.h"
#include "posefix/eval/oks.h"
#include "posefix/eval/oks_nms.h"

namespace posefix {
namespace {

namespace fs = std::filesystem;

constexpr char kGt[] = "testdata/coco/annotations/person_keypoints_val2017_fixture.json";
constexpr char kImages[] = "testdata/coco/val2017";
constexpr char kInput[] = "testdata/results/movenet_thunder_topdown_APH56dets_fixture_results.json";

std::unique_ptr<Refiner> SmallRefiner() {
  ModelOptions model;
  model.set_resnet_depth(18);
  model.set_input_height(64);
  model.set_input_width(64);
  RefinerOptions options;
  options.flip_permutation = FlipPermutation(CocoSchema());
  options.device = "cpu";
  return *Refiner::Untrained(model, options, 3);
}

RefineFileOptions Options(const std::string& input, const std::string& output) {
  RefineFileOptions options;
  options.images_dir = kImages;
  options.annotations = kGt;
  options.input = input;
  options.output = output;
  return options;
}

std::string Temp(const std::string& name) {
  return (fs::path(::testing::TempDir()) / name).string();
}

TEST(RefineResultsTest, RefinesEveryPersonKeepingScores) {
  const std::unique_ptr<Refiner> refiner = SmallRefiner();
  const std::vector<KeypointResult> input = OrFail(ReadCocoResults(kInput));
  RefineFileOptions options = Options(kInput, Temp("refined.json"));
  options.oks_nms_threshold = 0;
  absl::StatusOr<RefineReport> report = RefineResultsFile(options, refiner.get());
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->input_results, static_cast<int64_t>(input.size()));
  EXPECT_EQ(report->refined + report->skipped_score + report->skipped_category,
            report->input_results);
  const std::vector<KeypointResult> output = OrFail(ReadCocoResults(options.output));
  ASSERT_EQ(static_cast<int64_t>(output.size()), report->written);
  for (size_t i = 0, k = 0; i < input.size() && k < output.size(); ++i) {
    if (!(input[i].score > 0)) continue;
    EXPECT_EQ(output[k].score, input[i].score);
    EXPECT_EQ(output[k].keypoints[5].v, input[i].keypoints[5].v);  // scores pass through
    ++k;
  }
}

TEST(RefineResultsTest, RelativePathsMeanTheWorkingDirectory) {
  // The command-line layer resolves the user's paths (ResolvePathFlags); the
  // library takes a path as given, even under `bazel run`.
  setenv("BUILD_WORKING_DIRECTORY", "/nonexistent", 1);
  const std::unique_ptr<Refiner> refiner = SmallRefiner();
  RefineFileOptions options = Options(kInput, Temp("relative.json"));
  options.oks_nms_threshold = 0;
  absl::StatusOr<RefineReport> report = RefineResultsFile(options, refiner.get());
  unsetenv("BUILD_WORKING_DIRECTORY");
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_GT(report->refined, 0);
}

TEST(RefineResultsTest, OksNmsRemovesDuplicates) {
  const std::unique_ptr<Refiner> refiner = SmallRefiner();
  std::vector<KeypointResult> input = OrFail(ReadCocoResults(kInput));
  input.resize(3);
  input.push_back(input[0]);  // the same pose twice: refined identically
  const std::string path = Temp("duplicated.json");
  ASSERT_TRUE(WriteCocoResults(path, input).ok());
  absl::StatusOr<RefineReport> report =
      RefineResultsFile(Options(path, Temp("nms.json")), refiner.get());
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_GE(report->removed_by_nms, 1);
  EXPECT_EQ(report->written, report->refined - report->removed_by_nms);
}

TEST(RefineResultsTest, OksNmsScalesEachRefinedPoseByItsCropBox) {
  // Two results of one person, 3 px apart: refined by an untrained network,
  // their poses barely span a few pixels, so only the crop box's area (the
  // release's scale) makes them duplicates.
  const std::unique_ptr<Refiner> refiner = SmallRefiner();
  std::vector<KeypointResult> input = OrFail(ReadCocoResults(kInput));
  input.resize(1);
  input.push_back(input[0]);
  input[1].score *= 0.5;
  for (Keypoint& k : input[1].keypoints) k.x += 3;
  const std::string path = Temp("shifted.json");
  ASSERT_TRUE(WriteCocoResults(path, input).ok());
  RefineFileOptions options = Options(path, Temp("shifted_all.json"));
  options.oks_nms_threshold = 0;
  ASSERT_TRUE(RefineResultsFile(options, refiner.get()).ok());
  const std::vector<KeypointResult> refined = OrFail(ReadCocoResults(options.output));
  ASSERT_EQ(refined.size(), 2u);

  OksNmsOptions nms;
  nms.threshold = 0.9;
  for (const KeypointResult& result : input) {
    // The test box of a 64 x 64 crop: keypoint extent x1.2, aspect 1, x1.25.
    nms.areas.push_back(
        ScaleBox(FixAspectRatio(BoxFromKeypoints(result.keypoints), 1.0), 1.25).area());
  }
  const std::vector<int> kept = *OksNms(refined, OksVariances(CocoSchema()), nms);
  ASSERT_EQ(kept, std::vector<int>({0}));

  options.oks_nms_threshold = 0.9;
  options.output = Temp("shifted_nms.json");
  absl::StatusOr<RefineReport> report = RefineResultsFile(options, refiner.get());
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->removed_by_nms, 1);
  const std::vector<KeypointResult> written = OrFail(ReadCocoResults(options.output));
  ASSERT_EQ(written.size(), 1u);
  EXPECT_EQ(written[0].keypoints, refined[0].keypoints);
}

TEST(RefineResultsTest, MissingImagesAreAnErrorOrACountedSkip) {
  const std::unique_ptr<Refiner> refiner = SmallRefiner();
  RefineFileOptions options = Options(kInput, Temp("missing.json"));
  options.images_dir = Temp("no_such_dir");
  absl::StatusOr<RefineReport> report = RefineResultsFile(options, refiner.get());
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.status().message().find("image_id: image"), std::string::npos)
      << report.status().ToString();
  EXPECT_FALSE(fs::exists(options.output));
  options.skip_missing_images = true;
  report = RefineResultsFile(options, refiner.get());
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_GT(report->skipped_missing_image, 0);
  EXPECT_EQ(report->written, 0);
}

TEST(RefineResultsTest, FarKeypointsFollowThePolicy) {
  const std::unique_ptr<Refiner> refiner = SmallRefiner();
  std::vector<KeypointResult> input = OrFail(ReadCocoResults(kInput));
  input.resize(2);
  input[1].keypoints[3].x = -1e5;
  input[1].keypoints[4].y = 1e5;
  const std::string path = Temp("far.json");
  ASSERT_TRUE(WriteCocoResults(path, input).ok());
  RefineFileOptions options = Options(path, Temp("far_out.json"));
  absl::StatusOr<RefineReport> report = RefineResultsFile(options, refiner.get());
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->clamped_keypoints, 2);
  options.far_keypoints = FarKeypointPolicy::kSkip;
  report = RefineResultsFile(options, refiner.get());
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->skipped_far_keypoints, 1);
  options.far_keypoints = FarKeypointPolicy::kError;
  options.output = Temp("far_error.json");
  report = RefineResultsFile(options, refiner.get());
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.status().message().find("far.json: [1].keypoints"), std::string::npos)
      << report.status().ToString();
  EXPECT_FALSE(fs::exists(options.output));
}

}  // namespace
}  // namespace posefix
