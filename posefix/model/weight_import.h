#ifndef POSEFIX_MODEL_WEIGHT_IMPORT_H_
#define POSEFIX_MODEL_WEIGHT_IMPORT_H_

// ImageNet initialization: torchvision ResNet weights exported from Python
// (see export_torchvision_resnet.py) copied into the backbone. Internal to
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

}  // namespace posefix

#endif  // POSEFIX_MODEL_WEIGHT_IMPORT_H_
