#include "posefix/model/training_step.h"

#include <torch/types.h>
#include <torch/utils.h>

#include <filesystem>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "posefix/core/test_util.h"
#include "posefix/model/checkpoint.h"
#include "posefix/model/training_optimizer.h"

namespace posefix {
namespace {

namespace fs = std::filesystem;

constexpr int kSize = 64;
constexpr int kJoints = 5;

std::string TempDir(const std::string& name) {
  const fs::path dir = fs::path(::testing::TempDir()) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

ModelOptions Small(PoseInputEncoding input) {
  ModelOptions options;
  options.set_resnet_depth(18);
  options.set_input_height(kSize);
  options.set_input_width(kSize);
  options.set_num_keypoints(kJoints);
  options.set_input_encoding(input);
  return options;
}

// An ESTIMATOR checkpoint for E2E_REFINE.
std::string SaveEstimator(const std::string& dir, PoseInputEncoding input) {
  const std::string path = (fs::path(dir) / "estimator.pt").string();
  torch::manual_seed(3);
  PoseFixNetImpl estimator(*ResolveModelOptions(Small(input)));
  EXPECT_TRUE(SaveCheckpoint(path, Small(input), estimator, nullptr, 0).ok());
  return path;
}

TrainingNetworks Networks(const std::string& estimator_checkpoint, uint64_t seed) {
  return OrFail(CreateTrainingNetworks(*ResolveModelOptions(Small(POSE_INPUT_COARSE)),
                                       estimator_checkpoint, "", seed, torch::kCPU));
}

// Two samples with every keypoint labelled inside the crop.
PackedBatch Batch() {
  std::vector<TrainingSample> samples(2);
  for (int i = 0; i < 2; ++i) {
    samples[i].crop = cv::Mat(kSize, kSize, CV_8UC3, cv::Scalar(40 * i, 90, 150));
    for (int j = 0; j < kJoints; ++j) {
      samples[i].target.push_back({10.0 + 8 * j, 12.0 + 7 * j + i, 2.0});
      samples[i].input.push_back({12.0 + 8 * j, 10.0 + 7 * j, 1.0});
    }
  }
  return OrFail(PackSamples(samples, kSize, kSize, kJoints));
}

bool SameParameters(torch::nn::Module& a, torch::nn::Module& b) {
  const auto params_b = b.named_parameters();
  for (const auto& item : a.named_parameters()) {
    if (!item.value().equal(params_b[item.key()])) return false;
  }
  return true;
}

bool HasGradient(torch::nn::Module& module) {
  for (const torch::Tensor& p : module.parameters()) {
    if (p.grad().defined() && p.grad().abs().sum().item<double>() > 0) return true;
  }
  return false;
}

TEST(TrainingStepTest, TheSeedFixesTheModel) {
  TrainingNetworks a = Networks("", 5), b = Networks("", 5), c = Networks("", 6);
  EXPECT_TRUE(SameParameters(*a.net, *b.net));
  EXPECT_FALSE(SameParameters(*a.net, *c.net));
  EXPECT_EQ(a.Modules().size(), 1u);
}

TEST(TrainingStepTest, ModelStepTrainsTheModel) {
  TrainingNetworks nets = Networks("", 1);
  const auto codec = PoseCodec::Create(nets.net->options());
  const PackedBatch batch = Batch();
  const std::unique_ptr<TrainingStep> step =
      CreateTrainingStep(nets, *codec, torch::kCPU, /*autocast=*/false);
  const Losses losses = step->Forward(batch, EncodeBatch(batch, *codec, torch::kCPU));
  ASSERT_TRUE(losses.total.defined());
  EXPECT_GT(losses.total.item<double>(), 0);
  losses.total.backward();
  EXPECT_TRUE(HasGradient(*nets.net));
}

TEST(TrainingStepTest, EndToEndLossReachesTheEstimator) {
  const std::string dir = TempDir("e2e");
  TrainingNetworks nets = Networks(SaveEstimator(dir, POSE_INPUT_NONE), 1);
  ASSERT_TRUE(nets.estimator.has_value());
  EXPECT_EQ(nets.Modules().size(), 2u);
  const auto codec = PoseCodec::Create(nets.net->options());
  const PackedBatch batch = Batch();
  const std::unique_ptr<TrainingStep> step =
      CreateTrainingStep(nets, *codec, torch::kCPU, /*autocast=*/false);
  const Losses losses = step->Forward(batch, EncodeBatch(batch, *codec, torch::kCPU));
  losses.total.backward();
  EXPECT_TRUE(HasGradient(*nets.net));
  EXPECT_TRUE(HasGradient(*nets.estimator->net));
}

TEST(TrainingStepTest, EndToEndRefusesAnEstimatorWithPoseInput) {
  const std::string dir = TempDir("refiner_as_estimator");
  const std::string path = SaveEstimator(dir, POSE_INPUT_COARSE);
  absl::StatusOr<TrainingNetworks> nets = CreateTrainingNetworks(
      *ResolveModelOptions(Small(POSE_INPUT_COARSE)), path, "", 1, torch::kCPU);
  ASSERT_FALSE(nets.ok());
  EXPECT_NE(nets.status().message().find("must take no pose input"), std::string::npos)
      << nets.status();
}

TEST(TrainingStepTest, SavedNetworksLoadBackWithTheirEstimator) {
  const std::string dir = TempDir("save_load");
  TrainingNetworks saved = Networks(SaveEstimator(dir, POSE_INPUT_NONE), 1);
  {
    // Fine-tuned away from the estimator checkpoint the next networks start from.
    torch::NoGradGuard no_grad;
    for (torch::Tensor& p : saved.estimator->net->parameters()) p.add_(0.5);
  }
  TrainingOptions options;
  options.set_learning_rate(1e-3);
  torch::optim::Adam adam = MakeAdam(saved.Modules(), options);
  ASSERT_TRUE(
      SaveTrainingNetworks(dir, "epoch_0000.pt", Small(POSE_INPUT_COARSE), saved, adam, 4).ok());
  EXPECT_TRUE(fs::exists(fs::path(dir) / "epoch_0000.estimator.pt"));

  TrainingNetworks loaded = Networks(SaveEstimator(dir, POSE_INPUT_NONE), 2);
  torch::optim::Adam loaded_adam = MakeAdam(loaded.Modules(), options);
  ASSERT_FALSE(SameParameters(*saved.net, *loaded.net));
  ASSERT_FALSE(SameParameters(*saved.estimator->net, *loaded.estimator->net));
  ASSERT_TRUE(
      LoadTrainingNetworks(dir, "epoch_0000.pt", saved.net->options(), loaded, loaded_adam).ok());
  EXPECT_TRUE(SameParameters(*saved.net, *loaded.net));
  EXPECT_TRUE(SameParameters(*saved.estimator->net, *loaded.estimator->net));
}

TEST(TrainingStepTest, LoadingRefusesAnotherInputSize) {
  const std::string dir = TempDir("input_size");
  TrainingNetworks saved = Networks("", 1);
  TrainingOptions options;
  torch::optim::Adam adam = MakeAdam(saved.Modules(), options);
  ASSERT_TRUE(
      SaveTrainingNetworks(dir, "epoch_0000.pt", Small(POSE_INPUT_COARSE), saved, adam, 1).ok());
  ModelOptions wider = Small(POSE_INPUT_COARSE);
  wider.set_input_width(kSize + 32);
  const absl::Status status =
      LoadTrainingNetworks(dir, "epoch_0000.pt", *ResolveModelOptions(wider), saved, adam);
  EXPECT_NE(status.message().find("the run in this directory trains at 64x64"), std::string::npos)
      << status;
}

}  // namespace
}  // namespace posefix
