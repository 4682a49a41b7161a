#include "posefix/model/network.h"

#include <torch/cuda.h>
#include <torch/nn/functional/activation.h>
#include <torch/nn/functional/pooling.h>
#include <torch/nn/init.h>
#include <torch/nn/modules/activation.h>

#include <algorithm>
#include <cmath>
#include <iterator>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

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

// One stage of EfficientNet-Lite before width and depth scaling
// (efficientnet_lite_builder's block strings).
struct LiteStage {
  int64_t repeats, kernel, stride, expand_ratio, in_channels, out_channels;
};
constexpr LiteStage kLiteStages[] = {
    {1, 3, 1, 1, 32, 16},  {2, 3, 2, 6, 16, 24},   {2, 5, 2, 6, 24, 40},   {3, 3, 2, 6, 40, 80},
    {3, 5, 1, 6, 80, 112}, {4, 5, 2, 6, 112, 192}, {1, 3, 1, 6, 192, 320},
};

struct LiteScaling {
  double width, depth;
};

LiteScaling LiteScalingOf(Backbone variant) {
  switch (variant) {
    case BACKBONE_EFFICIENTNET_LITE0:
      return {1.0, 1.0};
    case BACKBONE_EFFICIENTNET_LITE1:
      return {1.0, 1.1};
    case BACKBONE_EFFICIENTNET_LITE2:
      return {1.1, 1.2};
    default:
      TORCH_CHECK(false, "not an EfficientNet-Lite backbone: ", Backbone_Name(variant));
  }
}

// EfficientNet's channel rounding: to a multiple of 8, never below 90%.
int64_t RoundChannels(int64_t channels, double width) {
  const double scaled = channels * width;
  int64_t rounded = std::max<int64_t>(8, static_cast<int64_t>(scaled + 4) / 8 * 8);
  if (rounded < 0.9 * scaled) rounded += 8;
  return rounded;
}

torch::nn::BatchNorm2d LiteBatchNorm(int64_t channels) {
  // TensorFlow's momentum 0.99 is PyTorch's 0.01.
  return torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(channels).eps(1e-3).momentum(0.01));
}

// Convolutions pad themselves only where "SAME" padding is symmetric
// (stride 1); PadSame pads the strided ones.
torch::nn::Conv2d LiteConv(int64_t in, int64_t out, int64_t kernel, int64_t stride,
                           int64_t groups = 1) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel)
                               .stride(stride)
                               .padding(stride == 1 ? (kernel - 1) / 2 : 0)
                               .groups(groups)
                               .bias(false));
}

void InitializeLikeTorchvision(torch::nn::Module& module) {
  for (auto& child : module.modules(/*include_self=*/false)) {
    if (auto* conv = child->as<torch::nn::Conv2d>()) {
      torch::nn::init::kaiming_normal_(conv->weight, 0, torch::kFanOut, torch::kReLU);
    } else if (auto* bn = child->as<torch::nn::BatchNorm2d>()) {
      torch::nn::init::ones_(bn->weight);
      torch::nn::init::zeros_(bn->bias);
    }
  }
}

// TensorFlow's truncated_normal_initializer: N(0, stddev) restricted to two
// standard deviations, drawn through the inverse CDF of that range.
void TruncatedNormal(torch::Tensor weight, double stddev) {
  torch::NoGradGuard no_grad;
  const double bound = std::erf(std::sqrt(2.0));  // erf(2 / sqrt(2))
  weight.uniform_(-bound, bound).erfinv_().mul_(stddev * std::sqrt(2.0));
}

// tf.contrib.layers.variance_scaling_initializer() (factor 2, fan in,
// truncated normal), the release's conv initialization.
void TensorFlowVarianceScaling(torch::Tensor weight) {
  const double fan_in = static_cast<double>(weight[0].numel());
  TruncatedNormal(weight, std::sqrt(1.3 * 2 / fan_in));
}

// The release's batch norm: TensorFlow decay 0.99 is PyTorch momentum 0.01.
void UseReleaseBatchNorm(torch::nn::Module& module) {
  for (auto& child : module.modules(/*include_self=*/true)) {
    if (auto* bn = child->as<torch::nn::BatchNorm2d>()) bn->options.momentum(0.01).eps(1e-9);
  }
}

}  // namespace

torch::Tensor PadSame(const torch::Tensor& x, int64_t kernel, int64_t stride) {
  if (stride == 1) return x;
  auto total = [&](int64_t size) {
    const int64_t out = (size + stride - 1) / stride;
    return std::max<int64_t>((out - 1) * stride + kernel - size, 0);
  };
  const int64_t pad_h = total(x.size(2)), pad_w = total(x.size(3));
  if (pad_h == 0 && pad_w == 0) return x;
  return torch::constant_pad_nd(x, {pad_w / 2, pad_w - pad_w / 2, pad_h / 2, pad_h - pad_h / 2});
}

MBConvBlockImpl::MBConvBlockImpl(int64_t in_channels, int64_t out_channels, int64_t kernel,
                                 int64_t stride, int64_t expand_ratio)
    : kernel_(kernel), stride_(stride), skip_(stride == 1 && in_channels == out_channels) {
  const int64_t expanded = in_channels * expand_ratio;
  if (expand_ratio != 1) {
    expand_conv_ = register_module("_expand_conv", LiteConv(in_channels, expanded, 1, 1));
    bn0_ = register_module("_bn0", LiteBatchNorm(expanded));
  }
  depthwise_conv_ =
      register_module("_depthwise_conv", LiteConv(expanded, expanded, kernel, stride, expanded));
  bn1_ = register_module("_bn1", LiteBatchNorm(expanded));
  project_conv_ = register_module("_project_conv", LiteConv(expanded, out_channels, 1, 1));
  bn2_ = register_module("_bn2", LiteBatchNorm(out_channels));
}

torch::Tensor MBConvBlockImpl::forward(torch::Tensor x) {
  torch::Tensor out = x;
  if (expand_conv_) out = torch::hardtanh(bn0_(expand_conv_(out)), 0, 6);
  out = torch::hardtanh(bn1_(depthwise_conv_(PadSame(out, kernel_, stride_))), 0, 6);
  out = bn2_(project_conv_(out));
  return skip_ ? out + x : out;
}

EfficientNetLiteImpl::EfficientNetLiteImpl(Backbone variant, int64_t input_channels) {
  const LiteScaling scaling = LiteScalingOf(variant);
  // Lite keeps the stem (32) and head (1280) unscaled, and the repeats of
  // the first and last stage.
  constexpr int64_t kStemChannels = 32, kHeadChannels = 1280;
  conv_stem_ = register_module("_conv_stem", LiteConv(input_channels, kStemChannels, 3, 2));
  bn0_ = register_module("_bn0", LiteBatchNorm(kStemChannels));
  blocks_ = torch::nn::ModuleList();
  const int num_stages = static_cast<int>(std::size(kLiteStages));
  for (int s = 0; s < num_stages; ++s) {
    const LiteStage& stage = kLiteStages[s];
    const bool fixed = s == 0 || s == num_stages - 1;
    const int64_t repeats =
        fixed ? stage.repeats
              : static_cast<int64_t>(std::ceil(scaling.depth * static_cast<double>(stage.repeats)));
    int64_t in = s == 0 ? kStemChannels : RoundChannels(stage.in_channels, scaling.width);
    const int64_t out = RoundChannels(stage.out_channels, scaling.width);
    for (int64_t r = 0; r < repeats; ++r) {
      blocks_->push_back(
          MBConvBlock(in, out, stage.kernel, r == 0 ? stage.stride : 1, stage.expand_ratio));
      in = out;
    }
  }
  register_module("_blocks", blocks_);
  const int64_t last = RoundChannels(kLiteStages[num_stages - 1].out_channels, scaling.width);
  conv_head_ = register_module("_conv_head", LiteConv(last, kHeadChannels, 1, 1));
  bn1_ = register_module("_bn1", LiteBatchNorm(kHeadChannels));
  out_channels_ = kHeadChannels;
  InitializeLikeTorchvision(*this);
}

torch::Tensor EfficientNetLiteImpl::forward(torch::Tensor x) {
  x = torch::hardtanh(bn0_(conv_stem_(PadSame(x, 3, 2))), 0, 6);
  for (const auto& block : *blocks_) x = block->as<MBConvBlockImpl>()->forward(x);
  return torch::hardtanh(bn1_(conv_head_(x)), 0, 6);
}

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
  InitializeLikeTorchvision(*this);
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
  int64_t in = 0;
  if (options.backbone == BACKBONE_RESNET) {
    resnet_ = register_module("backbone", ResNet(options.resnet_depth, options.input_channels()));
    in = resnet_->out_channels();
  } else {
    lite_ =
        register_module("backbone", EfficientNetLite(options.backbone, options.input_channels()));
    in = lite_->out_channels();
  }
  const int64_t head_channels = options.head_channels;
  torch::nn::Sequential deconv;
  for (int i = 0; i < 3; ++i) {
    torch::nn::ConvTranspose2d up(
        torch::nn::ConvTranspose2dOptions(in, head_channels, 4).stride(2).padding(1).bias(false));
    torch::nn::init::normal_(up->weight, 0, 0.001);
    torch::nn::BatchNorm2d bn(head_channels);
    deconv->push_back(up);
    deconv->push_back(bn);
    deconv->push_back(torch::nn::ReLU());
    in = head_channels;
  }
  deconv_layers_ = register_module("deconv_layers", deconv);
  final_layer_ = register_module("final_layer", torch::nn::Conv2d(torch::nn::Conv2dOptions(
                                                    head_channels, options.num_keypoints, 1)));
  torch::nn::init::normal_(final_layer_->weight, 0, 0.001);
  torch::nn::init::zeros_(final_layer_->bias);
  if (options.initialization == INITIALIZATION_RELEASE) {
    TensorFlowVarianceScaling(resnet_ ? resnet_->conv1()->weight : lite_->conv_stem()->weight);
    for (const auto& layer : deconv_layers_->children()) {
      if (auto* up = layer->as<torch::nn::ConvTranspose2d>()) TruncatedNormal(up->weight, 0.01);
    }
    TensorFlowVarianceScaling(final_layer_->weight);
    UseReleaseBatchNorm(*deconv_layers_);
    if (resnet_) UseReleaseBatchNorm(*resnet_);
  }
  if (options.status_head) {
    status_layer_ = register_module(
        "status_layer", torch::nn::Conv2d(torch::nn::Conv2dOptions(
                            head_channels, options.num_keypoints * kNumInputStatuses, 1)));
    torch::nn::init::normal_(status_layer_->weight, 0, 0.001);
    torch::nn::init::zeros_(status_layer_->bias);
  }
}

torch::Tensor PoseFixNetImpl::forward(const torch::Tensor& input) {
  return Run(input, torch::Tensor()).heatmaps;
}

NetworkOutput PoseFixNetImpl::Run(const torch::Tensor& input, const torch::Tensor& input_points) {
  TORCH_CHECK(input.dim() == 4 && input.size(1) == options_.input_channels(),
              "network input must be [B, ", options_.input_channels(), ", H, W], got ",
              input.sizes());
  TORCH_CHECK(input.size(2) % 32 == 0 && input.size(3) % 32 == 0,
              "network input height and width must be multiples of 32, got ", input.sizes());
  torch::Tensor x = resnet_ ? resnet_(input) : lite_(input);
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
  NetworkOutput output;
  output.heatmaps = final_layer_(x);
  if (status_layer_ && input_points.defined()) {
    const int64_t batch = x.size(0), joints = options_.num_keypoints;
    const int64_t height = x.size(2), width = x.size(3);
    // Each joint's kNumInputStatuses maps, read bilinearly at its input point
    // (in output cells; points outside the crop read the border).
    const torch::Tensor maps =
        status_layer_(x).view({batch * joints, kNumInputStatuses, height, width});
    const torch::Tensor cells = input_points.narrow(2, 0, 2).to(maps.dtype()) / kOutputStride;
    const torch::Tensor scale = torch::tensor(
        {2.0 / std::max<int64_t>(width - 1, 1), 2.0 / std::max<int64_t>(height - 1, 1)},
        maps.options());
    const torch::Tensor grid =
        torch::nan_to_num(cells * scale - 1, 0.0).view({batch * joints, 1, 1, 2});
    output.status_logits =
        torch::grid_sampler(maps, grid, /*interpolation_mode=*/0, /*padding_mode=*/1,
                            /*align_corners=*/true)
            .view({batch, joints, kNumInputStatuses});
  }
  return output;
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

std::string ErrorMessage(const std::exception& error) {
  if (const auto* torch_error = dynamic_cast<const c10::Error*>(&error)) {
    return torch_error->what_without_backtrace();
  }
  return error.what();
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
      return absl::FailedPreconditionError(
          absl::StrCat(field, ": \"", name, "\" asked for, but this LibTorch sees no CUDA device"));
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
