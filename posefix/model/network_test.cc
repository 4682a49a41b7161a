#include "posefix/model/network.h"

#include <ATen/Parallel.h>
#include <torch/autograd.h>
#include <torch/cuda.h>
#include <torch/utils.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
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
  ResolvedModelOptions options = *ResolveModelOptions(ModelOptions());
  options.resnet_depth = depth;
  options.input_height = height;
  options.input_width = width;
  options.input_encoding = input;
  options.output_encoding = output;
  if (output == POSE_OUTPUT_GAUSSIAN)
    options.use_heatmap_loss = options.use_coordinate_loss = false;
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
  EXPECT_EQ(net->resnet()->out_channels(), 2048);
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

TEST_F(NetworkTest, EfficientNetLiteMatchesTheReferenceArchitecture) {
  // efficientnet-lite-pytorch's models without _fc: parameter counts and
  // block counts (16, 21, 21).
  struct Expected {
    Backbone variant;
    int64_t parameters;
    size_t blocks;
  };
  for (const Expected& e : {Expected{BACKBONE_EFFICIENTNET_LITE0, 3371008, 16},
                            Expected{BACKBONE_EFFICIENTNET_LITE1, 4135680, 21},
                            Expected{BACKBONE_EFFICIENTNET_LITE2, 4811072, 21}}) {
    EfficientNetLite lite(e.variant, 3);
    EXPECT_EQ(CountParameters(*lite), e.parameters) << Backbone_Name(e.variant);
    const auto parameters = lite->named_parameters();
    EXPECT_NE(parameters.find(absl::StrCat("_blocks.", e.blocks - 1, "._project_conv.weight")),
              nullptr);
    EXPECT_EQ(parameters.find(absl::StrCat("_blocks.", e.blocks, "._project_conv.weight")),
              nullptr);
    EXPECT_EQ(parameters.find("_blocks.0._expand_conv.weight"), nullptr);  // ratio 1
    EXPECT_NE(parameters.find("_blocks.1._expand_conv.weight"), nullptr);
    EXPECT_EQ(lite->out_channels(), 1280);
  }
}

TEST_F(NetworkTest, LiteNetworkAndStatusHeadShapes) {
  ResolvedModelOptions options = Options(0, 128, 96, POSE_INPUT_COARSE, POSE_OUTPUT_INTEGRAL);
  options.backbone = BACKBONE_EFFICIENTNET_LITE0;
  options.status_head = true;
  options.head_channels = 64;
  PoseFixNet net(options);
  const auto parameters = net->named_parameters();
  EXPECT_EQ(parameters["backbone._conv_stem.weight"].sizes(), at::IntArrayRef({32, 20, 3, 3}));
  EXPECT_EQ(parameters["deconv_layers.0.weight"].sizes(), at::IntArrayRef({1280, 64, 4, 4}));
  EXPECT_EQ(parameters["deconv_layers.3.weight"].sizes(), at::IntArrayRef({64, 64, 4, 4}));
  EXPECT_EQ(parameters["final_layer.weight"].sizes(), at::IntArrayRef({17, 64, 1, 1}));
  EXPECT_EQ(parameters["status_layer.weight"].sizes(), at::IntArrayRef({85, 64, 1, 1}));
  net->train();
  const std::unique_ptr<PoseCodec> codec = PoseCodec::Create(options);
  const torch::Tensor crops =
      torch::randint(0, 255, {2, 128, 96, 3}, torch::TensorOptions(torch::kByte));
  torch::Tensor poses = torch::rand({2, 17, 3}) * 90;
  poses.select(2, 2).fill_(1);
  poses[0][3][0] = std::nan("");  // a missing point reads the border
  const NetworkOutput out = net->Run(codec->EncodeInput(crops, poses), poses);
  EXPECT_EQ(out.heatmaps.sizes(), at::IntArrayRef({2, 17, 32, 24}));
  ASSERT_TRUE(out.status_logits.defined());
  EXPECT_EQ(out.status_logits.sizes(), at::IntArrayRef({2, 17, kNumInputStatuses}));
  EXPECT_TRUE(torch::isfinite(out.status_logits).all().item<bool>());
  // Every parameter, the status layer's included, gets a gradient.
  const torch::Tensor labels = torch::randint(0, kNumInputStatuses, {2, 17}, torch::kLong);
  (codec->Loss(out.heatmaps, codec->EncodeTargets(poses)).total +
   StatusLoss(out.status_logits, labels))
      .backward();
  for (const auto& item : net->named_parameters()) {
    ASSERT_TRUE(item.value().grad().defined()) << item.key();
    EXPECT_GT(item.value().grad().abs().max().item<double>(), 0) << item.key();
  }
  EXPECT_FALSE(net->Run(codec->EncodeInput(crops, poses), torch::Tensor()).status_logits.defined());
}

TEST_F(NetworkTest, StatusLogitsAreReadAtTheInputPoint) {
  ResolvedModelOptions options = Options(18, 64, 64, POSE_INPUT_COARSE, POSE_OUTPUT_INTEGRAL);
  options.status_head = true;
  PoseFixNet net(options);
  net->eval();
  torch::NoGradGuard no_grad;
  const torch::Tensor input = torch::randn({1, 20, 64, 64});
  torch::Tensor a = torch::full({1, 17, 3}, 20.0), b = a.clone();
  b[0][4][0] = 44;  // only joint 4 moves
  const torch::Tensor la = net->Run(input, a).status_logits;
  const torch::Tensor lb = net->Run(input, b).status_logits;
  EXPECT_TRUE(torch::equal(la.narrow(1, 0, 4), lb.narrow(1, 0, 4)));
  EXPECT_FALSE(torch::equal(la.select(1, 4), lb.select(1, 4)));
}

TEST_F(NetworkTest, PadSameIsTensorFlows) {
  const torch::Tensor x = torch::ones({1, 1, 8, 6});
  // Stride 2, kernel 3 on even sizes: one pixel at the bottom and right.
  const torch::Tensor p3 = PadSame(x, 3, 2);
  EXPECT_EQ(p3.sizes(), at::IntArrayRef({1, 1, 9, 7}));
  EXPECT_EQ(p3[0][0][0][0].item<float>(), 1);
  EXPECT_EQ(p3[0][0][8][6].item<float>(), 0);
  // Kernel 5: one before, two after.
  const torch::Tensor p5 = PadSame(x, 5, 2);
  EXPECT_EQ(p5.sizes(), at::IntArrayRef({1, 1, 11, 9}));
  EXPECT_EQ(p5[0][0][0][0].item<float>(), 0);
  EXPECT_EQ(p5[0][0][1][1].item<float>(), 1);
  // Odd sizes: kernel 3 pads one on each side.
  EXPECT_EQ(PadSame(torch::ones({1, 1, 7, 7}), 3, 2).sizes(), at::IntArrayRef({1, 1, 9, 9}));
  EXPECT_TRUE(PadSame(x, 3, 1).is_same(x));
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
        const Losses losses = codec->Loss(net->forward(codec->EncodeInput(crops, poses)),
                                          codec->EncodeTargets(truth));
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

TEST_F(NetworkTest, ReleaseInitializationIsTheReleases) {
  ResolvedModelOptions options = Options(18, 64, 64, POSE_INPUT_COARSE, POSE_OUTPUT_INTEGRAL);
  const PoseFixNet simple_baseline(options);
  options.initialization = INITIALIZATION_RELEASE;
  const PoseFixNet release(options);
  // A normal truncated at two standard deviations keeps 0.8796 of its std.
  constexpr double kTruncatedStd = 0.87962566;
  const auto parameters = release->named_parameters();
  auto expect_truncated_normal = [&](const std::string& name, double stddev) {
    const torch::Tensor weight = parameters[name];
    EXPECT_LE(weight.abs().max().item<double>(), 2 * stddev) << name;
    EXPECT_NEAR(weight.std().item<double>(), kTruncatedStd * stddev, 0.05 * stddev) << name;
    EXPECT_NEAR(weight.mean().item<double>(), 0, 0.05 * stddev) << name;
  };
  for (int i : {0, 3, 6})
    expect_truncated_normal(absl::StrCat("deconv_layers.", i, ".weight"), 0.01);
  // TensorFlow's variance scaling: stddev sqrt(1.3 * 2 / fan_in).
  expect_truncated_normal("final_layer.weight", std::sqrt(2.6 / 256));
  expect_truncated_normal("backbone.conv1.weight", std::sqrt(2.6 / (7 * 7 * 20)));
  EXPECT_NEAR(simple_baseline->named_parameters()["deconv_layers.0.weight"].std().item<double>(),
              0.001, 1e-4);
  int batch_norms = 0;
  for (const auto& module : release->modules()) {
    if (const auto* bn = module->as<torch::nn::BatchNorm2d>()) {
      EXPECT_DOUBLE_EQ(*bn->options.momentum(), 0.01);
      EXPECT_DOUBLE_EQ(bn->options.eps(), 1e-9);
      ++batch_norms;
    }
  }
  EXPECT_EQ(batch_norms, 20 + 3);  // ResNet-18's 20 and the head's 3
  for (const auto& module : simple_baseline->modules()) {
    if (const auto* bn = module->as<torch::nn::BatchNorm2d>()) {
      EXPECT_DOUBLE_EQ(*bn->options.momentum(), 0.1);
      EXPECT_DOUBLE_EQ(bn->options.eps(), 1e-5);
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
