#include "posefix/eval/oks.h"

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "posefix/core/keypoint_schema.h"

namespace posefix {
namespace {

TEST(NumpySumTest, MatchesPairwiseOrderOnSmallInputs) {
  // Below 8 values numpy adds left to right.
  const std::vector<double> values = {1e16, 1.0, -1e16, 1.0};
  EXPECT_EQ(NumpySum(values.data(), values.size()), 1.0);
  // 9 values: eight interleaved partial sums, then the ninth.
  std::vector<double> nine(9, 0.1);
  double r = 0.1 + 0.1;
  double expected = ((r + r) + (r + r)) + 0.1;
  EXPECT_EQ(NumpySum(nine.data(), nine.size()), expected);
  EXPECT_EQ(NumpySum(nullptr, 0), 0.0);
}

TEST(OksVariancesTest, SpellsCocoSigmasAsPycocotools) {
  const std::vector<double> variances = OksVariances(CocoSchema());
  ASSERT_EQ(variances.size(), 17u);
  // pycocotools: np.array([.26, .25, ...]) / 10.0, then (2 sigma)^2.
  const double tenths[17] = {.26, .25, .25, .35, .35, .79, .79, .72, .72,
                             .62, .62, 1.07, 1.07, .87, .87, .89, .89};
  for (int j = 0; j < 17; ++j) {
    const double sigma = tenths[j] / 10.0;
    EXPECT_EQ(variances[j], (sigma * 2) * (sigma * 2)) << j;
  }
  // Other sigmas are used as given.
  const std::vector<double> custom = OksVariances(std::vector<double>{0.0123});
  EXPECT_EQ(custom[0], (0.0123 * 2) * (0.0123 * 2));
}

PersonAnnotation Person(std::vector<Keypoint> keypoints, double area, Box box) {
  PersonAnnotation person;
  person.keypoints = std::move(keypoints);
  person.area = area;
  person.bbox = box;
  person.num_keypoints = 0;
  for (const Keypoint& k : person.keypoints) person.num_keypoints += k.v > 0;
  return person;
}

TEST(ComputeOksTest, PerfectDetectionHasOksOne) {
  const std::vector<double> variances = OksVariances(std::vector<double>{0.05, 0.1});
  PersonAnnotation gt = Person({{10, 20, 2}, {30, 40, 1}}, 100, {0, 0, 10, 10});
  std::vector<double> scratch(2);
  EXPECT_EQ(ComputeOks(MakeOksGroundTruth(gt), gt.keypoints, variances, scratch.data()), 1.0);
}

TEST(ComputeOksTest, AveragesOnlyLabelledKeypoints) {
  const std::vector<double> variances = OksVariances(std::vector<double>{0.05, 0.1});
  PersonAnnotation gt = Person({{10, 20, 2}, {30, 40, 0}}, 100, {0, 0, 10, 10});
  Pose detection = {{13, 24, 1}, {500, 500, 1}};
  std::vector<double> scratch(2);
  const double e = (9.0 + 16.0) / variances[0] / (100 + 2.220446049250313e-16) / 2;
  EXPECT_EQ(ComputeOks(MakeOksGroundTruth(gt), detection, variances, scratch.data()),
            std::exp(-e));
}

TEST(ComputeOksTest, UnlabelledGroundTruthMeasuresToEnlargedBox) {
  const std::vector<double> variances = OksVariances(std::vector<double>{0.05, 0.1});
  // Box [10, 10, 10, 10] grows to [0, 30] x [0, 30].
  PersonAnnotation gt = Person({{0, 0, 0}, {0, 0, 0}}, 50, {10, 10, 10, 10});
  Pose detection = {{5, 5, 1}, {33, -4, 1}};
  std::vector<double> scratch(2);
  const double e1 = 0.0;
  const double e2 = (9.0 + 16.0) / variances[1] / (50 + 2.220446049250313e-16) / 2;
  EXPECT_EQ(ComputeOks(MakeOksGroundTruth(gt), detection, variances, scratch.data()),
            (std::exp(-e1) + std::exp(-e2)) / 2);
}

TEST(ComputeOksMatrixTest, RowMajorDetectionsByGroundTruths) {
  const std::vector<double> variances = OksVariances(std::vector<double>{0.05});
  std::vector<OksGroundTruth> gts = {
      MakeOksGroundTruth(Person({{0, 0, 2}}, 100, {})),
      MakeOksGroundTruth(Person({{10, 0, 2}}, 100, {}))};
  Pose a = {{0, 0, 1}};
  Pose b = {{10, 0, 1}};
  std::vector<const Pose*> dts = {&a, &b};
  std::vector<double> matrix = ComputeOksMatrix(gts, dts, variances);
  ASSERT_EQ(matrix.size(), 4u);
  EXPECT_EQ(matrix[0], 1.0);
  EXPECT_EQ(matrix[3], 1.0);
  EXPECT_LT(matrix[1], 1.0);
  EXPECT_EQ(matrix[1], matrix[2]);
}

TEST(OksUpperBoundTest, IsAtLeastTheOksAndTightNearOne) {
  const std::vector<double> variances = OksVariances(CocoSchema());
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> unit(0, 1);
  std::vector<double> scratch(17);
  int far_pairs = 0, ruled_out = 0, stopped_early = 0;
  for (int trial = 0; trial < 20000; ++trial) {
    std::vector<Keypoint> points;
    const double size = 5 + 300 * unit(rng);
    // Every fourth person has no keypoint labelled (distances to its box).
    const bool labelled = trial % 4 != 0;
    for (int j = 0; j < 17; ++j) {
      points.push_back({size * unit(rng), size * unit(rng), labelled && unit(rng) < 0.8 ? 2. : 0.});
    }
    if (labelled) points[0].v = 2;
    const PersonAnnotation gt = Person(points, size * size * unit(rng), {0, 0, size, size});
    // Detections from the ground truth itself to far away.
    const double spread = size * std::pow(10, 3 * unit(rng) - 3);
    Pose detection;
    for (const Keypoint& k : points) {
      detection.push_back({k.x + spread * (unit(rng) - 0.5), k.y + spread * (unit(rng) - 0.5), 1});
    }
    const OksGroundTruth oks_gt = MakeOksGroundTruth(gt);
    const double oks = ComputeOks(oks_gt, detection, variances, scratch.data());
    const double bound = OksUpperBound(oks_gt, detection, InverseVariances(variances));
    // Within rounding of the OKS or above it, and within e^(1/4) of it.
    ASSERT_GE(bound, oks * (1 - 1e-14)) << "trial " << trial;
    ASSERT_LE(bound, oks * std::exp(0.25) + 1e-6) << "trial " << trial;
    // Stopped early: looser, but below 0.5 exactly when the whole sum is.
    const double stopped = OksUpperBound(oks_gt, detection, InverseVariances(variances), 0.5);
    ASSERT_GE(stopped, bound * (1 - 1e-14)) << "trial " << trial;
    ASSERT_EQ(stopped < 0.5, bound < 0.5) << "trial " << trial;
    if (oks < 0.1) {
      ++far_pairs;
      ruled_out += bound < 0.5;
      stopped_early += stopped > bound;
    }
  }
  // The bound rules out (below the lowest COCO threshold) nearly every pair
  // far from the ground truth.
  ASSERT_GT(far_pairs, 500);
  EXPECT_GT(ruled_out, 0.9 * far_pairs) << ruled_out << " of " << far_pairs;
  // ... most of them before the last keypoint.
  EXPECT_GT(stopped_early, 0.5 * far_pairs) << stopped_early << " of " << far_pairs;
  // No bound for a negative area (its similarities exceed 1).
  const PersonAnnotation negative = Person({{10, 20, 2}}, -100, {0, 0, 10, 10});
  EXPECT_EQ(OksUpperBound(MakeOksGroundTruth(negative), {{50, 20, 1}},
                          InverseVariances(OksVariances(std::vector<double>{0.05}))),
            std::numeric_limits<double>::infinity());
  const PersonAnnotation gt = Person({{10, 20, 2}, {30, 40, 1}}, 100, {0, 0, 10, 10});
  EXPECT_EQ(OksUpperBound(MakeOksGroundTruth(gt), gt.keypoints,
                          InverseVariances(OksVariances(std::vector<double>{0.05, 0.1}))),
            std::nextafter(1.0, 2.0));
}

}  // namespace
}  // namespace posefix
