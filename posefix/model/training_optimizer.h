#ifndef POSEFIX_MODEL_TRAINING_OPTIMIZER_H_
#define POSEFIX_MODEL_TRAINING_OPTIMIZER_H_

// The trainer's optimizer: Adam with weight decay on convolution kernels
// only, the step learning-rate schedule, and dynamic loss scaling for mixed
// precision. Internal to posefix/model (includes torch).

#include <torch/nn/module.h>
#include <torch/optim/adam.h>

#include <vector>

#include "posefix/model/training.pb.h"

namespace posefix {

// Adam (0.9, 0.999, 1e-8) at options.learning_rate over the parameters of
// `modules`, with options.weight_decay on convolution kernels only (as the
// release; none on batch-norm parameters and biases).
torch::optim::Adam MakeAdam(const std::vector<torch::nn::Module*>& modules,
                            const TrainingOptions& options);

// options.learning_rate, times lr_factor for every milestone `epoch` has
// reached.
double LearningRate(const TrainingOptions& options, int epoch);

void SetLearningRate(torch::optim::Adam& adam, double rate);

// Whether every gradient of `adam`'s parameters is finite (one reduction on
// the device).
bool GradientsFinite(torch::optim::Adam& adam);

// Multiplies every gradient of `adam`'s parameters by `factor`.
void ScaleGradients(torch::optim::Adam& adam, double factor);

// Backpropagates a loss and steps Adam. With dynamic loss scaling (mixed
// precision: float16 gradients underflow unscaled) the loss is multiplied by
// the scale before backward and the gradients divided by it after; a step
// whose gradients are not finite is skipped and halves the scale (down to
// 1), and kGrowthInterval finite steps in a row double it.
class LossScaler {
 public:
  static constexpr double kInitialScale = 65536.0;
  static constexpr int kGrowthInterval = 2000;

  // enabled = false: plain backward and step, scale() stays 1. Enabled:
  // starts at `scale`, the scale a resumed run saved, or kInitialScale.
  LossScaler(bool enabled, double scale);

  // zero_grad is the caller's. Returns false when the step was skipped.
  bool BackwardAndStep(const torch::Tensor& loss, torch::optim::Adam& adam);

  bool enabled() const { return enabled_; }
  // The scale to save with a checkpoint.
  double scale() const { return scale_; }

 private:
  bool enabled_;
  double scale_;
  int finite_steps_ = 0;
};

}  // namespace posefix

#endif  // POSEFIX_MODEL_TRAINING_OPTIMIZER_H_
