#include "posefix/eval/coco_eval.h"

#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "posefix/core/coco_io.h"
#include "posefix/core/file_util.h"
#include "posefix/core/keypoint_schema.h"
#include "posefix/core/test_util.h"
#include "posefix/eval/eval_io.h"
#include "posefix/eval/oks.h"
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
  absl::StatusOr<CocoSummaryStats> stats =
      EvaluateKeypoints(gt, ResultColumns({result}), CocoParams());
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
  absl::StatusOr<CocoSummaryStats> stats =
      EvaluateKeypoints(gt, ResultColumns({result}), CocoParams());
  ASSERT_FALSE(stats.ok());
  EXPECT_NE(stats.status().message().find("[0].image_id"), std::string::npos);
  result.image_id = 1;
  result.keypoints.resize(5);
  stats = EvaluateKeypoints(gt, ResultColumns({result}), CocoParams());
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

// Pairs ruled out by OksUpperBound keep a bound instead of their OKS: the
// matches at every threshold and area are those of the exact OKS matrix,
// on people crowded enough that many OKS fall near the thresholds.
TEST(CocoEvalTest, BoundedPairsMatchAsTheExactOks) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> unit(0, 1);
  std::normal_distribution<double> normal(0, 1);
  CocoDataset gt;
  gt.categories.push_back({1, "person", {}, {}});
  std::vector<KeypointResult> results;
  for (int64_t image = 1; image <= 200; ++image) {
    gt.images.push_back({image, "x.jpg", 640, 480, {}});
    for (int p = 0; p < 3; ++p) {
      PersonAnnotation person;
      person.id = static_cast<int64_t>(gt.annotations.size()) + 1;
      person.image_id = image;
      person.category_id = 1;
      const double size = 20 + 150 * unit(rng), x = 200 * unit(rng), y = 200 * unit(rng);
      person.bbox = {x, y, size, size * 2};
      person.area = size * size;
      for (int j = 0; j < 17; ++j) {
        const bool labelled = p == 2 ? false : unit(rng) < 0.8;
        person.keypoints.push_back(
            {x + size * unit(rng), y + 2 * size * unit(rng), labelled ? 2.0 : 0.0});
        person.num_keypoints += labelled;
      }
      gt.annotations.push_back(person);
      for (int copy = 0; copy < 5; ++copy) {
        KeypointResult result;
        result.image_id = image;
        result.category_id = 1;
        result.score = unit(rng);
        const double noise = 0.02 * size * (1 << copy);
        for (const Keypoint& k : person.keypoints) {
          result.keypoints.push_back({k.x + noise * normal(rng), k.y + noise * normal(rng), 1});
        }
        results.push_back(std::move(result));
      }
    }
  }
  const CocoEvalParams params = CocoParams();
  absl::StatusOr<std::vector<EvalCell>> cells =
      PrepareEvalCells(gt, ResultColumns(results), params);
  ASSERT_TRUE(cells.ok()) << cells.status();
  int bounded = 0;
  for (const EvalCell& cell : *cells) {
    std::vector<const Pose*> poses;
    for (int r : cell.dts) poses.push_back(&results[r].keypoints);
    EvalCell exact = cell;
    exact.oks = ComputeOksMatrix(cell.oks_gts, poses, params.variances);
    for (size_t i = 0; i < cell.oks.size(); ++i) {
      if (cell.oks[i] == exact.oks[i]) continue;
      ++bounded;
      EXPECT_LT(exact.oks[i], 0.5);
      EXPECT_LT(cell.oks[i], 0.5);
      EXPECT_GE(cell.oks[i], exact.oks[i]);
    }
    for (const AreaRange& area : params.area_ranges) {
      const CellMatches got = MatchCell(cell, area, params.oks_thresholds);
      const CellMatches want = MatchCell(exact, area, params.oks_thresholds);
      EXPECT_EQ(got.dt_match, want.dt_match) << cell.image_id << " " << area.label;
      EXPECT_EQ(got.dt_ignore, want.dt_ignore) << cell.image_id << " " << area.label;
      EXPECT_EQ(got.num_counted_gts, want.num_counted_gts);
    }
  }
  EXPECT_GT(bounded, 1000);
}

}  // namespace
}  // namespace posefix
