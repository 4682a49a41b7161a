#include "posefix/experiments/spec_options.h"

#include "absl/strings/str_cat.h"
#include "posefix/core/file_util.h"
#include "posefix/data/training_sample.h"
#include "posefix/eval/oks_nms.h"

namespace posefix {

std::string SchemaName(const ExperimentSpec& spec) {
  return spec.dataset().schema().empty() ? "coco" : spec.dataset().schema();
}

absl::StatusOr<ResolvedModelOptions> ResolveSpecModelOptions(const ExperimentSpec& spec,
                                                             int schema_keypoints,
                                                             absl::string_view source) {
  ModelOptions model = spec.model();
  // The trainer completes the network so (ModelOptionsForMode in
  // posefix/model/trainer.cc, which no header exports): an estimator takes no
  // pose, and the network predicts the schema's keypoints.
  if (spec.training().mode() == ESTIMATOR &&
      model.input_encoding() == POSE_INPUT_ENCODING_UNSPECIFIED) {
    model.set_input_encoding(POSE_INPUT_NONE);
  }
  if (model.num_keypoints() == 0 && schema_keypoints > 0) model.set_num_keypoints(schema_keypoints);
  return ResolveModelOptions(model, absl::StrCat(source, ": model"));
}

absl::StatusOr<DataOptions> ResolveSpecDataOptions(const ExperimentSpec& spec,
                                                   const ResolvedModelOptions& model,
                                                   absl::string_view source) {
  DataOptions data = spec.data();
  if (data.input_height() != 0 && data.input_height() != model.input_height) {
    return FieldError(source, "data.input_height",
                      absl::StrCat("must be unset or equal model.input_height (",
                                   model.input_height, "), got ", data.input_height()));
  }
  if (data.input_width() != 0 && data.input_width() != model.input_width) {
    return FieldError(source, "data.input_width",
                      absl::StrCat("must be unset or equal model.input_width (", model.input_width,
                                   "), got ", data.input_width()));
  }
  data.set_input_height(model.input_height);
  data.set_input_width(model.input_width);
  data = ResolveDataOptions(data);
  if (absl::Status s = ValidateDataOptions(data, source); !s.ok()) return s;
  return data;
}

EvaluationSpec ResolveEvaluationSpec(EvaluationSpec evaluation) {
  if (!evaluation.has_flip_test()) evaluation.set_flip_test(true);
  if (evaluation.batch_size() == 0) evaluation.set_batch_size(32);
  if (!evaluation.has_oks_nms()) evaluation.set_oks_nms(false);
  if (evaluation.oks_nms_threshold() == 0) {
    evaluation.set_oks_nms_threshold(OksNmsOptions().threshold);
  }
  if (evaluation.num_threads() == 0) evaluation.set_num_threads(2);
  if (evaluation.policy() == REFINE_POLICY_UNSPECIFIED) evaluation.set_policy(REFINE_ALL);
  return evaluation;
}

ModelOptions ModelOptionsOf(const ResolvedModelOptions& options) {
  ModelOptions model;
  model.set_backbone(options.backbone);
  model.set_resnet_depth(options.resnet_depth);
  model.set_input_height(options.input_height);
  model.set_input_width(options.input_width);
  model.set_num_keypoints(options.num_keypoints);
  model.set_input_encoding(options.input_encoding);
  model.set_output_encoding(options.output_encoding);
  // The Gaussian output has one loss (MSE): naming L_H or L_C there is an
  // error, not a statement.
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

}  // namespace posefix
