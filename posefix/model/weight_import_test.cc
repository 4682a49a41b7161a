#include "posefix/model/weight_import.h"

#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include <ATen/Parallel.h>
#include <torch/utils.h>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "posefix/core/file_util.h"

namespace posefix {
namespace {

using ::testing::HasSubstr;

std::string OutDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return absl::StrCat(dir != nullptr ? dir : "/tmp", "/torchvision");
}

std::string Stem(int depth) { return absl::StrCat(OutDir(), "/resnet", depth); }

torch::Tensor ReadFloats(const std::string& path, const std::vector<int64_t>& shape) {
  absl::StatusOr<std::string> bytes = ReadFileToString(path);
  EXPECT_TRUE(bytes.ok()) << bytes.status();
  if (!bytes.ok()) return torch::Tensor();
  const torch::Tensor tensor = torch::empty(shape, torch::kFloat);
  EXPECT_EQ(static_cast<size_t>(tensor.numel()) * sizeof(float), bytes->size()) << path;
  std::memcpy(tensor.data_ptr<float>(), bytes->data(), bytes->size());
  return tensor;
}

struct Parity {
  torch::Tensor input, features;
};

Parity ReadParity(int depth) {
  absl::StatusOr<std::string> shapes = ReadFileToString(Stem(depth) + "_shapes.txt");
  EXPECT_TRUE(shapes.ok()) << shapes.status();
  std::istringstream lines(shapes.ok() ? *shapes : "");
  std::vector<int64_t> input(4), features(4);
  for (int64_t& d : input) lines >> d;
  for (int64_t& d : features) lines >> d;
  return {ReadFloats(Stem(depth) + "_input.f32", input),
          ReadFloats(Stem(depth) + "_features.f32", features)};
}

double RelativeError(const torch::Tensor& actual, const torch::Tensor& expected) {
  return (actual - expected).norm().item<double>() / expected.norm().item<double>();
}

// Exports the torchvision models once, before any test.
class ExportEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    at::set_num_threads(2);
    const char* python = std::getenv("POSEFIX_PYTHON");
    ASSERT_NE(python, nullptr)
        << "POSEFIX_PYTHON must name a Python with torch and torchvision (.bazelrc sets it)";
    for (int depth : {18, 50}) {
      const std::string command =
          absl::StrCat(python, " posefix/model/export_torchvision_resnet.py --parity --seed 3",
                       " --depth ", depth, " --out ", OutDir());
      ASSERT_EQ(std::system(command.c_str()), 0) << command;
    }
  }
};
::testing::Environment* const kExport =
    ::testing::AddGlobalTestEnvironment(new ExportEnvironment);

class WeightImportTest : public ::testing::TestWithParam<int> {
 protected:

  void ExpectParity(const std::string& weights, int64_t input_channels, ChannelOrder order) {
    const int depth = GetParam();
    torch::manual_seed(11);
    ResNet backbone(depth, input_channels);
    const absl::Status status = ImportTorchvisionResNet(weights, order, *backbone);
    ASSERT_TRUE(status.ok()) << status;
    backbone->eval();
    const Parity parity = ReadParity(depth);
    torch::Tensor image = parity.input;
    if (order == CHANNEL_ORDER_BGR) image = image.flip({1});
    torch::Tensor input = image;
    if (input_channels > 3) {
      // Pose channels without a pose: zero heatmaps add nothing.
      const torch::Tensor poses =
          torch::zeros({image.size(0), input_channels - 3, image.size(2), image.size(3)});
      input = torch::cat({image, poses}, 1);
    }
    torch::NoGradGuard no_grad;
    const torch::Tensor features = backbone->forward(input);
    ASSERT_EQ(features.sizes(), parity.features.sizes());
    const double error = RelativeError(features, parity.features);
    EXPECT_LT(error, 1e-5) << weights;
    EXPECT_GT(parity.features.abs().max().item<double>(), 0);
  }
};

TEST_P(WeightImportTest, TorchScriptMatchesTorchvision) {
  ExpectParity(Stem(GetParam()) + ".pt", 3, CHANNEL_ORDER_RGB);
}

TEST_P(WeightImportTest, StateDictMatchesTorchvision) {
  ExpectParity(Stem(GetParam()) + "_state_dict.pt", 3, CHANNEL_ORDER_RGB);
}

TEST_P(WeightImportTest, PoseChannelsKeepTheirInitAndBgrInputMatches) {
  torch::manual_seed(11);
  ResNet fresh(GetParam(), 20);
  const torch::Tensor before = fresh->conv1()->weight.detach().clone();
  ASSERT_TRUE(ImportTorchvisionResNet(Stem(GetParam()) + ".pt", CHANNEL_ORDER_BGR, *fresh).ok());
  EXPECT_TRUE(torch::equal(fresh->conv1()->weight.narrow(1, 3, 17), before.narrow(1, 3, 17)));
  EXPECT_FALSE(torch::equal(fresh->conv1()->weight.narrow(1, 0, 3), before.narrow(1, 0, 3)));
  ExpectParity(Stem(GetParam()) + ".pt", 20, CHANNEL_ORDER_BGR);
}

INSTANTIATE_TEST_SUITE_P(Depths, WeightImportTest, ::testing::Values(18, 50),
                         [](const auto& info) { return absl::StrCat("ResNet", info.param); });

TEST(WeightImportErrorsTest, NamesTheFileAndTheParameter) {
  ResNet r34(34, 3);
  const std::string r18 = Stem(18) + ".pt";
  EXPECT_THAT(std::string(ImportTorchvisionResNet(r18, CHANNEL_ORDER_RGB, *r34).message()),
              HasSubstr(r18 + ": layer1.2."));
  ResNet r18_net(18, 3);
  const std::string r50 = Stem(50) + "_state_dict.pt";
  const absl::Status wrong = ImportTorchvisionResNet(r50, CHANNEL_ORDER_RGB, *r18_net);
  EXPECT_THAT(std::string(wrong.message()), HasSubstr(r50 + ": "));
  EXPECT_FALSE(wrong.ok());
  const std::string garbage = OutDir() + "/garbage.pt";
  ASSERT_TRUE(WriteFileAtomically(garbage, "garbage").ok());
  EXPECT_THAT(std::string(ImportTorchvisionResNet(garbage, CHANNEL_ORDER_RGB, *r18_net).message()),
              HasSubstr("neither a TorchScript file"));
  const std::string ordered = Stem(18) + "_ordered_state_dict.pt";
  EXPECT_THAT(std::string(ImportTorchvisionResNet(ordered, CHANNEL_ORDER_RGB, *r18_net).message()),
              HasSubstr("torch.save(dict(model.state_dict()), path)"));
  EXPECT_EQ(ImportTorchvisionResNet(OutDir() + "/missing.pt", CHANNEL_ORDER_RGB, *r18_net).code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace posefix
