#include "posefix/experiments/run_plan.h"

#include <cstdlib>
#include <filesystem>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "posefix/core/file_util.h"
#include "posefix/core/test_util.h"
#include "posefix/eval/oks_nms.h"
#include "posefix/experiments/experiment_spec.h"

namespace posefix {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::string kSmoke = "posefix/experiments/specs/smoke/";

// Writes a spec over the smoke suite's base into the test's folder.
std::string WriteSpec(const std::string& name, const std::string& text) {
  const std::string path = JoinPath(std::getenv("TEST_TMPDIR"), name);
  const std::string base = std::filesystem::absolute(kSmoke + "smoke_base.pbtxt").string();
  EXPECT_TRUE(WriteFileAtomically(path, "base: \"" + base + "\"\n" + text).ok());
  return path;
}

TEST(RunPlanTest, ATrainingRunStatesEveryOptionItUses) {
  const RunPlan plan = OrFail(MakePlan(kSmoke + "c2f.pbtxt", "/runs", ""));
  EXPECT_EQ(plan.run_id, RunId(plan.spec));
  EXPECT_EQ(plan.run_dir, "/runs/" + plan.run_id);
  const ResolvedRunOptions& options = plan.options;
  EXPECT_EQ(options.schema().keypoint_names_size(), 17);

  const ModelOptions& model = options.model();
  EXPECT_EQ(model.backbone(), BACKBONE_EFFICIENTNET_LITE0);
  EXPECT_EQ(model.input_height(), 96);
  EXPECT_EQ(model.input_width(), 64);
  EXPECT_EQ(model.num_keypoints(), 17);
  EXPECT_EQ(model.input_encoding(), POSE_INPUT_COARSE);
  EXPECT_EQ(model.output_encoding(), POSE_OUTPUT_INTEGRAL);
  EXPECT_TRUE(model.has_use_heatmap_loss() && model.use_heatmap_loss());
  EXPECT_EQ(model.pixel_normalization().channel_order(), CHANNEL_ORDER_RGB);
  EXPECT_THAT(model.pixel_normalization().mean(), ElementsAre(127, 127, 127));

  const TrainingOptions& training = options.training();
  EXPECT_EQ(training.mode(), MODEL_AGNOSTIC);
  EXPECT_EQ(training.epochs(), 1);
  EXPECT_EQ(training.max_steps_per_epoch(), 2);
  EXPECT_EQ(training.batch_size(), 8);
  EXPECT_THAT(training.lr_milestones(), ElementsAre(90, 120));
  EXPECT_DOUBLE_EQ(training.lr_factor(), 0.1);
  EXPECT_EQ(training.num_threads(), 2);

  EXPECT_EQ(options.data().input_height(), 96);
  EXPECT_EQ(options.data().input_width(), 64);
  EXPECT_FLOAT_EQ(options.data().flip_probability(), 0.5);
  EXPECT_TRUE(options.error_model().has_good_ks());
  EXPECT_DOUBLE_EQ(options.error_model().good_ks(), 0.85);
  EXPECT_GT(options.error_model().jitter().groups_size(), 0);

  // Declared defaults are stated, so that the record needs no reader of
  // experiment.proto.
  EXPECT_TRUE(training.has_weight_decay());
  EXPECT_TRUE(options.data().has_box_scale());

  EXPECT_EQ(options.device(), "cpu");
  EXPECT_TRUE(options.evaluation().has_flip_test() && options.evaluation().flip_test());
  EXPECT_EQ(options.evaluation().batch_size(), 32);
  EXPECT_TRUE(options.evaluation().has_oks_nms() && !options.evaluation().oks_nms());
  EXPECT_TRUE(options.evaluation().has_oks_nms_threshold());
  // The spec's default is the OKS-NMS library's.
  EXPECT_DOUBLE_EQ(options.evaluation().oks_nms_threshold(), OksNmsOptions().threshold);
  EXPECT_TRUE(options.evaluation().has_policy());
  EXPECT_EQ(options.evaluation().policy(), REFINE_ALL);
  // Known only once the dependencies ran.
  EXPECT_EQ(options.checkpoint(), "");
}

TEST(RunPlanTest, ARunThatOnlyRefinesRecordsNoTraining) {
  const RunPlan plan = OrFail(MakePlan(kSmoke + "table2_movenet_lightning.pbtxt", "/runs", ""));
  EXPECT_FALSE(plan.options.has_model());
  EXPECT_FALSE(plan.options.has_training());
  EXPECT_FALSE(plan.options.has_data());
  EXPECT_FALSE(plan.options.has_error_model());
  EXPECT_EQ(plan.options.device(), "cpu");
  EXPECT_EQ(plan.options.evaluation().num_threads(), 2);
}

TEST(RunPlanTest, AnEstimatorTakesNoPose) {
  const RunPlan plan = OrFail(MakePlan(kSmoke + "integral_pose.pbtxt", "/runs", ""));
  EXPECT_EQ(plan.options.training().mode(), ESTIMATOR);
  EXPECT_EQ(plan.options.model().input_encoding(), POSE_INPUT_NONE);
}

TEST(RunPlanTest, AStatusHeadsThresholdIsLeftToTheTraining) {
  const RunPlan plan = OrFail(
      MakePlan(WriteSpec("status.pbtxt", "model { status_head { enabled: true } }"), "/runs", ""));
  const StatusHeadOptions& status_head = plan.options.model().status_head();
  EXPECT_TRUE(status_head.enabled());
  EXPECT_FLOAT_EQ(status_head.loss_weight(), 1);
  EXPECT_FALSE(status_head.has_keep_threshold());
}

TEST(RunPlanTest, TheSpecsDataRootWins) {
  const RunPlan own = OrFail(MakePlan(WriteSpec("root.pbtxt", "data_root: \"/data\""), "/r", "/x"));
  EXPECT_EQ(own.data_root, "/data");
  EXPECT_EQ(DataPath(own, "a/b.json"), "/data/a/b.json");
  EXPECT_EQ(DataPath(own, "/abs/b.json"), "/abs/b.json");
  const RunPlan given = OrFail(MakePlan(kSmoke + "c2f.pbtxt", "/r", "/x"));
  EXPECT_EQ(given.data_root, "/x");
}

TEST(RunPlanTest, ErrorsNameTheSpecAndTheField) {
  const std::string bad = WriteSpec("bad_depth.pbtxt", "model { resnet_depth: 3 }");
  EXPECT_THAT(MakePlan(bad, "/runs", "").status().message(),
              HasSubstr("bad_depth.pbtxt: model: resnet_depth"));
  const std::string schema = WriteSpec("bad_schema.pbtxt", "dataset { schema: \"nowhere.pbtxt\" }");
  const std::string message(MakePlan(schema, "/runs", "").status().message());
  EXPECT_THAT(message, HasSubstr("nowhere.pbtxt"));
  EXPECT_THAT(message, HasSubstr("bad_schema.pbtxt"));
  EXPECT_THAT(message, HasSubstr("dataset.schema"));
}

}  // namespace
}  // namespace posefix
