#include "posefix/experiments/spec_options.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "posefix/core/test_util.h"
#include "posefix/core/text_proto.h"

namespace posefix {
namespace {

using ::testing::HasSubstr;

ExperimentSpec Spec(const std::string& text) {
  ExperimentSpec spec;
  EXPECT_TRUE(ParseTextProto("spec.pbtxt", text, &spec).ok()) << text;
  return spec;
}

void ExpectSameNetwork(const ResolvedModelOptions& a, const ResolvedModelOptions& b) {
  EXPECT_EQ(a.backbone, b.backbone);
  EXPECT_EQ(a.resnet_depth, b.resnet_depth);
  EXPECT_EQ(a.input_height, b.input_height);
  EXPECT_EQ(a.input_width, b.input_width);
  EXPECT_EQ(a.num_keypoints, b.num_keypoints);
  EXPECT_EQ(a.input_encoding, b.input_encoding);
  EXPECT_EQ(a.output_encoding, b.output_encoding);
  EXPECT_EQ(a.use_heatmap_loss, b.use_heatmap_loss);
  EXPECT_EQ(a.use_coordinate_loss, b.use_coordinate_loss);
  EXPECT_FLOAT_EQ(a.input_sigma, b.input_sigma);
  EXPECT_FLOAT_EQ(a.output_sigma, b.output_sigma);
  EXPECT_FLOAT_EQ(a.input_heatmap_scale, b.input_heatmap_scale);
  EXPECT_EQ(a.channel_order, b.channel_order);
  for (int c = 0; c < 3; ++c) {
    EXPECT_FLOAT_EQ(a.pixel_mean[c], b.pixel_mean[c]);
    EXPECT_FLOAT_EQ(a.pixel_std[c], b.pixel_std[c]);
  }
  EXPECT_EQ(a.status_head, b.status_head);
  EXPECT_FLOAT_EQ(a.status_loss_weight, b.status_loss_weight);
  EXPECT_FLOAT_EQ(a.keep_threshold, b.keep_threshold);
  EXPECT_EQ(a.head_channels, b.head_channels);
  EXPECT_EQ(a.loss_normalization, b.loss_normalization);
  EXPECT_EQ(a.initialization, b.initialization);
}

TEST(SpecOptionsTest, RecordedModelOptionsResolveToTheSameNetwork) {
  for (const std::string text : {
           "",
           "backbone: BACKBONE_EFFICIENTNET_LITE0 input_height: 96 input_width: 64",
           "output_encoding: POSE_OUTPUT_GAUSSIAN resnet_depth: 18",
           "use_heatmap_loss: false input_encoding: POSE_INPUT_FINE",
           "input_encoding: POSE_INPUT_NONE",
           "status_head { enabled: true keep_threshold: 0.7 } loss_normalization: LOSS_PER_ENTRY",
           "pixel_normalization { channel_order: CHANNEL_ORDER_RGB mean: [1, 2, 3] std: [4, 5, 6] "
           "}",
       }) {
    SCOPED_TRACE(text);
    ModelOptions options;
    ASSERT_TRUE(ParseTextProto("model", text, &options).ok());
    const ResolvedModelOptions resolved = OrFail(ResolveModelOptions(options));
    const ModelOptions recorded = ModelOptionsOf(resolved);
    // Every value is stated, none left to a default.
    EXPECT_NE(recorded.input_height(), 0);
    EXPECT_NE(recorded.num_keypoints(), 0);
    EXPECT_NE(recorded.input_encoding(), POSE_INPUT_ENCODING_UNSPECIFIED);
    EXPECT_NE(recorded.output_encoding(), POSE_OUTPUT_ENCODING_UNSPECIFIED);
    EXPECT_GT(recorded.input_sigma(), 0);
    EXPECT_EQ(recorded.pixel_normalization().mean_size(), 3);
    ExpectSameNetwork(OrFail(ResolveModelOptions(recorded)), resolved);
  }
}

TEST(SpecOptionsTest, AnEstimatorsUnsetInputEncodingIsNoPose) {
  const ExperimentSpec estimator = Spec("training { mode: ESTIMATOR }");
  EXPECT_FALSE(OrFail(ResolveSpecModelOptions(estimator, 17, "spec.pbtxt")).has_pose_input());
  const ExperimentSpec refiner = Spec("training { mode: MODEL_AGNOSTIC }");
  EXPECT_EQ(OrFail(ResolveSpecModelOptions(refiner, 17, "spec.pbtxt")).input_encoding,
            POSE_INPUT_COARSE);
}

TEST(SpecOptionsTest, UnsetKeypointCountIsTheSchemas) {
  EXPECT_EQ(OrFail(ResolveSpecModelOptions(Spec(""), 14, "spec.pbtxt")).num_keypoints, 14);
  EXPECT_EQ(OrFail(ResolveSpecModelOptions(Spec(""), 0, "spec.pbtxt")).num_keypoints, 17);
  const ExperimentSpec explicit_count = Spec("model { num_keypoints: 16 }");
  EXPECT_EQ(OrFail(ResolveSpecModelOptions(explicit_count, 14, "spec.pbtxt")).num_keypoints, 16);
  EXPECT_THAT(ResolveSpecModelOptions(Spec("model { resnet_depth: 3 }"), 17, "spec.pbtxt")
                  .status()
                  .message(),
              HasSubstr("spec.pbtxt: model: resnet_depth"));
}

TEST(SpecOptionsTest, DataCropsAtTheModelsSizeWithDefaults) {
  const ExperimentSpec spec = Spec(
      "model { input_height: 96 input_width: 64 } data { flip_probability: 0.25 num_threads: 3 }");
  const ResolvedModelOptions model = OrFail(ResolveSpecModelOptions(spec, 17, "spec.pbtxt"));
  const DataOptions data = OrFail(ResolveSpecDataOptions(spec, model, "spec.pbtxt"));
  EXPECT_EQ(data.input_height(), 96);
  EXPECT_EQ(data.input_width(), 64);
  EXPECT_FLOAT_EQ(data.flip_probability(), 0.25);
  EXPECT_EQ(data.num_threads(), 3);
  EXPECT_FLOAT_EQ(data.box_scale(), 1.25);
  EXPECT_EQ(data.queue_capacity(), 64);

  const ExperimentSpec other_size = Spec(
      "model { input_height: 96 input_width: 64 } "
      "data { input_height: 128 }");
  EXPECT_THAT(ResolveSpecDataOptions(other_size, model, "spec.pbtxt").status().message(),
              HasSubstr("spec.pbtxt: data.input_height: must be unset or equal"));
  const ExperimentSpec bad = Spec("data { flip_probability: 2 }");
  EXPECT_THAT(ResolveSpecDataOptions(bad, model, "spec.pbtxt").status().message(),
              HasSubstr("spec.pbtxt: data.flip_probability"));
}

TEST(SpecOptionsTest, EvaluationDefaultsAreStatedAndGivenValuesKept) {
  const EvaluationSpec defaults = ResolveEvaluationSpec(EvaluationSpec());
  EXPECT_TRUE(defaults.has_flip_test() && defaults.flip_test());
  EXPECT_EQ(defaults.batch_size(), 32);
  EXPECT_EQ(defaults.num_threads(), 2);
  EXPECT_TRUE(defaults.has_oks_nms() && !defaults.oks_nms());
  EXPECT_DOUBLE_EQ(defaults.oks_nms_threshold(), 0.9);
  EXPECT_EQ(defaults.policy(), REFINE_ALL);

  EvaluationSpec given;
  given.set_flip_test(false);
  given.set_batch_size(4);
  given.set_oks_nms(true);
  given.set_oks_nms_threshold(0.5);
  given.set_num_threads(1);
  given.set_policy(REFINE_SELECTIVE);
  const EvaluationSpec kept = ResolveEvaluationSpec(given);
  EXPECT_FALSE(kept.flip_test());
  EXPECT_EQ(kept.batch_size(), 4);
  EXPECT_TRUE(kept.oks_nms());
  EXPECT_DOUBLE_EQ(kept.oks_nms_threshold(), 0.5);
  EXPECT_EQ(kept.num_threads(), 1);
  EXPECT_EQ(kept.policy(), REFINE_SELECTIVE);
}

TEST(SpecOptionsTest, SchemaNameDefaultsToCoco) {
  EXPECT_EQ(SchemaName(Spec("")), "coco");
  EXPECT_EQ(SchemaName(Spec("dataset { schema: \"mpii\" }")), "mpii");
}

}  // namespace
}  // namespace posefix
