#include "posefix/model/model_options.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "posefix/core/text_proto.h"

namespace posefix {
namespace {

using ::testing::HasSubstr;

ModelOptions Parse(const std::string& text) {
  ModelOptions options;
  const absl::Status status = ParseTextProto("test.pbtxt", text, &options);
  EXPECT_TRUE(status.ok()) << status;
  return options;
}

TEST(ModelOptionsTest, LiteBackboneBringsItsOwnNormalization) {
  absl::StatusOr<ResolvedModelOptions> lite =
      ResolveModelOptions(Parse("backbone: BACKBONE_EFFICIENTNET_LITE0"));
  ASSERT_TRUE(lite.ok()) << lite.status();
  EXPECT_EQ(lite->backbone, BACKBONE_EFFICIENTNET_LITE0);
  EXPECT_EQ(lite->resnet_depth, 0);
  EXPECT_EQ(BackboneName(*lite), "EfficientNet-Lite0");
  EXPECT_EQ(lite->channel_order, CHANNEL_ORDER_RGB);
  EXPECT_DOUBLE_EQ(lite->pixel_mean[1], 127);
  EXPECT_DOUBLE_EQ(lite->pixel_std[2], 128);
  // Pose channels on the scale of the [-1, 1] pixels.
  EXPECT_DOUBLE_EQ(lite->input_heatmap_scale, 1);
  // Explicit values still win.
  absl::StatusOr<ResolvedModelOptions> custom = ResolveModelOptions(
      Parse("backbone: BACKBONE_EFFICIENTNET_LITE2 input_heatmap_scale: 2 "
            "pixel_normalization { channel_order: CHANNEL_ORDER_BGR std: [1, 2, 3] }"));
  ASSERT_TRUE(custom.ok()) << custom.status();
  EXPECT_DOUBLE_EQ(custom->input_heatmap_scale, 2);
  EXPECT_EQ(custom->channel_order, CHANNEL_ORDER_BGR);
  EXPECT_DOUBLE_EQ(custom->pixel_std[2], 3);
  EXPECT_DOUBLE_EQ(custom->pixel_mean[0], 127);
  EXPECT_EQ(BackboneName(*ResolveModelOptions(Parse("resnet_depth: 18"))), "ResNet-18");
}

TEST(ModelOptionsTest, StatusHeadOptions) {
  absl::StatusOr<ResolvedModelOptions> off = ResolveModelOptions(ModelOptions());
  ASSERT_TRUE(off.ok());
  EXPECT_FALSE(off->status_head);
  absl::StatusOr<ResolvedModelOptions> on =
      ResolveModelOptions(Parse("status_head { enabled: true }"));
  ASSERT_TRUE(on.ok()) << on.status();
  EXPECT_TRUE(on->status_head);
  EXPECT_DOUBLE_EQ(on->status_loss_weight, 1);
  EXPECT_DOUBLE_EQ(on->keep_threshold, 0.5);
  absl::StatusOr<ResolvedModelOptions> tuned = ResolveModelOptions(
      Parse("status_head { enabled: true loss_weight: 0.25 keep_threshold: 0.8 }"));
  ASSERT_TRUE(tuned.ok()) << tuned.status();
  EXPECT_DOUBLE_EQ(tuned->status_loss_weight, 0.25);
  EXPECT_NEAR(tuned->keep_threshold, 0.8, 1e-6);
}

// Explicit presence: a value given as 0 is 0, where 0 is valid.
TEST(ModelOptionsTest, ZeroIsAValue) {
  absl::StatusOr<ResolvedModelOptions> zero =
      ResolveModelOptions(Parse("status_head { enabled: true loss_weight: 0 keep_threshold: 0 }"));
  ASSERT_TRUE(zero.ok()) << zero.status();
  EXPECT_EQ(zero->status_loss_weight, 0);
  EXPECT_EQ(zero->keep_threshold, 0);
  EXPECT_THAT(
      std::string(ValidateModelOptions(Parse("status_head { loss_weight: 0 }"), "s").message()),
      HasSubstr("s: status_head: options given but status_head.enabled is not true"));
}

TEST(ModelOptionsTest, EmptyResolvesToTheReleaseDefaults) {
  absl::StatusOr<ResolvedModelOptions> resolved = ResolveModelOptions(ModelOptions());
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_EQ(resolved->resnet_depth, 50);
  EXPECT_EQ(resolved->input_height, 256);
  EXPECT_EQ(resolved->input_width, 192);
  EXPECT_EQ(resolved->output_height(), 64);
  EXPECT_EQ(resolved->output_width(), 48);
  EXPECT_EQ(resolved->num_keypoints, 17);
  EXPECT_EQ(resolved->input_channels(), 20);
  EXPECT_EQ(resolved->input_encoding, POSE_INPUT_COARSE);
  EXPECT_EQ(resolved->output_encoding, POSE_OUTPUT_INTEGRAL);
  EXPECT_TRUE(resolved->use_heatmap_loss);
  EXPECT_TRUE(resolved->use_coordinate_loss);
  EXPECT_DOUBLE_EQ(resolved->input_sigma, 7);
  EXPECT_DOUBLE_EQ(resolved->output_sigma, 2);
  EXPECT_DOUBLE_EQ(resolved->input_heatmap_scale, 255);
  EXPECT_EQ(resolved->channel_order, CHANNEL_ORDER_BGR);
  EXPECT_DOUBLE_EQ(resolved->pixel_mean[0], 123.68);
  EXPECT_DOUBLE_EQ(resolved->pixel_mean[2], 103.94);
  EXPECT_DOUBLE_EQ(resolved->pixel_std[1], 1);
  EXPECT_EQ(resolved->head_channels, 256);
  EXPECT_EQ(resolved->loss_normalization, LOSS_PER_LABELLED_KEYPOINT);
  EXPECT_EQ(resolved->initialization, INITIALIZATION_SIMPLE_BASELINE);
  EXPECT_EQ(VariantName(*resolved), "C2F");
}

TEST(ModelOptionsTest, SigmaFollowsTheReleaseAndScalesWithTheCrop) {
  EXPECT_DOUBLE_EQ(DefaultInputSigma(256), 7);
  EXPECT_DOUBLE_EQ(DefaultInputSigma(384), 9);
  EXPECT_DOUBLE_EQ(DefaultInputSigma(128), 3.5);
  EXPECT_DOUBLE_EQ(DefaultInputSigma(512), 11);
  absl::StatusOr<ResolvedModelOptions> large =
      ResolveModelOptions(Parse("input_height: 384 input_width: 288"));
  ASSERT_TRUE(large.ok()) << large.status();
  EXPECT_DOUBLE_EQ(large->input_sigma, 9);
  EXPECT_DOUBLE_EQ(large->output_sigma, 3);
  EXPECT_EQ(large->output_height(), 96);
  EXPECT_EQ(large->output_width(), 72);
}

TEST(ModelOptionsTest, ExplicitValuesWin) {
  absl::StatusOr<ResolvedModelOptions> resolved = ResolveModelOptions(Parse(R"pb(
    resnet_depth: 18
    input_height: 128
    input_width: 96
    num_keypoints: 14
    input_encoding: POSE_INPUT_FINE
    use_heatmap_loss: false
    input_sigma: 3
    input_heatmap_scale: 1
    head_channels: 128
    loss_normalization: LOSS_PER_ENTRY
    initialization: INITIALIZATION_RELEASE
    pixel_normalization {
      channel_order: CHANNEL_ORDER_RGB
      mean: [ 1, 2, 3 ]
      std: [ 4, 5, 6 ]
    }
  )pb"));
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_EQ(resolved->resnet_depth, 18);
  EXPECT_EQ(resolved->num_keypoints, 14);
  EXPECT_EQ(resolved->input_channels(), 17);
  EXPECT_FALSE(resolved->use_heatmap_loss);
  EXPECT_TRUE(resolved->use_coordinate_loss);
  EXPECT_DOUBLE_EQ(resolved->input_sigma, 3);
  EXPECT_DOUBLE_EQ(resolved->input_heatmap_scale, 1);
  EXPECT_EQ(resolved->head_channels, 128);
  EXPECT_EQ(resolved->loss_normalization, LOSS_PER_ENTRY);
  EXPECT_EQ(resolved->initialization, INITIALIZATION_RELEASE);
  EXPECT_EQ(resolved->channel_order, CHANNEL_ORDER_RGB);
  EXPECT_DOUBLE_EQ(resolved->pixel_mean[2], 3);
  EXPECT_DOUBLE_EQ(resolved->pixel_std[0], 4);
  EXPECT_EQ(VariantName(*resolved), "F2F-L_C");
}

TEST(ModelOptionsTest, VariantNames) {
  EXPECT_EQ(VariantName(*ResolveModelOptions(Parse("output_encoding: POSE_OUTPUT_GAUSSIAN"))),
            "C2C");
  EXPECT_EQ(VariantName(*ResolveModelOptions(Parse("use_coordinate_loss: false"))), "C2F-L_H");
  EXPECT_EQ(VariantName(*ResolveModelOptions(Parse("input_encoding: POSE_INPUT_NONE"))),
            "IntegralPose");
  absl::StatusOr<ResolvedModelOptions> none =
      ResolveModelOptions(Parse("input_encoding: POSE_INPUT_NONE"));
  EXPECT_EQ(none->input_channels(), 3);
}

void ExpectFieldError(const std::string& text, const std::string& field) {
  const absl::Status status = ValidateModelOptions(Parse(text), "spec.pbtxt");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << text;
  EXPECT_THAT(std::string(status.message()), HasSubstr("spec.pbtxt: " + field + ":")) << text;
}

TEST(ModelOptionsTest, ErrorsNameTheField) {
  ExpectFieldError("resnet_depth: 20", "resnet_depth");
  ExpectFieldError("input_height: 250 input_width: 192", "input_height");
  ExpectFieldError("input_height: 256 input_width: 190", "input_width");
  ExpectFieldError("input_height: 256", "input_width");
  ExpectFieldError("input_height: -32 input_width: 32", "input_height");
  ExpectFieldError("input_height: 32000 input_width: 192", "input_height");
  ExpectFieldError("num_keypoints: -1", "num_keypoints");
  ExpectFieldError("head_channels: -8", "head_channels");
  ExpectFieldError("use_heatmap_loss: false use_coordinate_loss: false", "use_coordinate_loss");
  ExpectFieldError("output_encoding: POSE_OUTPUT_GAUSSIAN use_heatmap_loss: true",
                   "use_heatmap_loss");
  ExpectFieldError("output_encoding: POSE_OUTPUT_GAUSSIAN use_coordinate_loss: false",
                   "use_coordinate_loss");
  ExpectFieldError("input_sigma: -1", "input_sigma");
  ExpectFieldError("output_sigma: nan", "output_sigma");
  ExpectFieldError("input_heatmap_scale: -2", "input_heatmap_scale");
  ExpectFieldError("pixel_normalization { mean: [1, 2] }", "pixel_normalization.mean");
  ExpectFieldError("pixel_normalization { std: [1, 0, 1] }", "pixel_normalization.std");
  ExpectFieldError("input_sigma: 0", "input_sigma");
  ExpectFieldError("head_channels: 0", "head_channels");
  ExpectFieldError("num_keypoints: 0", "num_keypoints");
  EXPECT_FALSE(ResolveModelOptions(Parse("resnet_depth: 7")).ok());
  // Enums are closed: the parser refuses a value no enumerator names.
  ModelOptions options;
  EXPECT_THAT(std::string(ParseTextProto("test.pbtxt", "backbone: 42", &options).message()),
              HasSubstr("test.pbtxt"));
}

TEST(ModelOptionsTest, BackboneAndStatusHeadErrorsNameTheField) {
  EXPECT_THAT(std::string(ValidateModelOptions(
                              Parse("backbone: BACKBONE_EFFICIENTNET_LITE1 resnet_depth: 50"), "s")
                              .message()),
              HasSubstr("s: resnet_depth: applies to BACKBONE_RESNET only"));
  EXPECT_THAT(
      std::string(
          ValidateModelOptions(Parse("status_head { keep_threshold: 0.3 }"), "s").message()),
      HasSubstr("s: status_head: options given but status_head.enabled is not true"));
  EXPECT_THAT(std::string(ValidateModelOptions(
                              Parse("status_head { enabled: true keep_threshold: 1.5 }"), "s")
                              .message()),
              HasSubstr("s: status_head.keep_threshold: must be in [0, 1]"));
  EXPECT_THAT(
      std::string(ValidateModelOptions(Parse("status_head { enabled: true loss_weight: -1 }"), "s")
                      .message()),
      HasSubstr("s: status_head.loss_weight"));
  EXPECT_THAT(
      std::string(ValidateModelOptions(
                      Parse("input_encoding: POSE_INPUT_NONE status_head { enabled: true }"), "s")
                      .message()),
      HasSubstr("s: status_head.enabled: needs a pose input"));
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

TEST(ModelOptionsTest, StatedOptionsResolveToTheSameNetwork) {
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
    const absl::StatusOr<ResolvedModelOptions> resolved = ResolveModelOptions(Parse(text));
    ASSERT_TRUE(resolved.ok()) << resolved.status();
    const ModelOptions stated = ModelOptionsOf(*resolved);
    // Every value is stated, none left to a default.
    EXPECT_TRUE(stated.has_input_height() && stated.has_num_keypoints());
    EXPECT_TRUE(stated.has_input_encoding() && stated.has_output_encoding());
    EXPECT_TRUE(stated.has_input_sigma() && stated.has_output_sigma());
    EXPECT_TRUE(stated.pixel_normalization().has_channel_order());
    EXPECT_EQ(stated.pixel_normalization().mean_size(), 3);
    const absl::StatusOr<ResolvedModelOptions> again = ResolveModelOptions(stated);
    ASSERT_TRUE(again.ok()) << again.status();
    ExpectSameNetwork(*again, *resolved);
  }
}

TEST(ModelOptionsTest, AnEstimatorsUnsetInputEncodingIsNoPose) {
  absl::StatusOr<ModelOptions> estimator = ModelOptionsForMode(ModelOptions(), ESTIMATOR, 17, "s");
  ASSERT_TRUE(estimator.ok()) << estimator.status();
  EXPECT_EQ(estimator->input_encoding(), POSE_INPUT_NONE);
  absl::StatusOr<ModelOptions> refiner =
      ModelOptionsForMode(ModelOptions(), MODEL_AGNOSTIC, 17, "s");
  ASSERT_TRUE(refiner.ok()) << refiner.status();
  EXPECT_EQ(refiner->input_encoding(), POSE_INPUT_COARSE);
  EXPECT_FALSE(refiner->has_input_encoding());
}

TEST(ModelOptionsTest, UnsetKeypointCountIsTheSchemas) {
  EXPECT_EQ(ModelOptionsForMode(ModelOptions(), MODEL_AGNOSTIC, 14, "s")->num_keypoints(), 14);
  const absl::StatusOr<ModelOptions> unknown =
      ModelOptionsForMode(ModelOptions(), MODEL_AGNOSTIC, 0, "s");
  EXPECT_FALSE(unknown->has_num_keypoints());
  EXPECT_EQ(unknown->num_keypoints(), 17);
  EXPECT_EQ(
      ModelOptionsForMode(Parse("num_keypoints: 14"), MODEL_AGNOSTIC, 14, "s")->num_keypoints(),
      14);
  EXPECT_EQ(
      ModelOptionsForMode(Parse("num_keypoints: 16"), MODEL_AGNOSTIC, 14, "s").status().message(),
      "s: model.num_keypoints: 16, but the schema has 14 keypoints");
}

TEST(ModelOptionsTest, TheModeRulesNameTheField) {
  auto message = [](const std::string& text, TrainingMode mode) {
    return std::string(ModelOptionsForMode(Parse(text), mode, 17, "s").status().message());
  };
  EXPECT_THAT(message("input_encoding: POSE_INPUT_FINE", ESTIMATOR),
              HasSubstr("s: model.input_encoding: training.mode ESTIMATOR has no pose input"));
  EXPECT_THAT(message("input_encoding: POSE_INPUT_NONE", MODEL_AGNOSTIC),
              HasSubstr("s: model.input_encoding: POSE_INPUT_NONE is the estimator"));
  EXPECT_THAT(message("input_encoding: POSE_INPUT_FINE", E2E_REFINE),
              HasSubstr("s: model.input_encoding: E2E_REFINE renders"));
  EXPECT_THAT(message("status_head { enabled: true }", E2E_REFINE),
              HasSubstr("s: model.status_head.enabled: the status head learns"));
  EXPECT_TRUE(
      ModelOptionsForMode(Parse("status_head { enabled: true }"), MODEL_AGNOSTIC, 17, "s").ok());
}

}  // namespace
}  // namespace posefix
