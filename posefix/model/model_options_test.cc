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
  ExpectFieldError("loss_normalization: 9", "loss_normalization");
  ExpectFieldError("initialization: 7", "initialization");
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
  ModelOptions bad_enum;
  bad_enum.set_input_encoding(static_cast<PoseInputEncoding>(42));
  EXPECT_THAT(std::string(ValidateModelOptions(bad_enum, "x").message()),
              HasSubstr("x: input_encoding:"));
  EXPECT_FALSE(ResolveModelOptions(Parse("resnet_depth: 7")).ok());
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
  ModelOptions unknown;
  unknown.set_backbone(static_cast<Backbone>(42));
  EXPECT_THAT(std::string(ValidateModelOptions(unknown, "s").message()),
              HasSubstr("s: backbone: unknown value 42"));
}

}  // namespace
}  // namespace posefix
