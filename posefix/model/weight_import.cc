#include "posefix/model/weight_import.h"

#include <torch/script.h>
#include <torch/serialize.h>

#include <exception>
#include <map>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "posefix/core/file_util.h"
#include "posefix/core/status_macros.h"

namespace posefix {
namespace {

using TensorMap = std::map<std::string, torch::Tensor>;

absl::StatusOr<TensorMap> ReadTorchScript(const std::string& path) {
  torch::jit::Module module = torch::jit::load(path, torch::Device(torch::kCPU));
  TensorMap tensors;
  for (const auto& item : module.named_parameters(/*recurse=*/true)) {
    tensors[item.name] = item.value;
  }
  for (const auto& item : module.named_buffers(/*recurse=*/true)) {
    tensors[item.name] = item.value;
  }
  return tensors;
}

absl::StatusOr<TensorMap> ReadStateDict(const std::string& path, const std::string& bytes) {
  const c10::IValue value = torch::pickle_load(std::vector<char>(bytes.begin(), bytes.end()));
  if (!value.isGenericDict()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": a torch.save file that holds no state dict (", value.tagKind(), ")"));
  }
  TensorMap tensors;
  for (const auto& entry : value.toGenericDict()) {
    if (!entry.key().isString() || !entry.value().isTensor()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": state dict entries must map names to tensors"));
    }
    tensors[entry.key().toStringRef()] = entry.value().toTensor();
  }
  return tensors;
}

absl::StatusOr<TensorMap> ReadWeights(const std::string& path) {
  ASSIGN_OR_RETURN(const std::string bytes, ReadFileToString(path));
  std::string script_error;
  try {
    return ReadTorchScript(path);
  } catch (const std::exception& error) {
    script_error = ErrorMessage(error);
  }
  try {
    return ReadStateDict(path, bytes);
  } catch (const std::exception& error) {
    const std::string first_line = script_error.substr(0, script_error.find('\n'));
    const std::string what = ErrorMessage(error);
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": neither a TorchScript file (", first_line, ") nor a torch.save state dict (",
        what.substr(0, what.find('\n')),
        "); export with torch.jit.save(torch.jit.script(model), path) or "
        "torch.save(dict(model.state_dict()), path) (LibTorch cannot read the OrderedDict "
        "of a bare model.state_dict()), e.g. with posefix/model/export_torchvision_resnet.py or "
        "export_efficientnet_lite.py"));
  }
}

std::string Shape(const torch::Tensor& tensor) {
  return absl::StrCat("[", absl::StrJoin(tensor.sizes(), ", "), "]");
}

}  // namespace

namespace {

// Copies `source` into `module`'s parameters and buffers by name, except
// entries starting with `ignored_prefix` (the classifier). `first_conv`
// takes the 3-channel kernel into its first 3 input channels, reversed for
// BGR; its further (pose) channels keep their initialization.
absl::Status CopyWeights(const std::string& path, TensorMap remaining, torch::nn::Module& module,
                         absl::string_view first_conv, absl::string_view ignored_prefix,
                         ChannelOrder image_channel_order, absl::string_view expected_model) {
  for (auto it = remaining.begin(); it != remaining.end();) {
    it = absl::StartsWith(it->first, ignored_prefix) ? remaining.erase(it) : std::next(it);
  }
  std::vector<std::pair<std::string, torch::Tensor>> targets;
  for (const auto& item : module.named_parameters()) targets.emplace_back(item.key(), item.value());
  for (const auto& item : module.named_buffers()) targets.emplace_back(item.key(), item.value());

  torch::NoGradGuard no_grad;
  for (auto& [name, target] : targets) {
    auto found = remaining.find(name);
    if (found == remaining.end()) {
      return FieldError(path, name, absl::StrCat("missing (is it ", expected_model, "?)"));
    }
    torch::Tensor value = found->second;
    remaining.erase(found);
    if (name == first_conv) {
      if (value.dim() != 4 || value.size(1) != 3 || target.size(1) < 3 ||
          value.size(0) != target.size(0) || value.size(2) != target.size(2) ||
          value.size(3) != target.size(3)) {
        return FieldError(path, name,
                          absl::StrCat("expected a 3-channel kernel ",
                                       Shape(target.narrow(1, 0, 3)), ", got ", Shape(value)));
      }
      if (image_channel_order != CHANNEL_ORDER_RGB) value = value.flip({1});
      target.narrow(1, 0, 3).copy_(value);
      continue;
    }
    if (value.sizes() != target.sizes()) {
      return FieldError(
          path, name,
          absl::StrCat("shape ", Shape(value), " does not match the backbone's ", Shape(target)));
    }
    target.copy_(value);
  }
  if (!remaining.empty()) {
    return FieldError(
        path, remaining.begin()->first,
        absl::StrCat("unexpected (", remaining.size(), " entries the backbone does not have)"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ImportTorchvisionResNet(const std::string& path, ChannelOrder image_channel_order,
                                     ResNetImpl& backbone) {
  ASSIGN_OR_RETURN(TensorMap source, ReadWeights(path));
  return CopyWeights(path, std::move(source), backbone, "conv1.weight", "fc.", image_channel_order,
                     "a torchvision ResNet of the same depth");
}

absl::Status ImportEfficientNetLite(const std::string& path, ChannelOrder image_channel_order,
                                    EfficientNetLiteImpl& backbone) {
  ASSIGN_OR_RETURN(TensorMap source, ReadWeights(path));
  return CopyWeights(path, std::move(source), backbone, "_conv_stem.weight", "_fc.",
                     image_channel_order, "an efficientnet-lite-pytorch model of the same variant");
}

absl::Status ImportBackboneWeights(const std::string& path, ChannelOrder image_channel_order,
                                   PoseFixNetImpl& net) {
  if (net.resnet()) return ImportTorchvisionResNet(path, image_channel_order, *net.resnet());
  return ImportEfficientNetLite(path, image_channel_order, *net.lite());
}

}  // namespace posefix
