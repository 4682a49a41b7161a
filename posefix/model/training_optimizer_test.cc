#include "posefix/model/training_optimizer.h"

#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/types.h>

#include <limits>

#include "gtest/gtest.h"

namespace posefix {
namespace {

TrainingOptions Options() {
  TrainingOptions options;
  options.set_learning_rate(1e-3);
  options.set_weight_decay(1e-5);
  options.add_lr_milestones(2);
  options.add_lr_milestones(4);
  options.set_lr_factor(0.1);
  return options;
}

double GroupRate(torch::optim::Adam& adam, int group) {
  return static_cast<torch::optim::AdamOptions&>(adam.param_groups()[group].options()).lr();
}

double GroupDecay(torch::optim::Adam& adam, int group) {
  return static_cast<torch::optim::AdamOptions&>(adam.param_groups()[group].options())
      .weight_decay();
}

TEST(TrainingOptimizerTest, LearningRateFallsAtEachMilestone) {
  const TrainingOptions options = Options();
  EXPECT_DOUBLE_EQ(LearningRate(options, 0), 1e-3);
  EXPECT_DOUBLE_EQ(LearningRate(options, 1), 1e-3);
  EXPECT_DOUBLE_EQ(LearningRate(options, 2), 1e-4);
  EXPECT_DOUBLE_EQ(LearningRate(options, 3), 1e-4);
  EXPECT_DOUBLE_EQ(LearningRate(options, 4), 1e-5);
  EXPECT_DOUBLE_EQ(LearningRate(options, 100), 1e-5);
}

TEST(TrainingOptimizerTest, WeightDecayOnConvolutionKernelsOnly) {
  torch::nn::Conv2d conv(torch::nn::Conv2dOptions(3, 4, 3));
  torch::nn::BatchNorm2d norm(4);
  torch::optim::Adam adam = MakeAdam({conv.get(), norm.get()}, Options());
  ASSERT_EQ(adam.param_groups().size(), 2u);
  ASSERT_EQ(adam.param_groups()[0].params().size(), 1u);
  EXPECT_TRUE(adam.param_groups()[0].params()[0].is_same(conv->weight));
  EXPECT_DOUBLE_EQ(GroupDecay(adam, 0), 1e-5);
  // The conv's bias and the batch norm's weight and bias.
  EXPECT_EQ(adam.param_groups()[1].params().size(), 3u);
  EXPECT_EQ(GroupDecay(adam, 1), 0);

  TrainingOptions no_decay = Options();
  no_decay.set_weight_decay(-1);
  torch::optim::Adam plain = MakeAdam({conv.get()}, no_decay);
  EXPECT_EQ(GroupDecay(plain, 0), 0);
}

TEST(TrainingOptimizerTest, SetLearningRateSetsEveryGroup) {
  torch::nn::Conv2d conv(torch::nn::Conv2dOptions(3, 4, 3));
  torch::optim::Adam adam = MakeAdam({conv.get()}, Options());
  SetLearningRate(adam, 0.25);
  EXPECT_EQ(GroupRate(adam, 0), 0.25);
  EXPECT_EQ(GroupRate(adam, 1), 0.25);
}

// One parameter w; the loss w * factor gives it the gradient `factor`.
struct OneParameter {
  OneParameter()
      : weight(torch::ones({1}, torch::requires_grad())),
        adam(std::vector<torch::Tensor>{weight}) {}
  torch::Tensor Loss(double factor) { return (weight * factor).sum(); }
  torch::Tensor weight;
  torch::optim::Adam adam;
};

TEST(TrainingOptimizerTest, GradientsFiniteAndScaled) {
  OneParameter p;
  EXPECT_TRUE(GradientsFinite(p.adam));  // no gradient yet
  p.Loss(3).backward();
  EXPECT_TRUE(GradientsFinite(p.adam));
  ScaleGradients(p.adam, 0.5);
  EXPECT_EQ(p.weight.grad().item<double>(), 1.5);
  p.adam.zero_grad();
  p.Loss(std::numeric_limits<double>::infinity()).backward();
  EXPECT_FALSE(GradientsFinite(p.adam));
}

TEST(TrainingOptimizerTest, DisabledScalerStepsPlainly) {
  OneParameter p;
  LossScaler scaler(false, LossScaler::kInitialScale);
  EXPECT_EQ(scaler.scale(), 1);
  EXPECT_TRUE(scaler.BackwardAndStep(p.Loss(2), p.adam));
  EXPECT_EQ(p.weight.grad().item<double>(), 2);
  EXPECT_LT(p.weight.item<double>(), 1);
}

TEST(TrainingOptimizerTest, ScalerUnscalesGradientsBeforeTheStep) {
  OneParameter p;
  LossScaler scaler(true, 1024);
  EXPECT_TRUE(scaler.BackwardAndStep(p.Loss(2), p.adam));
  EXPECT_EQ(p.weight.grad().item<double>(), 2);
  EXPECT_LT(p.weight.item<double>(), 1);
  EXPECT_EQ(scaler.scale(), 1024);
}

TEST(TrainingOptimizerTest, ScalerSkipsNonFiniteStepsAndHalvesTheScale) {
  OneParameter p;
  LossScaler scaler(true, 2);
  EXPECT_FALSE(scaler.BackwardAndStep(p.Loss(std::numeric_limits<double>::infinity()), p.adam));
  EXPECT_EQ(p.weight.item<double>(), 1);
  EXPECT_EQ(scaler.scale(), 1);
  p.adam.zero_grad();
  EXPECT_FALSE(scaler.BackwardAndStep(p.Loss(std::numeric_limits<double>::infinity()), p.adam));
  EXPECT_EQ(scaler.scale(), 1);  // never below 1
}

TEST(TrainingOptimizerTest, ScalerDoublesAfterEnoughFiniteSteps) {
  OneParameter p;
  LossScaler scaler(true, 8);
  for (int i = 0; i < LossScaler::kGrowthInterval - 1; ++i) {
    p.adam.zero_grad();
    ASSERT_TRUE(scaler.BackwardAndStep(p.Loss(1e-3), p.adam));
  }
  EXPECT_EQ(scaler.scale(), 8);
  p.adam.zero_grad();
  ASSERT_TRUE(scaler.BackwardAndStep(p.Loss(1e-3), p.adam));
  EXPECT_EQ(scaler.scale(), 16);
}

}  // namespace
}  // namespace posefix
