#ifndef POSEFIX_MODEL_TRAINING_STEP_H_
#define POSEFIX_MODEL_TRAINING_STEP_H_

// What each training mode trains and how a batch goes through it: the
// networks (the model and, for E2E_REFINE, the pre-trained estimator in front
// of it), their checkpoint files, and the forward pass from a batch to the
// losses. Internal to posefix/model (includes torch).

#include <torch/nn/module.h>
#include <torch/optim/adam.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "posefix/model/codec.h"
#include "posefix/model/model.pb.h"
#include "posefix/model/model_options.h"
#include "posefix/model/network.h"
#include "posefix/model/training_batch.h"

namespace posefix {

// E2E_REFINE: the estimator the refinement network is appended to,
// fine-tuned with it.
struct Estimator {
  std::shared_ptr<PoseFixNetImpl> net;
  // As read from its checkpoint; written with it again.
  ModelOptions options;
  // Its own pixel normalization and decoding, as when it estimates alone.
  std::unique_ptr<PoseCodec> codec;
};

struct TrainingNetworks {
  std::shared_ptr<PoseFixNetImpl> net;
  std::optional<Estimator> estimator;

  // What the optimizer updates: the model, then the estimator.
  std::vector<torch::nn::Module*> Modules() const;
};

// Builds the model of `model`, seeded with `seed` so that a new run is
// reproducible, over `init_weights` (torchvision ResNet weights for the
// backbone; empty: none), and with `estimator_checkpoint` (E2E_REFINE; empty:
// none) the estimator loaded from it, which must take no pose input, have the
// model's input size and keypoints, and the integral output (its soft-argmax
// is differentiable). Both end on `device`.
absl::StatusOr<TrainingNetworks> CreateTrainingNetworks(const ResolvedModelOptions& model,
                                                        const std::string& estimator_checkpoint,
                                                        const std::string& init_weights,
                                                        uint64_t seed, torch::Device device);

// Writes checkpoint `name` into `dir`: the model with `adam`'s state, and
// first the estimator beside it (EstimatorCheckpointName), so that both are
// complete before the training state names them.
absl::Status SaveTrainingNetworks(const std::string& dir, const std::string& name,
                                  const ModelOptions& model_options, TrainingNetworks& nets,
                                  const torch::optim::Adam& adam, int64_t step);

// Loads checkpoint `name` of `dir` (and its estimator) to resume a run;
// fails when the checkpoint's input size is not `model`'s, since the network
// would load at any size and the run would silently change.
absl::Status LoadTrainingNetworks(const std::string& dir, const std::string& name,
                                  const ResolvedModelOptions& model, TrainingNetworks& nets,
                                  torch::optim::Adam& adam);

// The forward pass of one training mode.
class TrainingStep {
 public:
  virtual ~TrainingStep() = default;
  // The losses to minimize on `batch`, which `encoded` holds encoded by the
  // model's codec on the training device.
  virtual Losses Forward(const PackedBatch& batch, const EncodedBatch& encoded) = 0;
};

// MODEL_AGNOSTIC and ESTIMATOR: the model on the encoded input. E2E_REFINE
// (nets.estimator set): the estimator on the images, its pose rendered
// differentiably into the model's pose channels. `autocast`: the networks run
// under autocast (CUDA mixed precision); the losses are computed in float.
std::unique_ptr<TrainingStep> CreateTrainingStep(TrainingNetworks& nets, const PoseCodec& codec,
                                                 torch::Device device, bool autocast);

}  // namespace posefix

#endif  // POSEFIX_MODEL_TRAINING_STEP_H_
