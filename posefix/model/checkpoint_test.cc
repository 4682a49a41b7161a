#include "posefix/model/checkpoint.h"

#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <torch/optim/adam.h>
#include <torch/serialize/archive.h>
#include <torch/utils.h>

#include <cstdlib>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "posefix/core/file_util.h"

namespace posefix {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir != nullptr ? dir : "/tmp") + "/" + name;
}

ModelOptions SmallOptions(int depth = 18) {
  ModelOptions options;
  options.set_resnet_depth(depth);
  options.set_input_height(64);
  options.set_input_width(64);
  options.set_num_keypoints(5);
  return options;
}

PoseFixNet MakeNet(const ModelOptions& options, uint64_t seed) {
  torch::manual_seed(seed);
  return PoseFixNet(*ResolveModelOptions(options));
}

torch::optim::Adam MakeAdam(PoseFixNet& net) {
  return torch::optim::Adam(net->parameters(), torch::optim::AdamOptions(1e-3));
}

void TrainStep(PoseFixNet& net, torch::optim::Optimizer& optimizer) {
  torch::manual_seed(99);
  const torch::Tensor input = torch::randn({2, 8, 64, 64}, net->parameters()[0].options());
  optimizer.zero_grad();
  net->forward(input).pow(2).mean().backward();
  optimizer.step();
}

void ExpectSameState(PoseFixNet& a, PoseFixNet& b) {
  const auto pb = b->named_parameters();
  for (const auto& item : a->named_parameters()) {
    EXPECT_TRUE(torch::equal(item.value().cpu(), pb[item.key()].cpu())) << item.key();
  }
  const auto bb = b->named_buffers();
  for (const auto& item : a->named_buffers()) {
    EXPECT_TRUE(torch::equal(item.value().cpu(), bb[item.key()].cpu())) << item.key();
  }
}

class CheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override { at::set_num_threads(2); }
};

TEST_F(CheckpointTest, RoundTripRestoresModelOptimizerAndStep) {
  const ModelOptions options = SmallOptions();
  PoseFixNet net = MakeNet(options, 1);
  torch::optim::Adam adam = MakeAdam(net);
  TrainStep(net, adam);
  TrainStep(net, adam);
  const std::string path = TempPath("round_trip.ckpt");
  ASSERT_TRUE(SaveCheckpoint(path, options, *net, &adam, 2).ok());

  PoseFixNet restored = MakeNet(options, 2);
  torch::optim::Adam restored_adam = MakeAdam(restored);
  absl::StatusOr<CheckpointInfo> info = LoadCheckpoint(path, *restored, &restored_adam);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->step, 2);
  EXPECT_EQ(info->format_version, kCheckpointFormatVersion);
  EXPECT_TRUE(info->has_optimizer);
  EXPECT_EQ(info->options.SerializeAsString(), options.SerializeAsString());
  ExpectSameState(net, restored);
  // The optimizer's moments came back too: one more step stays identical.
  TrainStep(net, adam);
  TrainStep(restored, restored_adam);
  ExpectSameState(net, restored);

  absl::StatusOr<CheckpointInfo> header = ReadCheckpointInfo(path);
  ASSERT_TRUE(header.ok()) << header.status();
  EXPECT_EQ(header->step, 2);
  EXPECT_EQ(header->options.resnet_depth(), 18);
}

TEST_F(CheckpointTest, InferenceOnlyCheckpoint) {
  const ModelOptions options = SmallOptions();
  PoseFixNet net = MakeNet(options, 1);
  const std::string path = TempPath("inference.ckpt");
  ASSERT_TRUE(SaveCheckpoint(path, options, *net, nullptr, 0).ok());
  PoseFixNet restored = MakeNet(options, 5);
  ASSERT_TRUE(LoadCheckpoint(path, *restored, nullptr).ok());
  ExpectSameState(net, restored);
  torch::optim::Adam adam = MakeAdam(restored);
  const absl::Status status = LoadCheckpoint(path, *restored, &adam).status();
  EXPECT_THAT(std::string(status.message()), HasSubstr(path + ": optimizer:"));
}

TEST_F(CheckpointTest, RefusesAnotherArchitecture) {
  const std::string path = TempPath("r18.ckpt");
  PoseFixNet net = MakeNet(SmallOptions(18), 1);
  ASSERT_TRUE(SaveCheckpoint(path, SmallOptions(18), *net, nullptr, 0).ok());
  PoseFixNet r34 = MakeNet(SmallOptions(34), 1);
  EXPECT_THAT(std::string(LoadCheckpoint(path, *r34, nullptr).status().message()),
              HasSubstr("model_options.resnet_depth: checkpoint has 18, the model has 34"));
  ModelOptions no_pose = SmallOptions(18);
  no_pose.set_input_encoding(POSE_INPUT_NONE);
  PoseFixNet estimator = MakeNet(no_pose, 1);
  EXPECT_THAT(std::string(LoadCheckpoint(path, *estimator, nullptr).status().message()),
              HasSubstr("model_options.input_encoding"));
  ModelOptions narrow_head = SmallOptions(18);
  narrow_head.set_head_channels(64);
  PoseFixNet narrow = MakeNet(narrow_head, 1);
  EXPECT_THAT(std::string(LoadCheckpoint(path, *narrow, nullptr).status().message()),
              HasSubstr("model_options.head_channels: checkpoint has 256, the model has 64"));
}

TEST_F(CheckpointTest, RefusesAnotherBackboneOrStatusHead) {
  const std::string path = TempPath("r18_for_lite.ckpt");
  PoseFixNet net = MakeNet(SmallOptions(18), 1);
  ASSERT_TRUE(SaveCheckpoint(path, SmallOptions(18), *net, nullptr, 0).ok());
  ModelOptions lite = SmallOptions(18);
  lite.clear_resnet_depth();
  lite.set_backbone(BACKBONE_EFFICIENTNET_LITE0);
  PoseFixNet lite_net = MakeNet(lite, 1);
  EXPECT_THAT(std::string(LoadCheckpoint(path, *lite_net, nullptr).status().message()),
              HasSubstr("model_options.backbone: checkpoint has BACKBONE_RESNET"));
  ModelOptions with_head = SmallOptions(18);
  with_head.mutable_status_head()->set_enabled(true);
  PoseFixNet head_net = MakeNet(with_head, 1);
  EXPECT_THAT(std::string(LoadCheckpoint(path, *head_net, nullptr).status().message()),
              HasSubstr("model_options.status_head.enabled"));
  // A Lite network with a status head round-trips.
  lite.mutable_status_head()->set_enabled(true);
  const std::string lite_path = TempPath("lite.ckpt");
  PoseFixNet a = MakeNet(lite, 2), b = MakeNet(lite, 3);
  ASSERT_TRUE(SaveCheckpoint(lite_path, lite, *a, nullptr, 7).ok());
  ASSERT_TRUE(LoadCheckpoint(lite_path, *b, nullptr).ok());
  const auto parameters = b->named_parameters();
  for (const auto& item : a->named_parameters()) {
    EXPECT_TRUE(torch::equal(item.value(), parameters[item.key()])) << item.key();
  }
}

TEST_F(CheckpointTest, RefusesUnknownVersionsAndOtherFiles) {
  const std::string path = TempPath("future.ckpt");
  {
    torch::serialize::OutputArchive archive;
    archive.write("posefix_format_version", c10::IValue(int64_t{999}));
    archive.save_to(path);
  }
  EXPECT_THAT(std::string(ReadCheckpointInfo(path).status().message()),
              HasSubstr(path + ": posefix_format_version: version 999 is not supported"));
  const std::string garbage = TempPath("garbage.ckpt");
  ASSERT_TRUE(WriteFileAtomically(garbage, "not a zip file").ok());
  EXPECT_THAT(std::string(ReadCheckpointInfo(garbage).status().message()),
              HasSubstr(garbage + ": not a readable checkpoint"));
  // One line for the user, not LibTorch's C++ stack trace.
  EXPECT_THAT(std::string(ReadCheckpointInfo(garbage).status().message()),
              Not(HasSubstr("Exception raised from")));
  EXPECT_EQ(ReadCheckpointInfo(TempPath("missing.ckpt")).status().code(),
            absl::StatusCode::kNotFound);
  {
    torch::serialize::OutputArchive archive;
    archive.write("weights", torch::zeros({2}));
    archive.save_to(TempPath("other.pt"));
  }
  EXPECT_THAT(std::string(ReadCheckpointInfo(TempPath("other.pt")).status().message()),
              HasSubstr("not a PoseFix checkpoint"));
}

TEST_F(CheckpointTest, TensorsAreMappedOntoTheModelsDevice) {
  const ModelOptions options = SmallOptions();
  PoseFixNet net = MakeNet(options, 1);
  torch::optim::Adam adam = MakeAdam(net);
  TrainStep(net, adam);
  const std::string cpu_path = TempPath("cpu.ckpt");
  ASSERT_TRUE(SaveCheckpoint(cpu_path, options, *net, &adam, 1).ok());
  PoseFixNet cpu_net = MakeNet(options, 3);
  ASSERT_TRUE(LoadCheckpoint(cpu_path, *cpu_net, nullptr).ok());
  for (const torch::Tensor& p : cpu_net->parameters()) EXPECT_TRUE(p.device().is_cpu());
  if (!torch::cuda::is_available()) {
    GTEST_SKIP() << "No CUDA device visible to LibTorch: the CPU -> CUDA -> CPU round trip "
                    "runs only on a CUDA build (--config=cuda) with a GPU.";
  }
  const torch::Device cuda(torch::kCUDA);
  PoseFixNet gpu_net = MakeNet(options, 4);
  gpu_net->to(cuda);
  torch::optim::Adam gpu_adam = MakeAdam(gpu_net);
  ASSERT_TRUE(LoadCheckpoint(cpu_path, *gpu_net, &gpu_adam).ok());
  for (const torch::Tensor& p : gpu_net->parameters()) EXPECT_TRUE(p.device().is_cuda());
  ExpectSameState(net, gpu_net);
  TrainStep(gpu_net, gpu_adam);  // optimizer state is usable on the GPU
  const std::string gpu_path = TempPath("gpu.ckpt");
  ASSERT_TRUE(SaveCheckpoint(gpu_path, options, *gpu_net, &gpu_adam, 2).ok());
  PoseFixNet back = MakeNet(options, 5);
  torch::optim::Adam back_adam = MakeAdam(back);
  ASSERT_TRUE(LoadCheckpoint(gpu_path, *back, &back_adam).ok());
  for (const torch::Tensor& p : back->parameters()) EXPECT_TRUE(p.device().is_cpu());
  ExpectSameState(gpu_net, back);
  TrainStep(back, back_adam);
}

}  // namespace
}  // namespace posefix
