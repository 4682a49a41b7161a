#include "posefix/eval/coco_eval.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "posefix/core/coco_io.h"
#include "posefix/core/file_util.h"
#include "posefix/core/keypoint_schema.h"
#include "posefix/eval/eval_io.h"
#include "rapidjson/document.h"

namespace posefix {
namespace {

constexpr char kGoldenDir[] = "testdata/";
constexpr char kExpectedStats[] = "testdata/golden/expected_stats.json";

CocoEvalParams CocoParams() {
  CocoEvalParams params;
  params.variances = OksVariances(CocoSchema());
  return params;
}

TEST(CocoThresholdsTest, MatchNumpyLinspace) {
  const std::vector<double> oks = CocoOksThresholds();
  ASSERT_EQ(oks.size(), 10u);
  EXPECT_EQ(oks[0], 0.5);
  EXPECT_EQ(oks[5], 0.75);
  EXPECT_EQ(oks[8], 0.8999999999999999);
  EXPECT_EQ(oks[9], 0.95);
  const std::vector<double> recalls = CocoRecallThresholds();
  ASSERT_EQ(recalls.size(), 101u);
  for (int i = 0; i < 101; ++i) EXPECT_EQ(recalls[i], i * 0.01) << i;
}

struct GoldenCase {
  std::string name, gt, dt;
  std::vector<double> stats;
};

std::vector<GoldenCase> ReadGoldenCases() {
  // A missing or unreadable file fails the test (no cases) rather than
  // crashing it.
  absl::StatusOr<std::string> text = ReadFileToString(kExpectedStats);
  if (!text.ok()) {
    ADD_FAILURE() << text.status();
    return {};
  }
  rapidjson::Document document;
  document.Parse<rapidjson::kParseFullPrecisionFlag>(text->c_str());
  if (document.HasParseError() || !document.IsObject() || !document.HasMember("cases") ||
      !document["cases"].IsArray()) {
    ADD_FAILURE() << kExpectedStats << ": not an object with a \"cases\" array";
    return {};
  }
  std::vector<GoldenCase> cases;
  for (const rapidjson::Value& entry : document["cases"].GetArray()) {
    GoldenCase golden;
    golden.name = entry["name"].GetString();
    golden.gt = absl::StrCat(kGoldenDir, entry["gt"].GetString());
    golden.dt = absl::StrCat(kGoldenDir, entry["dt"].GetString());
    for (const rapidjson::Value& value : entry["stats"].GetArray()) {
      golden.stats.push_back(value.GetDouble());
    }
    cases.push_back(golden);
  }
  return cases;
}

TEST(CocoEvalGoldenTest, ReproducesPycocotoolsOnEveryGoldenCase) {
  const std::vector<GoldenCase> cases = ReadGoldenCases();
  ASSERT_EQ(cases.size(), 4u);
  for (const GoldenCase& golden : cases) {
    SCOPED_TRACE(golden.name);
    absl::StatusOr<CocoDataset> gt = ReadEvalGroundTruth(golden.gt, 17);
    ASSERT_TRUE(gt.ok()) << gt.status();
    absl::StatusOr<EvalResults> dt = ReadEvalResults(golden.dt, *gt, 17);
    ASSERT_TRUE(dt.ok()) << dt.status();
    for (int threads : {1, 2}) {
      absl::StatusOr<CocoSummaryStats> stats =
          EvaluateKeypoints(*gt, dt->results, CocoParams(), dt->areas, threads);
      ASSERT_TRUE(stats.ok()) << stats.status();
      ASSERT_EQ(golden.stats.size(), 10u);
      for (int i = 0; i < 10; ++i) {
        EXPECT_NEAR(stats->values[i], golden.stats[i], 1e-12)
            << CocoKeypointStatNames()[i] << " threads " << threads;
      }
    }
  }
}

TEST(CocoEvalTest, SummaryUsesPycocotoolsLayout) {
  CocoSummaryStats stats;
  stats.values.fill(0.5);
  stats.values[0] = 0.8608896054440609;
  const std::string summary = FormatCocoSummary(stats);
  EXPECT_EQ(summary.substr(0, summary.find('\n')),
            " Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets= 20 ] = 0.861");
  EXPECT_NE(summary.find(" Average Recall     (AR) @[ IoU=0.50:0.95 | area= large | maxDets= "
                         "20 ] = 0.500\n"),
            std::string::npos)
      << summary;
}

CocoDataset OnePersonDataset() {
  CocoDataset dataset;
  dataset.images.push_back({1, "a.jpg", 640, 480, {}});
  dataset.categories.push_back({1, "person", {}, {}});
  PersonAnnotation person;
  person.id = 1;
  person.image_id = 1;
  person.keypoints.assign(17, Keypoint{});
  for (int j = 0; j < 17; ++j) person.keypoints[j] = {100.0 + 5 * j, 50.0 + 10 * j, 2};
  person.num_keypoints = 17;
  person.bbox = {100, 50, 80, 160};
  person.area = 80 * 160;
  dataset.annotations.push_back(person);
  return dataset;
}

TEST(CocoEvalTest, PerfectDetectionScoresOne) {
  const CocoDataset gt = OnePersonDataset();
  KeypointResult result;
  result.image_id = 1;
  result.keypoints = gt.annotations[0].keypoints;
  result.score = 0.9;
  absl::StatusOr<CocoSummaryStats> stats = EvaluateKeypoints(gt, {result}, CocoParams());
  ASSERT_TRUE(stats.ok()) << stats.status();
  // Precision is tp / (tp + fp + eps), as in pycocotools.
  const double precision = 1.0 / (1.0 + 2.220446049250313e-16);
  EXPECT_EQ(stats->values[0], precision);
  EXPECT_EQ(stats->values[3], -1.0);  // no medium person
  EXPECT_EQ(stats->values[4], precision);
  EXPECT_EQ(stats->values[5], 1.0);
}

TEST(CocoEvalTest, RejectsUnknownImageAndWrongKeypointCount) {
  const CocoDataset gt = OnePersonDataset();
  KeypointResult result;
  result.image_id = 7;
  result.keypoints.assign(17, Keypoint{});
  absl::StatusOr<CocoSummaryStats> stats = EvaluateKeypoints(gt, {result}, CocoParams());
  ASSERT_FALSE(stats.ok());
  EXPECT_NE(stats.status().message().find("[0].image_id"), std::string::npos);
  result.image_id = 1;
  result.keypoints.resize(5);
  stats = EvaluateKeypoints(gt, {result}, CocoParams());
  ASSERT_FALSE(stats.ok());
  EXPECT_NE(stats.status().message().find("[0].keypoints"), std::string::npos);
}

TEST(CocoEvalTest, ValidatesParams) {
  CocoEvalParams params;
  EXPECT_FALSE(ValidateCocoEvalParams(params).ok());
  params = CocoParams();
  params.max_dets = 0;
  const absl::Status status = ValidateCocoEvalParams(params);
  EXPECT_NE(status.message().find("max_dets"), std::string::npos) << status;
  params = CocoParams();
  std::swap(params.recall_thresholds[3], params.recall_thresholds[4]);
  const absl::Status unordered = ValidateCocoEvalParams(params);
  EXPECT_NE(unordered.message().find("recall_thresholds"), std::string::npos) << unordered;
}

}  // namespace
}  // namespace posefix
