#include "posefix/eval/evaluate.h"

#include <string>

#include "gtest/gtest.h"

namespace posefix {
namespace {

constexpr char kGt[] = "testdata/golden/mmpose_coco4/gt.json";
constexpr char kDt[] = "testdata/golden/mmpose_coco4/dt.json";

TEST(RunEvaluationTest, FillsEveryRequestedPart) {
  EvaluateRequest request;
  request.ground_truth_file = kGt;
  request.results_file = kDt;
  request.analyze = true;
  request.baseline_results_file = kDt;
  absl::StatusOr<EvaluationMetrics> metrics = RunEvaluation(request);
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  EXPECT_EQ(metrics->stats().ap(), 0.8608896054440609);
  EXPECT_EQ(metrics->stats().ar_large(), 0.9428571428571428);
  EXPECT_EQ(metrics->num_images(), 4);
  EXPECT_EQ(metrics->num_results(), 73);
  ASSERT_EQ(metrics->error_analysis().area_ranges_size(), 3);
  EXPECT_EQ(metrics->error_analysis().area_ranges(0).total().good(), 160);
  // The same file as baseline: every pair has equal OKS.
  ASSERT_GT(metrics->oks_change().pairs_size(), 0);
  for (const OksChangePair& pair : metrics->oks_change().pairs()) {
    EXPECT_EQ(pair.oks_before(), pair.oks_after());
  }
  const std::string report = FormatEvaluationReport(*metrics);
  EXPECT_EQ(report.find(" Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets= 20 ]"
                        " = 0.861\n"),
            0u)
      << report;
  EXPECT_NE(report.find("Keypoint errors"), std::string::npos);
  EXPECT_NE(report.find("OKS change"), std::string::npos);
}

TEST(RunEvaluationTest, BadFilesGiveErrorsNamingThem) {
  EvaluateRequest request;
  request.ground_truth_file = "testdata/missing.json";
  request.results_file = kDt;
  absl::StatusOr<EvaluationMetrics> metrics = RunEvaluation(request);
  ASSERT_FALSE(metrics.ok());
  EXPECT_NE(metrics.status().message().find("testdata/missing.json"), std::string::npos);

  // Ground truth given as results: not a JSON array.
  request.ground_truth_file = kGt;
  request.results_file = kGt;
  metrics = RunEvaluation(request);
  ASSERT_FALSE(metrics.ok());
  EXPECT_NE(metrics.status().message().find(kGt), std::string::npos) << metrics.status();
}

}  // namespace
}  // namespace posefix
