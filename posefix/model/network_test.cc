#include "posefix/model/network.h"

#include <memory>
#include <string>
#include <vector>

#include <ATen/Parallel.h>
#include <torch/autograd.h>
#include <torch/cuda.h>
#include <torch/utils.h>

#include "gtest/gtest.h"
#include "posefix/model/codec.h"

namespace posefix {
namespace {

class NetworkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    at::set_num_threads(2);
    torch::manual_seed(7);
  }
};

ResolvedModelOptions Options(int depth, int height, int width, PoseInputEncoding input,
                             PoseOutputEncoding output) {
  ResolvedModelOptions options;
  options.resnet_depth = depth;
  options.input_height = height;
  options.input_width = width;
  options.input_encoding = input;
  options.output_encoding = output;
  if (output == POSE_OUTPUT_GAUSSIAN) options.use_heatmap_loss = options.use_coordinate_loss = false;
  return options;
}

TEST_F(NetworkTest, ParameterNamesFollowTorchvision) {
  PoseFixNet net(Options(50, 64, 64, POSE_INPUT_COARSE, POSE_OUTPUT_INTEGRAL));
  const auto parameters = net->named_parameters();
  const auto buffers = net->named_buffers();
  for (const std::string name :
       {"backbone.conv1.weight", "backbone.bn1.weight", "backbone.layer1.0.conv3.weight",
        "backbone.layer1.0.downsample.0.weight", "backbone.layer4.2.bn3.bias",
        "deconv_layers.0.weight", "deconv_layers.7.weight", "final_layer.weight",
        "final_layer.bias"}) {
    EXPECT_NE(parameters.find(name), nullptr) << name;
  }
  EXPECT_NE(buffers.find("backbone.bn1.running_mean"), nullptr);
  EXPECT_NE(buffers.find("backbone.layer2.0.downsample.1.running_var"), nullptr);
  EXPECT_EQ(parameters["backbone.conv1.weight"].sizes(), at::IntArrayRef({64, 20, 7, 7}));
  EXPECT_EQ(net->backbone()->out_channels(), 2048);
}

TEST_F(NetworkTest, ParameterCountsMatchTorchvision) {
  // torchvision's resnet18 / resnet50 without fc: 11,689,512 - 513,000 and
  // 25,557,032 - 2,049,000 with a 3-channel conv1.
  ResNet r18(18, 3), r50(50, 3);
  EXPECT_EQ(CountParameters(*r18), 11689512 - 513000);
  EXPECT_EQ(CountParameters(*r50), 25557032 - 2049000);
  ResNet r34(34, 3), r101(101, 3), r152(152, 3);
  EXPECT_EQ(CountParameters(*r34), 21797672 - 513000);
  EXPECT_EQ(CountParameters(*r101), 44549160 - 2049000);
  EXPECT_EQ(CountParameters(*r152), 60192808 - 2049000);
}

TEST_F(NetworkTest, OutputShapesOfEveryDepth) {
  for (int depth : {18, 34, 50, 101, 152}) {
    PoseFixNet net(Options(depth, 64, 32, POSE_INPUT_COARSE, POSE_OUTPUT_INTEGRAL));
    torch::NoGradGuard no_grad;
    net->eval();
    const torch::Tensor out = net->forward(torch::randn({2, 20, 64, 32}));
    EXPECT_EQ(out.sizes(), at::IntArrayRef({2, 17, 16, 8})) << depth;
  }
}

TEST_F(NetworkTest, OutputShapesOfEveryVariantAndInputSize) {
  struct Size {
    int height, width;
  };
  for (Size size : {Size{256, 192}, Size{384, 288}, Size{96, 64}}) {
    for (PoseInputEncoding input : {POSE_INPUT_COARSE, POSE_INPUT_FINE, POSE_INPUT_NONE}) {
      for (PoseOutputEncoding output : {POSE_OUTPUT_INTEGRAL, POSE_OUTPUT_GAUSSIAN}) {
        const ResolvedModelOptions options = Options(18, size.height, size.width, input, output);
        PoseFixNet net(options);
        net->eval();
        const std::unique_ptr<PoseCodec> codec = PoseCodec::Create(options);
        torch::NoGradGuard no_grad;
        const torch::Tensor crops = torch::randint(0, 255, {1, size.height, size.width, 3},
                                                   torch::TensorOptions(torch::kByte));
        const torch::Tensor poses = torch::rand({1, 17, 3}) * size.width;
        const torch::Tensor out = net->forward(codec->EncodeInput(crops, poses));
        EXPECT_EQ(out.sizes(), at::IntArrayRef({1, 17, size.height / 4, size.width / 4}))
            << VariantName(options) << " " << size.height << "x" << size.width;
        EXPECT_EQ(codec->Decode(out).sizes(), at::IntArrayRef({1, 17, 2}));
        EXPECT_TRUE(torch::isfinite(out).all().item<bool>());
      }
    }
  }
}

TEST_F(NetworkTest, FastTransposedConvolutionEqualsTorchs) {
  torch::nn::ConvTranspose2d up(
      torch::nn::ConvTranspose2dOptions(16, 8, 4).stride(2).padding(1).bias(false));
  const torch::Tensor x = torch::randn({2, 16, 5, 3}, torch::requires_grad());
  const torch::Tensor expected = up->forward(x);
  const torch::Tensor actual = ConvTranspose4x4Stride2(x, up->weight);
  ASSERT_EQ(actual.sizes(), expected.sizes());
  EXPECT_TRUE(torch::allclose(actual, expected, 1e-5, 1e-5));
  const torch::Tensor grad = torch::randn_like(expected);
  const auto expected_grads = torch::autograd::grad({expected}, {x, up->weight}, {grad});
  const auto actual_grads = torch::autograd::grad({actual}, {x, up->weight}, {grad});
  EXPECT_TRUE(torch::allclose(actual_grads[0], expected_grads[0], 1e-5, 1e-5));
  EXPECT_TRUE(torch::allclose(actual_grads[1], expected_grads[1], 1e-4, 1e-5));
}

TEST_F(NetworkTest, RejectsAWrongInput) {
  PoseFixNet net(Options(18, 64, 64, POSE_INPUT_COARSE, POSE_OUTPUT_INTEGRAL));
  EXPECT_THROW(net->forward(torch::zeros({1, 3, 64, 64})), c10::Error);
  EXPECT_THROW(net->forward(torch::zeros({1, 20, 60, 64})), c10::Error);
}

TEST_F(NetworkTest, GradientsReachEveryParameterInEveryVariant) {
  for (int depth : {18, 50}) {
    for (PoseInputEncoding input : {POSE_INPUT_COARSE, POSE_INPUT_FINE, POSE_INPUT_NONE}) {
      for (PoseOutputEncoding output : {POSE_OUTPUT_INTEGRAL, POSE_OUTPUT_GAUSSIAN}) {
        if (depth == 50 && input != POSE_INPUT_COARSE) continue;  // depth is orthogonal
        const ResolvedModelOptions options = Options(depth, 64, 64, input, output);
        PoseFixNet net(options);
        net->train();
        const std::unique_ptr<PoseCodec> codec = PoseCodec::Create(options);
        const torch::Tensor crops =
            torch::randint(0, 255, {2, 64, 64, 3}, torch::TensorOptions(torch::kByte));
        torch::Tensor poses = torch::rand({2, 17, 3}) * 60;
        poses.select(2, 2).fill_(2);
        const torch::Tensor truth = poses + torch::randn({2, 17, 3}) * 3;
        const Losses losses =
            codec->Loss(net->forward(codec->EncodeInput(crops, poses)), codec->EncodeTargets(truth));
        ASSERT_GT(losses.total.item<float>(), 0) << VariantName(options);
        losses.total.backward();
        for (const auto& item : net->named_parameters()) {
          const torch::Tensor& grad = item.value().grad();
          ASSERT_TRUE(grad.defined()) << VariantName(options) << " " << item.key();
          EXPECT_TRUE(torch::isfinite(grad).all().item<bool>()) << item.key();
          EXPECT_GT(grad.abs().max().item<double>(), 0)
              << VariantName(options) << " R" << depth << " " << item.key();
        }
      }
    }
  }
}

TEST_F(NetworkTest, SameSeedSameNetwork) {
  const ResolvedModelOptions options = Options(18, 64, 64, POSE_INPUT_COARSE, POSE_OUTPUT_INTEGRAL);
  torch::manual_seed(3);
  PoseFixNet a(options);
  torch::manual_seed(3);
  PoseFixNet b(options);
  const auto pa = a->named_parameters(), pb = b->named_parameters();
  for (const auto& item : pa) EXPECT_TRUE(torch::equal(item.value(), pb[item.key()])) << item.key();
}

TEST_F(NetworkTest, ParseDevice) {
  EXPECT_EQ(*ParseDevice("cpu", "device"), torch::Device(torch::kCPU));
  EXPECT_EQ(*ParseDevice("auto", "device"), PreferredDevice());
  EXPECT_FALSE(ParseDevice("tpu", "device").ok());
  EXPECT_NE(std::string(ParseDevice("gpu0", "opts.device").status().message()).find("opts.device"),
            std::string::npos);
  if (!torch::cuda::is_available()) {
    EXPECT_FALSE(ParseDevice("cuda", "device").ok());
    EXPECT_EQ(PreferredDevice(), torch::Device(torch::kCPU));
  } else {
    EXPECT_TRUE(ParseDevice("cuda:0", "device").ok());
  }
}

}  // namespace
}  // namespace posefix
