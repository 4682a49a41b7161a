#include "posefix/eval/oks_nms.h"

#include <vector>

#include "gtest/gtest.h"
#include "posefix/core/keypoint_schema.h"
#include "posefix/eval/oks.h"

namespace posefix {
namespace {

KeypointResult Pose17(int64_t image_id, double x, double score) {
  KeypointResult result;
  result.image_id = image_id;
  result.score = score;
  for (int j = 0; j < 17; ++j) result.keypoints.push_back({x + 3 * j, 40.0 + 10 * j, 1});
  return result;
}

TEST(OksNmsTest, SuppressesNearDuplicatesOfBetterPoses) {
  const std::vector<double> variances = OksVariances(CocoSchema());
  const std::vector<KeypointResult> results = {
      Pose17(1, 100, 0.5),    // duplicate of the next, lower score: dropped
      Pose17(1, 100.5, 0.9),  // kept
      Pose17(1, 400, 0.4),    // far away: kept
      Pose17(2, 100, 0.3),    // other image: kept
  };
  absl::StatusOr<std::vector<int>> kept = OksNms(results, variances);
  ASSERT_TRUE(kept.ok()) << kept.status();
  EXPECT_EQ(*kept, (std::vector<int>{1, 2, 3}));
  // A threshold above every OKS keeps everything.
  OksNmsOptions options;
  options.threshold = 1.0;
  kept = OksNms(results, variances, options);
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->size(), 4u);
}

TEST(OksNmsTest, GivenAreasScaleTheOks) {
  const std::vector<double> variances = OksVariances(CocoSchema());
  const std::vector<KeypointResult> results = {Pose17(1, 100, 0.5), Pose17(1, 101, 0.9)};
  EXPECT_EQ(*OksNms(results, variances), (std::vector<int>{1}));
  // Small boxes: one pixel apart is no longer a duplicate.
  OksNmsOptions options;
  options.areas = {20, 20};
  EXPECT_EQ(*OksNms(results, variances, options), (std::vector<int>{0, 1}));
  options.areas = {20};
  absl::StatusOr<std::vector<int>> wrong = OksNms(results, variances, options);
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("areas"), std::string::npos);
}

TEST(OksNmsTest, PoseOksIsOneForIdenticalPoses) {
  const std::vector<double> variances = OksVariances(CocoSchema());
  const KeypointResult a = Pose17(1, 100, 1);
  EXPECT_DOUBLE_EQ(PoseOks(a.keypoints, 100, a.keypoints, 100, variances), 1.0);
}

TEST(OksNmsTest, RejectsWrongKeypointCount) {
  std::vector<KeypointResult> results = {Pose17(1, 0, 1)};
  results[0].keypoints.resize(3);
  absl::StatusOr<std::vector<int>> kept = OksNms(results, OksVariances(CocoSchema()));
  ASSERT_FALSE(kept.ok());
  EXPECT_NE(kept.status().message().find("[0].keypoints"), std::string::npos);
}

}  // namespace
}  // namespace posefix
