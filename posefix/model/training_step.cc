#include "posefix/model/training_step.h"

#include <ATen/autocast_mode.h>
#include <torch/types.h>
#include <torch/version.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "posefix/core/file_util.h"
#include "posefix/core/status_macros.h"
#include "posefix/model/checkpoint.h"
#include "posefix/model/training_state.h"
#include "posefix/model/weight_import.h"

namespace posefix {
namespace {

absl::StatusOr<Estimator> LoadEstimator(const std::string& path,
                                        const ResolvedModelOptions& model) {
  ASSIGN_OR_RETURN(const CheckpointInfo info, ReadCheckpointInfo(path));
  ASSIGN_OR_RETURN(const ResolvedModelOptions options, ResolveModelOptions(info.options, path));
  if (options.has_pose_input() || options.input_height != model.input_height ||
      options.input_width != model.input_width || options.num_keypoints != model.num_keypoints) {
    return FieldError(path, "options",
                      "the estimator must take no pose input and have the model's input size "
                      "and keypoints");
  }
  if (options.output_encoding != POSE_OUTPUT_INTEGRAL) {
    return FieldError(path, "options.output_encoding",
                      absl::StrCat("E2E_REFINE decodes the estimator differentiably (soft-argmax): "
                                   "needs POSE_OUTPUT_INTEGRAL, got ",
                                   PoseOutputEncoding_Name(options.output_encoding)));
  }
  Estimator estimator;
  estimator.codec = PoseCodec::Create(options);
  estimator.options = info.options;
  estimator.net = std::make_shared<PoseFixNetImpl>(options);
  RETURN_IF_ERROR(LoadCheckpoint(path, *estimator.net, nullptr).status());
  return estimator;
}

// Turns autocast on for a forward pass on CUDA (no-op when not enabled).
class AutocastScope {
 public:
  explicit AutocastScope(bool enabled) : enabled_(enabled) {
    if (enabled_) SetAutocast(true);
  }
  ~AutocastScope() {
    if (!enabled_) return;
    SetAutocast(false);
    at::autocast::clear_cache();
  }

 private:
  static void SetAutocast(bool on) {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
    at::autocast::set_autocast_enabled(at::kCUDA, on);
#else
    at::autocast::set_enabled(on);
#endif
  }
  bool enabled_;
};

// The model's losses on its output (in float: autocast may have made it
// half), the status head's weighted in when it has one.
Losses ModelLosses(const NetworkOutput& output, const EncodedBatch& encoded, const PoseCodec& codec,
                   double status_loss_weight) {
  Losses losses = codec.Loss(output.heatmaps.to(torch::kFloat), encoded.targets);
  if (output.status_logits.defined()) {
    losses.status = StatusLoss(output.status_logits, encoded.input_status);
    losses.total = losses.total + status_loss_weight * losses.status;
  }
  return losses;
}

class ModelStep : public TrainingStep {
 public:
  ModelStep(PoseFixNetImpl& net, const PoseCodec& codec, bool autocast)
      : net_(net), codec_(codec), autocast_(autocast) {}

  Losses Forward(const PackedBatch&, const EncodedBatch& encoded) override {
    NetworkOutput output;
    {
      AutocastScope autocast(autocast_);
      output = net_.Run(encoded.input, encoded.input_points);
    }
    return ModelLosses(output, encoded, codec_, net_.options().status_loss_weight);
  }

 private:
  PoseFixNetImpl& net_;
  const PoseCodec& codec_;
  const bool autocast_;
};

// The estimator's soft-argmax pose, rendered as the model's input heatmaps
// (every point visible), takes the place of the synthesized pose channels:
// rendering is differentiable, so the loss reaches the estimator through the
// refinement network.
class EndToEndStep : public TrainingStep {
 public:
  EndToEndStep(Estimator& estimator, PoseFixNetImpl& net, const PoseCodec& codec,
               torch::Device device, bool autocast)
      : estimator_(estimator), net_(net), codec_(codec), device_(device), autocast_(autocast) {}

  Losses Forward(const PackedBatch& batch, const EncodedBatch& encoded) override {
    NetworkOutput output;
    {
      AutocastScope autocast(autocast_);
      const torch::Tensor coords = estimator_.codec->Decode(
          estimator_.net->forward(estimator_.codec->EncodeImages(batch.crops.to(device_)))
              .to(torch::kFloat));
      const torch::Tensor points =
          torch::cat({coords, torch::ones_like(coords.narrow(2, 0, 1))}, 2);
      // The model's codec renders it (coarse Gaussians, differentiable).
      output.heatmaps = net_.forward(torch::cat({encoded.images, codec_.EncodePoses(points)}, 1));
    }
    return ModelLosses(output, encoded, codec_, net_.options().status_loss_weight);
  }

 private:
  Estimator& estimator_;
  PoseFixNetImpl& net_;
  const PoseCodec& codec_;
  const torch::Device device_;
  const bool autocast_;
};

}  // namespace

std::vector<torch::nn::Module*> TrainingNetworks::Modules() const {
  std::vector<torch::nn::Module*> modules = {net.get()};
  if (estimator) modules.push_back(estimator->net.get());
  return modules;
}

absl::StatusOr<TrainingNetworks> CreateTrainingNetworks(const ResolvedModelOptions& model,
                                                        const std::string& estimator_checkpoint,
                                                        const std::string& init_weights,
                                                        uint64_t seed, torch::Device device) {
  // The model is built first: its initialization is what the seed fixes.
  torch::manual_seed(seed);
  TrainingNetworks nets;
  nets.net = std::make_shared<PoseFixNetImpl>(model);
  if (!estimator_checkpoint.empty()) {
    ASSIGN_OR_RETURN(nets.estimator, LoadEstimator(estimator_checkpoint, model));
  }
  if (!init_weights.empty()) {
    RETURN_IF_ERROR(ImportBackboneWeights(init_weights, model.channel_order, *nets.net));
  }
  for (torch::nn::Module* module : nets.Modules()) module->to(device);
  return nets;
}

absl::Status SaveTrainingNetworks(const std::string& dir, const std::string& name,
                                  const ModelOptions& model_options, TrainingNetworks& nets,
                                  const torch::optim::Adam& adam, int64_t step) {
  if (nets.estimator) {
    RETURN_IF_ERROR(SaveCheckpoint(CheckpointPath(dir, EstimatorCheckpointName(name)),
                                   nets.estimator->options, *nets.estimator->net, nullptr, step));
  }
  return SaveCheckpoint(CheckpointPath(dir, name), model_options, *nets.net, &adam, step);
}

absl::Status LoadTrainingNetworks(const std::string& dir, const std::string& name,
                                  const ResolvedModelOptions& model, TrainingNetworks& nets,
                                  torch::optim::Adam& adam) {
  const std::string path = CheckpointPath(dir, name);
  ASSIGN_OR_RETURN(const CheckpointInfo info, LoadCheckpoint(path, *nets.net, &adam));
  ASSIGN_OR_RETURN(const ResolvedModelOptions stored, ResolveModelOptions(info.options, path));
  if (stored.input_height != model.input_height || stored.input_width != model.input_width) {
    return FieldError(
        path, "options.input_height",
        absl::StrCat("the run in this directory trains at ", stored.input_height, "x",
                     stored.input_width, ", the configuration asks for ", model.input_height, "x",
                     model.input_width, "; use another checkpoint_dir"));
  }
  if (!nets.estimator) return absl::OkStatus();
  return LoadCheckpoint(CheckpointPath(dir, EstimatorCheckpointName(name)), *nets.estimator->net,
                        nullptr)
      .status();
}

std::unique_ptr<TrainingStep> CreateTrainingStep(TrainingNetworks& nets, const PoseCodec& codec,
                                                 torch::Device device, bool autocast) {
  if (nets.estimator) {
    return std::make_unique<EndToEndStep>(*nets.estimator, *nets.net, codec, device, autocast);
  }
  return std::make_unique<ModelStep>(*nets.net, codec, autocast);
}

}  // namespace posefix
