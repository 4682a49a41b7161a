#ifndef POSEFIX_MODEL_NETWORK_H_
#define POSEFIX_MODEL_NETWORK_H_

// The PoseFix network (SimpleBaseline on a ResNet or EfficientNet-Lite). Internal to posefix/model:
// this header includes torch; code outside the package uses the Refiner.
//
// Parameter names follow torchvision's ResNet under "backbone." (conv1, bn1,
// layer1.0.conv1, layer1.0.downsample.0, ...) and SimpleBaseline's head
// ("deconv_layers.N", "final_layer"), so that weights map one to one.

#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>

#include <cstdint>
#include <exception>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "posefix/model/model_options.h"

namespace posefix {

// ResNet-18/34 residual block (expansion 1).
class BasicBlockImpl : public torch::nn::Module {
 public:
  BasicBlockImpl(int64_t in_channels, int64_t planes, int64_t stride);
  torch::Tensor forward(torch::Tensor x);

  static constexpr int64_t kExpansion = 1;

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr};
  torch::nn::Sequential downsample_{nullptr};
};
TORCH_MODULE(BasicBlock);

// ResNet-50/101/152 bottleneck block (expansion 4, stride on the 3x3 conv as
// torchvision does).
class BottleneckImpl : public torch::nn::Module {
 public:
  BottleneckImpl(int64_t in_channels, int64_t planes, int64_t stride);
  torch::Tensor forward(torch::Tensor x);

  static constexpr int64_t kExpansion = 4;

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr}, conv3_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr}, bn3_{nullptr};
  torch::nn::Sequential downsample_{nullptr};
};
TORCH_MODULE(Bottleneck);

// torchvision's ResNet without avgpool and fc; conv1 takes `input_channels`.
class ResNetImpl : public torch::nn::Module {
 public:
  ResNetImpl(int depth, int64_t input_channels);
  // [B, C, H, W] -> layer4 features [B, out_channels(), H/32, W/32].
  torch::Tensor forward(torch::Tensor x);
  int64_t out_channels() const { return out_channels_; }
  torch::nn::Conv2d& conv1() { return conv1_; }

 private:
  int64_t out_channels_ = 0;
  torch::nn::Conv2d conv1_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr};
  torch::nn::Sequential layer1_{nullptr}, layer2_{nullptr}, layer3_{nullptr}, layer4_{nullptr};
};
TORCH_MODULE(ResNet);

// One inverted-residual block of EfficientNet-Lite (MobileNetV2's MBConv
// without squeeze-excitation): 1x1 expansion (unless the ratio is 1),
// depthwise k x k with TensorFlow's "SAME" padding, 1x1 projection; BN
// (eps 1e-3, momentum 0.01) after each conv, ReLU6 after the first two; a skip
// connection when the stride is 1 and the channels stay.
class MBConvBlockImpl : public torch::nn::Module {
 public:
  MBConvBlockImpl(int64_t in_channels, int64_t out_channels, int64_t kernel, int64_t stride,
                  int64_t expand_ratio);
  torch::Tensor forward(torch::Tensor x);

 private:
  int64_t kernel_, stride_;
  bool skip_;
  torch::nn::Conv2d expand_conv_{nullptr}, depthwise_conv_{nullptr}, project_conv_{nullptr};
  torch::nn::BatchNorm2d bn0_{nullptr}, bn1_{nullptr}, bn2_{nullptr};
};
TORCH_MODULE(MBConvBlock);

// EfficientNet-Lite0/1/2 without pooling and classifier: stem, blocks and the
// 1x1 head conv (1280 features at stride 32). The stem takes
// `input_channels`. Parameter names are efficientnet-lite-pytorch's
// (_conv_stem, _bn0, _blocks.N._expand_conv, ..., _conv_head, _bn1).
class EfficientNetLiteImpl : public torch::nn::Module {
 public:
  EfficientNetLiteImpl(Backbone variant, int64_t input_channels);
  torch::Tensor forward(torch::Tensor x);
  int64_t out_channels() const { return out_channels_; }
  torch::nn::Conv2d& conv_stem() { return conv_stem_; }

 private:
  int64_t out_channels_ = 0;
  torch::nn::Conv2d conv_stem_{nullptr}, conv_head_{nullptr};
  torch::nn::BatchNorm2d bn0_{nullptr}, bn1_{nullptr};
  torch::nn::ModuleList blocks_{nullptr};
};
TORCH_MODULE(EfficientNetLite);

// TensorFlow's "SAME" padding for a k x k convolution of stride `stride`:
// total padding max((ceil(n / s) - 1) * s + k - n, 0) per axis, the odd pixel
// at the bottom/right. Pads nothing when that is symmetric and the conv pads
// itself (stride 1).
torch::Tensor PadSame(const torch::Tensor& x, int64_t kernel, int64_t stride);

// What the network computes for a batch.
struct NetworkOutput {
  // [B, J, H/4, W/4] heatmaps (logits for the integral output).
  torch::Tensor heatmaps;
  // [B, J, kNumInputStatuses] logits of each input keypoint's status; an
  // undefined tensor without a status head or input points.
  torch::Tensor status_logits;
};

// Backbone + 3 transposed convs (4x4, stride 2, 256 channels, BN, ReLU) + a
// 1x1 conv to J heatmaps (+ the optional status head). Built with
// torchvision's random initialization for the backbone (kaiming normal,
// fan-out) and SimpleBaseline's (normal, std 0.001) for the head, or the
// release's (ModelOptions.initialization);
// seed with torch::manual_seed first for a reproducible network.
class PoseFixNetImpl : public torch::nn::Module {
 public:
  explicit PoseFixNetImpl(const ResolvedModelOptions& options);
  // [B, 3 (+J), H, W] -> [B, J, H/4, W/4] heatmaps (logits for the integral
  // output).
  torch::Tensor forward(const torch::Tensor& input);
  // The heatmaps and, with a status head, the status logits read at
  // `input_points` ([B, J, 3] crop pixels, the input pose the pose channels
  // were rendered from).
  NetworkOutput Run(const torch::Tensor& input, const torch::Tensor& input_points);

  const ResolvedModelOptions& options() const { return options_; }
  // The backbone of options().backbone; the other is null.
  ResNet& resnet() { return resnet_; }
  EfficientNetLite& lite() { return lite_; }

 private:
  ResolvedModelOptions options_;
  ResNet resnet_{nullptr};
  EfficientNetLite lite_{nullptr};
  torch::nn::Sequential deconv_layers_{nullptr};
  torch::nn::Conv2d final_layer_{nullptr};
  // kNumInputStatuses maps per joint, or null.
  torch::nn::Conv2d status_layer_{nullptr};
};
TORCH_MODULE(PoseFixNet);

// A 4x4, stride-2, padding-1 transposed convolution (no bias) computed as a
// regular convolution of the zero-interleaved input with the flipped kernel.
// The same function as torch's conv_transpose2d, about 10x faster on the CPU
// with Debian's LibTorch, whose transposed convolution has no fast path.
// weight: [in, out, 4, 4] as ConvTranspose2d stores it.
torch::Tensor ConvTranspose4x4Stride2(const torch::Tensor& x, const torch::Tensor& weight);

// CUDA when torch sees a GPU, else the CPU.
torch::Device PreferredDevice();

// The message of an exception for a user: LibTorch's errors (c10::Error)
// without the C++ stack trace they carry.
std::string ErrorMessage(const std::exception& error);

// Parses "auto" (PreferredDevice), "cpu", "cuda" or "cuda:N"; an error names
// `field` when the string is malformed or CUDA is asked for but unavailable.
absl::StatusOr<torch::Device> ParseDevice(const std::string& name, absl::string_view field);

// Total number of parameter elements.
int64_t CountParameters(torch::nn::Module& module);

}  // namespace posefix

#endif  // POSEFIX_MODEL_NETWORK_H_
