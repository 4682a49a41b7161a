#include "posefix/eval/eval_io.h"

#include <string>

#include "gtest/gtest.h"

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
  EXPECT_TRUE(dt->results[0].extra.empty());
}

TEST(EvalIoTest, ResultsWithoutBoxesUseKeypointExtent) {
  absl::StatusOr<CocoDataset> gt = ReadEvalGroundTruth("testdata/golden/mmpose_coco4/gt.json", 17);
  ASSERT_TRUE(gt.ok()) << gt.status();
  absl::StatusOr<EvalResults> dt =
      ReadEvalResults("testdata/golden/mmpose_coco4/dt.json", *gt, 17);
  ASSERT_TRUE(dt.ok()) << dt.status();
  const Pose& pose = dt->results[0].keypoints;
  double x0 = 1e9, x1 = -1e9, y0 = 1e9, y1 = -1e9;
  for (const Keypoint& k : pose) {
    x0 = std::min(x0, k.x);
    x1 = std::max(x1, k.x);
    y0 = std::min(y0, k.y);
    y1 = std::max(y1, k.y);
  }
  EXPECT_EQ(dt->areas[0], (x1 - x0) * (y1 - y0));
}

TEST(EvalIoTest, MissingFileNamesIt) {
  absl::StatusOr<CocoDataset> gt = ReadEvalGroundTruth("testdata/none.json", 17);
  ASSERT_FALSE(gt.ok());
  EXPECT_NE(gt.status().message().find("testdata/none.json"), std::string::npos);
}

}  // namespace
}  // namespace posefix
