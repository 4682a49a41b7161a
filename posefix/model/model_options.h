#ifndef POSEFIX_MODEL_MODEL_OPTIONS_H_
#define POSEFIX_MODEL_MODEL_OPTIONS_H_

#include <array>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "posefix/model/model.pb.h"
#include "posefix/model/training.pb.h"

namespace posefix {

// The network's output stride: heatmap cell i covers crop pixel 4 * i.
inline constexpr int kOutputStride = 4;

// ModelOptions with every default filled in (those model.proto declares and
// those ResolveModelOptions computes from other fields) and every value
// checked; what the codec and the network are built from. Make one with
// ResolveModelOptions: a default-constructed one is all zeros.
struct ResolvedModelOptions {
  Backbone backbone{};
  // 0 for backbones other than ResNet.
  int resnet_depth = 0;
  int input_height = 0;
  int input_width = 0;
  int num_keypoints = 0;
  PoseInputEncoding input_encoding{};
  PoseOutputEncoding output_encoding{};
  bool use_heatmap_loss = false;
  bool use_coordinate_loss = false;
  double input_sigma = 0;
  double output_sigma = 0;
  double input_heatmap_scale = 0;
  ChannelOrder channel_order{};
  std::array<double, 3> pixel_mean{};
  std::array<double, 3> pixel_std{};
  bool status_head = false;
  double status_loss_weight = 0;
  double keep_threshold = 0;
  int head_channels = 0;
  LossNormalization loss_normalization{};
  Initialization initialization{};

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

// Validates and fills in every default: the declared ones, and those that
// follow the backbone and the input size (see model.proto).
absl::StatusOr<ResolvedModelOptions> ResolveModelOptions(const ModelOptions& options,
                                                         absl::string_view source = "ModelOptions");

// The network a training run in `mode` builds from a spec's `options`; the
// trainer and spec validation call this one function. An ESTIMATOR's unset
// input_encoding is POSE_INPUT_NONE, and an unset num_keypoints is
// `schema_keypoints` (0: the schema is not known here; left unset). Checks
// the encoding and the status head against the mode and num_keypoints
// against the schema; errors read "SOURCE: model.FIELD: problem".
absl::StatusOr<ModelOptions> ModelOptionsForMode(ModelOptions options, TrainingMode mode,
                                                 int schema_keypoints, absl::string_view source);

// ModelOptions stating every value of `options`, so that a reader needs no
// defaults: ResolveModelOptions of it gives `options` back (to float
// precision, the proto's).
ModelOptions ModelOptionsOf(const ResolvedModelOptions& options);

// A short human-readable name of the variant, e.g. "C2F" or "C2F-L_H",
// "IntegralPose", following the paper's Figure 6 names.
std::string VariantName(const ResolvedModelOptions& options);

}  // namespace posefix

#endif  // POSEFIX_MODEL_MODEL_OPTIONS_H_
