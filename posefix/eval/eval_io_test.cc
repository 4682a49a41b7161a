#include "posefix/eval/eval_io.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "posefix/core/coco_io.h"
#include "posefix/core/file_util.h"
#include "posefix/core/test_util.h"
#include "posefix/eval/coco_eval.h"

namespace posefix {
namespace {

TEST(EvalIoTest, ResultsWithBoxesUseBoxAreasAsPycocotools) {
  absl::StatusOr<CocoDataset> gt =
      ReadEvalGroundTruth("testdata/golden/fce_keypoints/gt_dataset.json", 17);
  ASSERT_TRUE(gt.ok()) << gt.status();
  absl::StatusOr<EvalResults> dt =
      ReadEvalResults("testdata/golden/fce_keypoints/dt_dataset.json", *gt, 17);
  ASSERT_TRUE(dt.ok()) << dt.status();
  ASSERT_EQ(dt->areas.size(), dt->results.size());
  // The first result's bbox is [0.0, 148.307, 207.826, 240.512].
  EXPECT_EQ(dt->areas[0], 207.826 * 240.512);
}

TEST(EvalIoTest, ResultsWithoutBoxesUseKeypointExtent) {
  absl::StatusOr<CocoDataset> gt = ReadEvalGroundTruth("testdata/golden/mmpose_coco4/gt.json", 17);
  ASSERT_TRUE(gt.ok()) << gt.status();
  absl::StatusOr<EvalResults> dt = ReadEvalResults("testdata/golden/mmpose_coco4/dt.json", *gt, 17);
  ASSERT_TRUE(dt.ok()) << dt.status();
  const absl::Span<const Keypoint> pose = dt->results.pose(0);
  double x0 = 1e9, x1 = -1e9, y0 = 1e9, y1 = -1e9;
  for (const Keypoint& k : pose) {
    x0 = std::min(x0, k.x);
    x1 = std::max(x1, k.x);
    y0 = std::min(y0, k.y);
    y1 = std::max(y1, k.y);
  }
  EXPECT_EQ(dt->areas[0], (x1 - x0) * (y1 - y0));
}

// A file of the plain form is read by column in place, on any number of
// threads: the same results as the general reader, areas from the extents.
TEST(EvalIoTest, PlainResultsReadAsTheGeneralReader) {
  const std::string gt_path = "testdata/coco/annotations/person_keypoints_val2017_local.json";
  const std::string dt_path =
      "testdata/results/movenet_multipose_lightning_val2017_260imgs_results.json";
  const CocoDataset gt = OrFail(ReadEvalGroundTruth(gt_path, 17));
  ResultsReadOptions options;
  options.keep_extra_fields = false;
  const KeypointResultColumns expected =
      OrFail(ToResultColumns(dt_path, OrFail(ReadCocoResults(dt_path, options)), 17));
  ASSERT_GT(expected.size(), 300u);
  for (int threads : {1, 3}) {
    const EvalResults dt = OrFail(ReadEvalResults(dt_path, gt, 17, threads));
    const EvalInputs inputs = OrFail(ReadEvalInputs(gt_path, dt_path, 17, threads));
    for (const KeypointResultColumns* read : {&dt.results, &inputs.results.results}) {
      EXPECT_EQ(read->image_ids, expected.image_ids);
      EXPECT_EQ(read->category_ids, expected.category_ids);
      EXPECT_EQ(read->scores, expected.scores);
      EXPECT_EQ(read->keypoints, expected.keypoints);
    }
    ASSERT_EQ(dt.areas.size(), expected.size());
    for (size_t r = 0; r < expected.size(); ++r) {
      EXPECT_EQ(dt.areas[r], KeypointExtentArea(expected.pose(r))) << r;
    }
    EXPECT_EQ(inputs.results.areas, dt.areas);
  }
}

TEST(EvalIoTest, MissingFileNamesIt) {
  absl::StatusOr<CocoDataset> gt = ReadEvalGroundTruth("testdata/none.json", 17);
  ASSERT_FALSE(gt.ok());
  EXPECT_NE(gt.status().message().find("testdata/none.json"), std::string::npos);
}

TEST(EvalIoTest, InputsReadTogetherAsApart) {
  const std::string gt_path = "testdata/golden/fce_keypoints/gt_dataset.json";
  const std::string dt_path = "testdata/golden/fce_keypoints/dt_dataset.json";
  absl::StatusOr<EvalInputs> inputs = ReadEvalInputs(gt_path, dt_path, 17, 2);
  ASSERT_TRUE(inputs.ok()) << inputs.status();
  absl::StatusOr<CocoDataset> gt = ReadEvalGroundTruth(gt_path, 17);
  ASSERT_TRUE(gt.ok()) << gt.status();
  absl::StatusOr<EvalResults> dt = ReadEvalResults(dt_path, *gt, 17);
  ASSERT_TRUE(dt.ok()) << dt.status();
  EXPECT_EQ(inputs->ground_truth.annotations.size(), gt->annotations.size());
  EXPECT_EQ(inputs->results.areas, dt->areas);
  EXPECT_EQ(inputs->results.results.image_ids, dt->results.image_ids);
  EXPECT_EQ(inputs->results.results.category_ids, dt->results.category_ids);
  EXPECT_EQ(inputs->results.results.scores, dt->results.scores);
  EXPECT_EQ(inputs->results.results.keypoints, dt->results.keypoints);
  // A result on an image the ground truth lacks, then a malformed entry, or
  // only the latter: the error of ReadEvalResults, for the first entry at
  // fault.
  std::string keypoints = "0";
  for (int i = 1; i < 51; ++i) keypoints += ", 0";
  const auto entry = [&keypoints](int64_t image_id, const std::string& score) {
    return absl::StrCat(R"({"image_id": )", image_id, R"(, "category_id": 1, "keypoints": [)",
                        keypoints, R"(], "score": )", score, "}");
  };
  for (const std::string& text :
       {absl::StrCat("[", entry(139099, "1"), ",", entry(5, "1"), "]"),
        absl::StrCat("[", entry(5, "1"), ",", entry(139099, "\"x\""), "]"),
        absl::StrCat("[", entry(139099, "1"), ",", entry(139099, "\"x\""), "]"),
        // Not of the plain form (an extra member), on an unknown image.
        absl::StrCat("[", entry(139099, "1, \"x\": 0"), ",", entry(5, "1, \"x\": 0"), "]")}) {
    const std::string bad_path = ::testing::TempDir() + "/bad_results.json";
    ASSERT_TRUE(WriteFileAtomically(bad_path, text).ok());
    absl::StatusOr<EvalInputs> together = ReadEvalInputs(gt_path, bad_path, 17, 2);
    absl::StatusOr<EvalResults> apart = ReadEvalResults(bad_path, *gt, 17);
    ASSERT_FALSE(together.ok()) << text;
    ASSERT_FALSE(apart.ok()) << text;
    EXPECT_EQ(together.status().message(), apart.status().message());
    EXPECT_NE(together.status().message().find("bad_results.json"), std::string::npos)
        << together.status();
  }
  // Either file missing: the error names it.
  for (const auto& [gt_file, dt_file] :
       {std::pair<std::string, std::string>{"testdata/none.json", dt_path},
        {gt_path, "testdata/none.json"}}) {
    absl::StatusOr<EvalInputs> missing = ReadEvalInputs(gt_file, dt_file, 17);
    ASSERT_FALSE(missing.ok());
    EXPECT_NE(missing.status().message().find("testdata/none.json"), std::string::npos)
        << missing.status();
  }
}

}  // namespace
}  // namespace posefix
