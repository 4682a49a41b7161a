#ifndef POSEFIX_MODEL_MODEL_OPTIONS_H_
#define POSEFIX_MODEL_MODEL_OPTIONS_H_

#include <array>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "posefix/model/model.pb.h"

namespace posefix {

// The network's output stride: heatmap cell i covers crop pixel 4 * i.
inline constexpr int kOutputStride = 4;

// ModelOptions with every default filled in and every value checked; what
// the codec and the network are built from.
struct ResolvedModelOptions {
  Backbone backbone = BACKBONE_RESNET;
  // 0 for backbones other than ResNet.
  int resnet_depth = 50;
  int input_height = 256;
  int input_width = 192;
  int num_keypoints = 17;
  PoseInputEncoding input_encoding = POSE_INPUT_COARSE;
  PoseOutputEncoding output_encoding = POSE_OUTPUT_INTEGRAL;
  bool use_heatmap_loss = true;
  bool use_coordinate_loss = true;
  double input_sigma = 7;
  double output_sigma = 2;
  double input_heatmap_scale = 255;
  ChannelOrder channel_order = CHANNEL_ORDER_BGR;
  std::array<double, 3> pixel_mean = {123.68, 116.78, 103.94};
  std::array<double, 3> pixel_std = {1, 1, 1};
  bool status_head = false;
  double status_loss_weight = 1;
  double keep_threshold = 0.5;
  int head_channels = 256;
  LossNormalization loss_normalization = LOSS_PER_LABELLED_KEYPOINT;
  Initialization initialization = INITIALIZATION_SIMPLE_BASELINE;

  int output_height() const { return input_height / kOutputStride; }
  int output_width() const { return input_width / kOutputStride; }
  bool has_pose_input() const { return input_encoding != POSE_INPUT_NONE; }
  // Channels of the network input: 3 image channels plus J pose heatmaps.
  int input_channels() const { return 3 + (has_pose_input() ? num_keypoints : 0); }
};

// The number of input-keypoint statuses the status head predicts (good,
// jitter, inversion, swap, miss: SynthesisStatus 0-4).
inline constexpr int kNumInputStatuses = 5;

// "ResNet-50", "EfficientNet-Lite0", ...
std::string BackboneName(const ResolvedModelOptions& options);

// The release's coarse-input sigma for a crop height: 7 at 256, 9 at 384.
double DefaultInputSigma(int input_height);

// Checks `options`; errors read "SOURCE: FIELD: problem".
absl::Status ValidateModelOptions(const ModelOptions& options,
                                  absl::string_view source = "ModelOptions");

// Validates and fills in the documented defaults.
absl::StatusOr<ResolvedModelOptions> ResolveModelOptions(const ModelOptions& options,
                                                         absl::string_view source = "ModelOptions");

// A short human-readable name of the variant, e.g. "C2F" or "C2F-L_H",
// "IntegralPose", following the paper's Figure 6 names.
std::string VariantName(const ResolvedModelOptions& options);

}  // namespace posefix

#endif  // POSEFIX_MODEL_MODEL_OPTIONS_H_
