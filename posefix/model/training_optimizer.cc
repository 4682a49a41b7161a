#include "posefix/model/training_optimizer.h"

#include <torch/types.h>
#include <torch/utils.h>

#include <algorithm>
#include <memory>

#include "absl/strings/match.h"

namespace posefix {
namespace {

torch::optim::AdamOptions AdamWithDecay(double learning_rate, double weight_decay) {
  return torch::optim::AdamOptions(learning_rate)
      .betas({0.9, 0.999})
      .eps(1e-8)
      .weight_decay(weight_decay);
}

// Two groups: the convolution kernels, decayed, then every other parameter.
std::vector<torch::optim::OptimizerParamGroup> ParameterGroups(
    const std::vector<torch::nn::Module*>& modules, const TrainingOptions& options) {
  std::vector<torch::Tensor> decayed, other;
  for (torch::nn::Module* module : modules) {
    for (const auto& item : module->named_parameters()) {
      const bool kernel = item.value().dim() == 4 && absl::EndsWith(item.key(), "weight");
      (kernel ? decayed : other).push_back(item.value());
    }
  }
  const double decay = options.weight_decay() > 0 ? options.weight_decay() : 0.0;
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decayed, std::make_unique<torch::optim::AdamOptions>(
                                   AdamWithDecay(options.learning_rate(), decay)));
  groups.emplace_back(other, std::make_unique<torch::optim::AdamOptions>(
                                 AdamWithDecay(options.learning_rate(), 0)));
  return groups;
}

}  // namespace

torch::optim::Adam MakeAdam(const std::vector<torch::nn::Module*>& modules,
                            const TrainingOptions& options) {
  return torch::optim::Adam(ParameterGroups(modules, options),
                            torch::optim::AdamOptions(options.learning_rate()));
}

double LearningRate(const TrainingOptions& options, int epoch) {
  double rate = options.learning_rate();
  for (int milestone : options.lr_milestones()) {
    if (epoch >= milestone) rate *= options.lr_factor();
  }
  return rate;
}

void SetLearningRate(torch::optim::Adam& adam, double rate) {
  for (auto& group : adam.param_groups()) {
    static_cast<torch::optim::AdamOptions&>(group.options()).lr(rate);
  }
}

bool GradientsFinite(torch::optim::Adam& adam) {
  std::vector<torch::Tensor> flags;
  for (auto& group : adam.param_groups()) {
    for (auto& p : group.params()) {
      if (p.grad().defined()) flags.push_back(torch::isfinite(p.grad()).all());
    }
  }
  if (flags.empty()) return true;
  return torch::stack(flags).all().item<bool>();
}

void ScaleGradients(torch::optim::Adam& adam, double factor) {
  torch::NoGradGuard no_grad;
  for (auto& group : adam.param_groups()) {
    for (auto& p : group.params()) {
      if (p.grad().defined()) p.grad().mul_(factor);
    }
  }
}

LossScaler::LossScaler(bool enabled, double scale)
    : enabled_(enabled), scale_(enabled ? scale : 1.0) {}

bool LossScaler::BackwardAndStep(const torch::Tensor& loss, torch::optim::Adam& adam) {
  if (!enabled_) {
    loss.backward();
    adam.step();
    return true;
  }
  (loss * scale_).backward();
  if (!GradientsFinite(adam)) {
    scale_ = std::max(1.0, scale_ / 2);
    finite_steps_ = 0;
    return false;
  }
  ScaleGradients(adam, 1.0 / scale_);
  adam.step();
  if (++finite_steps_ >= kGrowthInterval) {
    scale_ *= 2;
    finite_steps_ = 0;
  }
  return true;
}

}  // namespace posefix
