#include "posefix/eval/oks_change.h"

#include <vector>

#include "gtest/gtest.h"
#include "posefix/core/keypoint_schema.h"
#include "posefix/core/test_util.h"
#include "posefix/eval/oks.h"

namespace posefix {
namespace {

CocoDataset TwoPeople() {
  CocoDataset dataset;
  dataset.images.push_back({1, "a.jpg", 640, 480, {}});
  dataset.categories.push_back({1, "person", {}, {}});
  for (int p = 0; p < 2; ++p) {
    PersonAnnotation person;
    person.id = 10 + p;
    person.image_id = 1;
    person.keypoints.assign(17, Keypoint{});
    for (int j = 0; j < 17; ++j) person.keypoints[j] = {100.0 + 300 * p + 4 * j, 50.0 + 9 * j, 2};
    person.num_keypoints = 17;
    person.bbox = {100.0 + 300 * p, 50, 70, 150};
    person.area = 70 * 150;
    dataset.annotations.push_back(person);
  }
  return dataset;
}

KeypointResult Shifted(const PersonAnnotation& person, double dx, double score) {
  KeypointResult result;
  result.image_id = person.image_id;
  result.keypoints = person.keypoints;
  for (Keypoint& k : result.keypoints) k.x += dx;
  result.score = score;
  return result;
}

TEST(OksChangeTest, PairsThroughTheGroundTruthMatch) {
  const CocoDataset gt = TwoPeople();
  const std::vector<double> variances = OksVariances(CocoSchema());
  // Before: person 11 first in the file, slightly off; person 10 far off.
  std::vector<KeypointResult> before = {Shifted(gt.annotations[1], 6, 0.8),
                                        Shifted(gt.annotations[0], 9, 0.9)};
  // After: refined; person 11 unmatched (moved away).
  std::vector<KeypointResult> after = {Shifted(gt.annotations[0], 1, 0.9),
                                       Shifted(gt.annotations[1], 1000, 0.8)};
  absl::StatusOr<OksChange> change =
      ComputeOksChange(gt, ResultColumns(before), {}, ResultColumns(after), {}, variances);
  ASSERT_TRUE(change.ok()) << change.status();
  ASSERT_EQ(change->pairs_size(), 1);
  const OksChangePair& pair = change->pairs(0);
  EXPECT_EQ(pair.ground_truth_id(), 10);
  EXPECT_EQ(pair.before_index(), 1);
  EXPECT_EQ(pair.after_index(), 0);
  EXPECT_LT(pair.oks_before(), pair.oks_after());
  EXPECT_EQ(change->matched_before_only(), 1);
  EXPECT_EQ(change->matched_after_only(), 0);
  EXPECT_EQ(change->mean_oks_after(), pair.oks_after());
  const std::string csv = OksChangeToCsv(*change);
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "image_id,ground_truth_id,before_index,after_index,oks_before,oks_after");
  EXPECT_NE(csv.find("\n1,10,1,0,"), std::string::npos) << csv;
}

TEST(OksChangeTest, CountsTheKeypointsARefinementMoved) {
  const CocoDataset gt = TwoPeople();
  const std::vector<double> variances = OksVariances(CocoSchema());
  const std::vector<KeypointResult> before = {Shifted(gt.annotations[0], 6, 0.9)};
  std::vector<KeypointResult> after = before;
  // Two keypoints moved: one onto the ground truth, one further away.
  after[0].keypoints[3].x = gt.annotations[0].keypoints[3].x;
  after[0].keypoints[8].x += 4;
  absl::StatusOr<OksChange> change =
      ComputeOksChange(gt, ResultColumns(before), {}, ResultColumns(after), {}, variances);
  ASSERT_TRUE(change.ok()) << change.status();
  EXPECT_EQ(change->keypoints(), 17);
  EXPECT_EQ(change->moved_keypoints(), 2);
  const double area = gt.annotations[0].area;
  const double expected_before = (KeypointSimilarity(6, 0, variances[3], area) +
                                  KeypointSimilarity(6, 0, variances[8], area)) /
                                 2;
  const double expected_after = (1.0 + KeypointSimilarity(10, 0, variances[8], area)) / 2;
  EXPECT_DOUBLE_EQ(change->moved_mean_ks_before(), expected_before);
  EXPECT_DOUBLE_EQ(change->moved_mean_ks_after(), expected_after);
}

TEST(OksChangeTest, PairsAtOksBelowTheCocoThresholdsWithTheirExactOks) {
  const CocoDataset gt = TwoPeople();
  const std::vector<double> variances = OksVariances(CocoSchema());
  const std::vector<KeypointResult> before = {Shifted(gt.annotations[0], 20, 0.9)};
  const std::vector<KeypointResult> after = {Shifted(gt.annotations[0], 2, 0.9)};
  std::vector<double> scratch(17);
  const double oks_before = ComputeOks(MakeOksGroundTruth(gt.annotations[0]), before[0].keypoints,
                                       variances, scratch.data());
  // Matched at the default 0.1, below every COCO threshold.
  ASSERT_GT(oks_before, 0.1);
  ASSERT_LT(oks_before, 0.5);
  absl::StatusOr<OksChange> change =
      ComputeOksChange(gt, ResultColumns(before), {}, ResultColumns(after), {}, variances);
  ASSERT_TRUE(change.ok()) << change.status();
  ASSERT_EQ(change->pairs_size(), 1);
  EXPECT_EQ(change->pairs(0).oks_before(), oks_before);
}

TEST(OksChangeTest, RejectsBadThreshold) {
  OksChangeOptions options;
  options.match_oks = 1.5;
  absl::StatusOr<OksChange> change =
      ComputeOksChange(TwoPeople(), {}, {}, {}, {}, OksVariances(CocoSchema()), options);
  ASSERT_FALSE(change.ok());
  EXPECT_NE(change.status().message().find("match_oks"), std::string::npos);
}

}  // namespace
}  // namespace posefix
