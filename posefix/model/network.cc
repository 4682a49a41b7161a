#include "posefix/model/network.h"

#include <torch/cuda.h>
#include <torch/nn/functional/activation.h>
#include <torch/nn/functional/pooling.h>
#include <torch/nn/init.h>
#include <torch/nn/modules/activation.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/numbers.h"
#include "absl/strings/match.h"

namespace posefix {
namespace {

namespace F = torch::nn::functional;

torch::nn::Conv2d Conv(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t padding) {
  return torch::nn::Conv2d(
      torch::nn::Conv2dOptions(in, out, kernel).stride(stride).padding(padding).bias(false));
}

torch::nn::Sequential MaybeDownsample(int64_t in, int64_t out, int64_t stride) {
  if (stride == 1 && in == out) return torch::nn::Sequential(nullptr);
  return torch::nn::Sequential(Conv(in, out, 1, stride, 0), torch::nn::BatchNorm2d(out));
}

struct Stages {
  bool bottleneck;
  int blocks[4];
};

Stages StagesOf(int depth) {
  switch (depth) {
    case 18:
      return {false, {2, 2, 2, 2}};
    case 34:
      return {false, {3, 4, 6, 3}};
    case 50:
      return {true, {3, 4, 6, 3}};
    case 101:
      return {true, {3, 4, 23, 3}};
    case 152:
      return {true, {3, 8, 36, 3}};
  }
  TORCH_CHECK(false, "unsupported ResNet depth ", depth, " (ResolveModelOptions checks this)");
}

}  // namespace

BasicBlockImpl::BasicBlockImpl(int64_t in_channels, int64_t planes, int64_t stride) {
  conv1_ = register_module("conv1", Conv(in_channels, planes, 3, stride, 1));
  bn1_ = register_module("bn1", torch::nn::BatchNorm2d(planes));
  conv2_ = register_module("conv2", Conv(planes, planes, 3, 1, 1));
  bn2_ = register_module("bn2", torch::nn::BatchNorm2d(planes));
  downsample_ = MaybeDownsample(in_channels, planes * kExpansion, stride);
  if (downsample_) register_module("downsample", downsample_);
}

torch::Tensor BasicBlockImpl::forward(torch::Tensor x) {
  torch::Tensor out = torch::relu(bn1_(conv1_(x)));
  out = bn2_(conv2_(out));
  const torch::Tensor identity = downsample_ ? downsample_->forward(x) : x;
  return torch::relu(out + identity);
}

BottleneckImpl::BottleneckImpl(int64_t in_channels, int64_t planes, int64_t stride) {
  conv1_ = register_module("conv1", Conv(in_channels, planes, 1, 1, 0));
  bn1_ = register_module("bn1", torch::nn::BatchNorm2d(planes));
  conv2_ = register_module("conv2", Conv(planes, planes, 3, stride, 1));
  bn2_ = register_module("bn2", torch::nn::BatchNorm2d(planes));
  conv3_ = register_module("conv3", Conv(planes, planes * kExpansion, 1, 1, 0));
  bn3_ = register_module("bn3", torch::nn::BatchNorm2d(planes * kExpansion));
  downsample_ = MaybeDownsample(in_channels, planes * kExpansion, stride);
  if (downsample_) register_module("downsample", downsample_);
}

torch::Tensor BottleneckImpl::forward(torch::Tensor x) {
  torch::Tensor out = torch::relu(bn1_(conv1_(x)));
  out = torch::relu(bn2_(conv2_(out)));
  out = bn3_(conv3_(out));
  const torch::Tensor identity = downsample_ ? downsample_->forward(x) : x;
  return torch::relu(out + identity);
}

ResNetImpl::ResNetImpl(int depth, int64_t input_channels) {
  const Stages stages = StagesOf(depth);
  conv1_ = register_module("conv1", Conv(input_channels, 64, 7, 2, 3));
  bn1_ = register_module("bn1", torch::nn::BatchNorm2d(64));
  int64_t in = 64;
  torch::nn::Sequential* layers[4] = {&layer1_, &layer2_, &layer3_, &layer4_};
  for (int stage = 0; stage < 4; ++stage) {
    const int64_t planes = int64_t{64} << stage;
    torch::nn::Sequential layer;
    for (int block = 0; block < stages.blocks[stage]; ++block) {
      const int64_t stride = (stage > 0 && block == 0) ? 2 : 1;
      if (stages.bottleneck) {
        layer->push_back(Bottleneck(in, planes, stride));
        in = planes * BottleneckImpl::kExpansion;
      } else {
        layer->push_back(BasicBlock(in, planes, stride));
        in = planes * BasicBlockImpl::kExpansion;
      }
    }
    *layers[stage] = register_module(absl::StrCat("layer", stage + 1), layer);
  }
  out_channels_ = in;
  // torchvision's initialization.
  for (auto& module : modules(/*include_self=*/false)) {
    if (auto* conv = module->as<torch::nn::Conv2d>()) {
      torch::nn::init::kaiming_normal_(conv->weight, 0, torch::kFanOut, torch::kReLU);
    } else if (auto* bn = module->as<torch::nn::BatchNorm2d>()) {
      torch::nn::init::ones_(bn->weight);
      torch::nn::init::zeros_(bn->bias);
    }
  }
}

torch::Tensor ResNetImpl::forward(torch::Tensor x) {
  x = torch::relu(bn1_(conv1_(x)));
  x = F::max_pool2d(x, F::MaxPool2dFuncOptions(3).stride(2).padding(1));
  x = layer1_->forward(x);
  x = layer2_->forward(x);
  x = layer3_->forward(x);
  return layer4_->forward(x);
}

PoseFixNetImpl::PoseFixNetImpl(const ResolvedModelOptions& options) : options_(options) {
  backbone_ = register_module("backbone", ResNet(options.resnet_depth, options.input_channels()));
  constexpr int64_t kHeadChannels = 256;
  torch::nn::Sequential deconv;
  int64_t in = backbone_->out_channels();
  for (int i = 0; i < 3; ++i) {
    torch::nn::ConvTranspose2d up(torch::nn::ConvTranspose2dOptions(in, kHeadChannels, 4)
                                      .stride(2)
                                      .padding(1)
                                      .bias(false));
    torch::nn::init::normal_(up->weight, 0, 0.001);
    torch::nn::BatchNorm2d bn(kHeadChannels);
    deconv->push_back(up);
    deconv->push_back(bn);
    deconv->push_back(torch::nn::ReLU());
    in = kHeadChannels;
  }
  deconv_layers_ = register_module("deconv_layers", deconv);
  final_layer_ = register_module(
      "final_layer",
      torch::nn::Conv2d(torch::nn::Conv2dOptions(kHeadChannels, options.num_keypoints, 1)));
  torch::nn::init::normal_(final_layer_->weight, 0, 0.001);
  torch::nn::init::zeros_(final_layer_->bias);
}

torch::Tensor PoseFixNetImpl::forward(const torch::Tensor& input) {
  TORCH_CHECK(input.dim() == 4 && input.size(1) == options_.input_channels(),
              "network input must be [B, ", options_.input_channels(), ", H, W], got ",
              input.sizes());
  TORCH_CHECK(input.size(2) % 32 == 0 && input.size(3) % 32 == 0,
              "network input height and width must be multiples of 32, got ", input.sizes());
  torch::Tensor x = backbone_(input);
  for (const auto& layer : deconv_layers_->children()) {
    if (const auto* up = layer->as<torch::nn::ConvTranspose2d>()) {
      // cuDNN's transposed convolution is fast; the CPU one is not.
      x = x.is_cuda() ? const_cast<torch::nn::ConvTranspose2dImpl*>(up)->forward(x)
                      : ConvTranspose4x4Stride2(x, up->weight);
    } else if (auto* bn = layer->as<torch::nn::BatchNorm2d>()) {
      x = bn->forward(x);
    } else {
      x = torch::relu(x);
    }
  }
  return final_layer_(x);
}

torch::Tensor ConvTranspose4x4Stride2(const torch::Tensor& x, const torch::Tensor& weight) {
  const int64_t batch = x.size(0), channels = x.size(1), height = x.size(2), width = x.size(3);
  // [B, C, H, 1, W, 1] padded to [B, C, H, 2, W, 2]: each input pixel followed
  // by zeros, then cut to (2H - 1) x (2W - 1).
  const torch::Tensor interleaved =
      torch::constant_pad_nd(x.view({batch, channels, height, 1, width, 1}), {0, 1, 0, 0, 0, 1})
          .view({batch, channels, 2 * height, 2 * width})
          .narrow(2, 0, 2 * height - 1)
          .narrow(3, 0, 2 * width - 1);
  return torch::conv2d(interleaved, weight.flip({2, 3}).transpose(0, 1), /*bias=*/{},
                       /*stride=*/1, /*padding=*/2);
}

torch::Device PreferredDevice() {
  return torch::cuda::is_available() ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
}

absl::StatusOr<torch::Device> ParseDevice(const std::string& name, absl::string_view field) {
  if (name.empty() || name == "auto") return PreferredDevice();
  if (name == "cpu") return torch::Device(torch::kCPU);
  if (name == "cuda" || absl::StartsWith(name, "cuda:")) {
    int index = 0;
    if (name.size() > 4 && !absl::SimpleAtoi(name.substr(5), &index)) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": malformed CUDA device \"", name, "\""));
    }
    if (!torch::cuda::is_available()) {
      return absl::FailedPreconditionError(absl::StrCat(
          field, ": \"", name, "\" asked for, but this LibTorch sees no CUDA device"));
    }
    if (index < 0 || index >= static_cast<int>(torch::cuda::device_count())) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": no CUDA device ", index));
    }
    return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
  }
  return absl::InvalidArgumentError(
      absl::StrCat(field, ": unknown device \"", name, "\" (auto, cpu, cuda, cuda:N)"));
}

int64_t CountParameters(torch::nn::Module& module) {
  int64_t count = 0;
  for (const torch::Tensor& parameter : module.parameters()) count += parameter.numel();
  return count;
}

}  // namespace posefix
