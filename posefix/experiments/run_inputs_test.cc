#include "posefix/experiments/run_inputs.h"

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "posefix/core/coco_io.h"
#include "posefix/core/file_util.h"
#include "posefix/core/test_util.h"

namespace posefix {
namespace {

using ::testing::HasSubstr;

const std::string kSmokeBase = "posefix/experiments/specs/smoke/smoke_base.pbtxt";
const std::string kEvalAnnotations =
    "testdata/coco/annotations/person_keypoints_val2017_fixture_eval.json";
const std::string kTrainAnnotations =
    "testdata/coco/annotations/person_keypoints_val2017_fixture_train.json";
const std::string kEvalResults =
    "testdata/results/movenet_thunder_topdown_APH56dets_fixture_eval_results.json";
const std::string kAllResults =
    "testdata/results/movenet_thunder_topdown_APH56dets_fixture_results.json";

std::string TestPath(const std::string& name) { return JoinPath(std::getenv("TEST_TMPDIR"), name); }

// The plan of a spec over the smoke suite's base, its run directory created
// in a fresh output folder named after the spec.
RunPlan PlanOf(const std::string& name, const std::string& text) {
  const std::string path = TestPath(name + ".pbtxt");
  const std::string base = std::filesystem::absolute(kSmokeBase).string();
  EXPECT_TRUE(WriteFileAtomically(path, "base: \"" + base + "\"\n" + text).ok());
  const std::string out = TestPath(name + "_runs");
  std::filesystem::remove_all(out);
  RunPlan plan = OrFail(MakePlan(path, out, ""));
  std::filesystem::create_directories(plan.run_dir);
  return plan;
}

std::vector<KeypointResult> ReadResults(const std::string& path) {
  return OrFail(ReadCocoResults(path));
}

TEST(RunInputsTest, AMissingFileNamesTheSpecAndTheField) {
  const RunPlan plan = PlanOf("missing", "dataset { input_results: \"nowhere.json\" }");
  EXPECT_THAT(CheckRunInputs(plan).message(),
              HasSubstr("missing.pbtxt: dataset.input_results: nowhere.json: no such file"));
}

TEST(RunInputsTest, ARunThatOnlyRefinesNeedsNoTrainingFiles) {
  const RunPlan plan = PlanOf("refines", "checkpoint: \"" + kEvalAnnotations +
                                             "\"\n"
                                             "clear_fields: \"init_weights\"\n"
                                             "dataset { train_annotations: \"nowhere.json\" }");
  EXPECT_TRUE(CheckRunInputs(plan).ok());
  const RunPlan trains = PlanOf("trains", "dataset { train_annotations: \"nowhere.json\" }");
  EXPECT_THAT(CheckRunInputs(trains).message(),
              HasSubstr("trains.pbtxt: dataset.train_annotations: nowhere.json"));
}

TEST(RunInputsTest, MalformedResultsFailBeforeAnythingRuns) {
  const std::string malformed = TestPath("malformed.json");
  ASSERT_TRUE(WriteFileAtomically(malformed, R"([{"image_id": 785, "category_id": 1,
      "keypoints": [1, 2, 1], "score": 1}])")
                  .ok());
  const RunPlan plan = PlanOf("malformed", "dataset { input_results: \"" + malformed + "\" }");
  ASSERT_TRUE(CheckRunInputs(plan).ok());
  absl::flat_hash_set<std::string> checked;
  EXPECT_THAT(CheckRunInputContents(plan, checked).message(),
              HasSubstr("malformed.pbtxt: dataset.input_results: " + malformed + ": [0]."));
  // Results on images outside the evaluation set are an error unless asked.
  const RunPlan beyond = PlanOf("beyond", "dataset { input_results: \"" + kAllResults + "\" }");
  checked.clear();
  EXPECT_THAT(CheckRunInputContents(beyond, checked).message(),
              HasSubstr("beyond.pbtxt: dataset.input_results: "));
}

TEST(RunInputsTest, TheSpecsTrainingFilesAreUsedAsTheyAre) {
  const RunPlan plan = PlanOf("plain", "");
  const TrainingFiles files = OrFail(TrainingSet(plan));
  EXPECT_EQ(files.annotations, kTrainAnnotations);
  EXPECT_EQ(files.images, "testdata/coco/val2017");
  EXPECT_FALSE(PathExists(JoinPath(plan.run_dir, "train_annotations.json")));
}

TEST(RunInputsTest, MergedTrainingSetLeavesOutTheExcludedImages) {
  const RunPlan plan = PlanOf("merged",
                              "dataset {\n"
                              "  extra_train { annotations: \"" +
                                  kEvalAnnotations +
                                  "\" images: \"testdata/coco/val2017\" }\n"
                                  "  exclude_from_training: \"" +
                                  kEvalAnnotations + "\"\n}");
  const TrainingFiles files = OrFail(TrainingSet(plan));
  EXPECT_EQ(files.annotations, JoinPath(plan.run_dir, "train_annotations.json"));
  EXPECT_EQ(files.images, "/");
  const CocoDataset merged = OrFail(ReadCocoDataset(files.annotations));
  const CocoDataset train = OrFail(ReadCocoDataset(kTrainAnnotations));
  ASSERT_EQ(merged.images.size(), train.images.size());
  EXPECT_EQ(merged.annotations.size(), train.annotations.size());
  for (size_t i = 0; i < merged.images.size(); ++i) {
    EXPECT_EQ(merged.images[i].id, train.images[i].id);
    EXPECT_EQ(merged.images[i].file_name,
              std::filesystem::absolute("testdata/coco/val2017").string() + "/" +
                  train.images[i].file_name);
  }
}

TEST(RunInputsTest, AnImageInTwoTrainingSourcesIsAnError) {
  const RunPlan plan =
      PlanOf("twice", "dataset { extra_train { annotations: \"" + kTrainAnnotations +
                          "\" images: \"testdata/coco/val2017\" } }");
  EXPECT_THAT(TrainingSet(plan).status().message(), HasSubstr(kTrainAnnotations + ": images[id "));
  EXPECT_FALSE(PathExists(JoinPath(plan.run_dir, "train_annotations.json")));
}

TEST(RunInputsTest, InputPosesAreCutToTheEvaluationImages) {
  const RunPlan given = PlanOf("given", "");
  EXPECT_EQ(OrFail(InputPoses(given)), kEvalResults);

  const RunPlan plan = PlanOf("cut", "dataset { input_results: \"" + kAllResults +
                                         "\" input_results_beyond_eval_images: true }");
  const std::string path = OrFail(InputPoses(plan));
  EXPECT_EQ(path, JoinPath(plan.run_dir, "input_results.json"));
  EXPECT_EQ(CocoResultsToJson(ReadResults(path)), CocoResultsToJson(ReadResults(kEvalResults)));
}

TEST(RunInputsTest, SynthesizedInputPosesAreWrittenOnce) {
  const RunPlan plan = PlanOf("synthesized",
                              "clear_fields: \"dataset.input_results\"\n"
                              "dataset { synthesize_input_seed: 5 }");
  const std::string path = OrFail(InputPoses(plan));
  EXPECT_EQ(path, JoinPath(plan.run_dir, "input_results.json"));
  const std::vector<KeypointResult> poses = ReadResults(path);
  const CocoDataset eval = OrFail(ReadCocoDataset(kEvalAnnotations));
  // One pose per non-crowd person.
  int people = 0;
  for (const PersonAnnotation& person : eval.annotations) people += !person.iscrowd;
  EXPECT_EQ(static_cast<int>(poses.size()), people);
  const auto written = std::filesystem::last_write_time(path);
  EXPECT_EQ(OrFail(InputPoses(plan)), path);
  EXPECT_EQ(std::filesystem::last_write_time(path), written);
}

}  // namespace
}  // namespace posefix
