#include "posefix/eval/error_analysis.h"

#include <cmath>
#include <vector>

#include "gtest/gtest.h"
#include "posefix/core/keypoint_schema.h"
#include "posefix/eval/eval_io.h"
#include "posefix/eval/oks.h"

namespace posefix {
namespace {

// Golden counts of coco-analyze on mmpose_coco4 (expected_stats.json).
TEST(ErrorAnalysisGoldenTest, MatchesCocoAnalyzeCountsOnMmposeCoco4) {
  absl::StatusOr<CocoDataset> gt = ReadEvalGroundTruth("testdata/golden/mmpose_coco4/gt.json", 17);
  ASSERT_TRUE(gt.ok()) << gt.status();
  absl::StatusOr<EvalResults> dt =
      ReadEvalResults("testdata/golden/mmpose_coco4/dt.json", *gt, 17);
  ASSERT_TRUE(dt.ok()) << dt.status();
  absl::StatusOr<ErrorAnalysis> analysis =
      AnalyzeKeypointErrors(*gt, dt->results, dt->areas, CocoSchema());
  ASSERT_TRUE(analysis.ok()) << analysis.status();
  ASSERT_EQ(analysis->area_ranges_size(), 3);
  const AreaErrorAnalysis& all = analysis->area_ranges(0);
  EXPECT_EQ(all.area_range(), "all");
  EXPECT_EQ(all.matched_detections(), 12);
  EXPECT_EQ(all.total().good(), 160);
  EXPECT_EQ(all.total().jitter(), 8);
  EXPECT_EQ(all.total().inversion(), 3);
  EXPECT_EQ(all.total().swap(), 0);
  EXPECT_EQ(all.total().miss(), 10);
  // Per-keypoint counts add up to the totals.
  int64_t good = 0, miss = 0;
  for (const KeypointErrorCounts& counts : all.per_keypoint()) {
    good += counts.good();
    miss += counts.miss();
  }
  EXPECT_EQ(good, 160);
  EXPECT_EQ(miss, 10);
  // Correcting errors never lowers AP here, and correcting all of them
  // cumulatively is at least as good as any single one.
  ASSERT_EQ(all.corrected_size(), 8);
  for (const CorrectedAp& corrected : all.corrected()) {
    EXPECT_GE(corrected.ap(), all.ap() - 1e-12) << corrected.ShortDebugString();
  }
  const double all_corrected = all.corrected(7).ap();
  EXPECT_TRUE(all.corrected(7).cumulative());
  for (int i = 0; i < 4; ++i) EXPECT_LE(all.corrected(i).ap(), all_corrected + 1e-12);
  // Medium and large split "all".
  const AreaErrorAnalysis& medium = analysis->area_ranges(1);
  const AreaErrorAnalysis& large = analysis->area_ranges(2);
  EXPECT_EQ(medium.matched_detections() + large.matched_detections(), 12);
  EXPECT_EQ(medium.total().good() + large.total().good(), 160);
  EXPECT_EQ(medium.total().miss() + large.total().miss(), 10);
  EXPECT_FALSE(FormatErrorAnalysis(*analysis).empty());
}

PersonAnnotation Person(double x, double y, double area) {
  PersonAnnotation person;
  person.area = area;
  person.keypoints.assign(3, Keypoint{});
  // Keypoints 1 and 2 are a left/right pair, 10 px apart.
  person.keypoints[0] = {x, y, 2};
  person.keypoints[1] = {x - 5, y + 20, 2};
  person.keypoints[2] = {x + 5, y + 20, 2};
  person.num_keypoints = 3;
  return person;
}

TEST(ClassifyKeypointsTest, AssignsEveryClass) {
  const std::vector<double> variances = OksVariances(std::vector<double>{0.05, 0.05, 0.05});
  const std::vector<int> flip = {0, 2, 1};
  const PersonAnnotation matched = Person(100, 100, 10000);
  const PersonAnnotation other = Person(300, 100, 10000);
  const std::vector<const PersonAnnotation*> others = {&other};
  ErrorAnalysisOptions options;

  // Nose exact: good. Left at the right's place: inversion. Right at the
  // other person's right: swap.
  Pose detection = {{100, 100, 1}, {105, 120, 1}, {305, 120, 1}};
  KeypointClassification c =
      ClassifyKeypoints(detection, matched, others, variances, flip, {}, options);
  EXPECT_EQ(c.types[0], GOOD);
  EXPECT_EQ(c.types[1], INVERSION);
  EXPECT_EQ(c.types[2], SWAP);
  EXPECT_EQ(c.corrected[0].x, 100);

  // KS = exp(-d^2 / (2 sigma)^2 / area / 2): d = 10 -> exp(-0.5) = 0.61
  // (jitter); d = 30 -> exp(-4.5) (miss).
  detection = {{110, 100, 1}, {-100, 500, 1}, {105, 120, 1}};
  c = ClassifyKeypoints(detection, matched, others, variances, flip, {}, options);
  EXPECT_EQ(c.types[0], JITTER);
  EXPECT_EQ(c.types[1], MISS);
  EXPECT_EQ(c.types[2], GOOD);
  // A corrected jitter lands at the good/jitter boundary distance.
  const double expected = 100 + std::sqrt(-std::log(0.85) * 2 * 10000 * (variances[0] / 4));
  EXPECT_DOUBLE_EQ(c.corrected[0].x, expected);
  EXPECT_EQ(c.corrected[0].y, 100);

  // Unlabelled and ignored keypoints are not classified.
  PersonAnnotation partial = matched;
  partial.keypoints[1].v = 0;
  const std::vector<int> ignored = {2};
  c = ClassifyKeypoints(detection, partial, others, variances, flip, ignored, options);
  EXPECT_EQ(c.types[1], KEYPOINT_ERROR_TYPE_UNSPECIFIED);
  EXPECT_EQ(c.types[2], KEYPOINT_ERROR_TYPE_UNSPECIFIED);
}

TEST(ErrorAnalysisTest, RejectsBadOptions) {
  ErrorAnalysisOptions options;
  options.good_ks = 0.4;
  absl::StatusOr<ErrorAnalysis> analysis =
      AnalyzeKeypointErrors(CocoDataset(), {}, {}, CocoSchema(), options);
  ASSERT_FALSE(analysis.ok());
  EXPECT_NE(analysis.status().message().find("jitter_ks"), std::string::npos);
}

}  // namespace
}  // namespace posefix
