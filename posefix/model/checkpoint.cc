#include "posefix/model/checkpoint.h"

#include <torch/serialize/archive.h>

#include <exception>
#include <utility>

#include "absl/strings/str_cat.h"
#include "google/protobuf/text_format.h"
#include "posefix/core/file_util.h"
#include "posefix/core/status_macros.h"

namespace posefix {
namespace {

constexpr char kVersionKey[] = "posefix_format_version";
constexpr char kStepKey[] = "step";
constexpr char kOptionsKey[] = "model_options";
constexpr char kHasOptimizerKey[] = "has_optimizer";
constexpr char kModelKey[] = "model";
constexpr char kOptimizerKey[] = "optimizer";

torch::Device DeviceOf(torch::nn::Module& module) {
  for (const torch::Tensor& parameter : module.parameters()) return parameter.device();
  return torch::Device(torch::kCPU);
}

// Reads the header of an opened archive.
absl::StatusOr<CheckpointInfo> ReadInfo(const std::string& path,
                                        torch::serialize::InputArchive& archive) {
  CheckpointInfo info;
  c10::IValue value;
  if (!archive.try_read(kVersionKey, value) || !value.isInt()) {
    return FieldError(path, kVersionKey, "missing: not a PoseFix checkpoint");
  }
  info.format_version = value.toInt();
  if (info.format_version != kCheckpointFormatVersion) {
    return FieldError(path, kVersionKey,
                      absl::StrCat("version ", info.format_version,
                                   " is not supported (this "
                                   "build reads version ",
                                   kCheckpointFormatVersion, ")"));
  }
  if (!archive.try_read(kStepKey, value) || !value.isInt()) {
    return FieldError(path, kStepKey, "missing or not an integer");
  }
  info.step = value.toInt();
  if (!archive.try_read(kOptionsKey, value) || !value.isString()) {
    return FieldError(path, kOptionsKey, "missing or not a string");
  }
  if (!google::protobuf::TextFormat::ParseFromString(value.toStringRef(), &info.options)) {
    return FieldError(path, kOptionsKey, "not a valid ModelOptions text proto");
  }
  if (!archive.try_read(kHasOptimizerKey, value) || !value.isBool()) {
    return FieldError(path, kHasOptimizerKey, "missing or not a bool");
  }
  info.has_optimizer = value.toBool();
  return info;
}

absl::Status OpenArchive(const std::string& path, torch::Device device,
                         torch::serialize::InputArchive& archive) {
  ASSIGN_OR_RETURN(const std::string contents, ReadFileToString(path));
  try {
    archive.load_from(contents.data(), contents.size(), device);
  } catch (const std::exception& error) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not a readable checkpoint: ", ErrorMessage(error)));
  }
  return absl::OkStatus();
}

absl::Status CheckArchitecture(const std::string& path, const ModelOptions& stored,
                               const ResolvedModelOptions& net) {
  ASSIGN_OR_RETURN(const ResolvedModelOptions resolved,
                   ResolveModelOptions(stored, absl::StrCat(path, ": ", kOptionsKey)));
  auto mismatch = [&](absl::string_view field, auto stored_value, auto net_value) {
    return FieldError(path, absl::StrCat(kOptionsKey, ".", field),
                      absl::StrCat("checkpoint has ", stored_value, ", the model has ", net_value));
  };
  if (resolved.backbone != net.backbone) {
    return mismatch("backbone", Backbone_Name(resolved.backbone), Backbone_Name(net.backbone));
  }
  if (resolved.status_head != net.status_head) {
    return mismatch("status_head.enabled", resolved.status_head, net.status_head);
  }
  if (resolved.resnet_depth != net.resnet_depth) {
    return mismatch("resnet_depth", resolved.resnet_depth, net.resnet_depth);
  }
  if (resolved.head_channels != net.head_channels) {
    return mismatch("head_channels", resolved.head_channels, net.head_channels);
  }
  if (resolved.num_keypoints != net.num_keypoints) {
    return mismatch("num_keypoints", resolved.num_keypoints, net.num_keypoints);
  }
  if (resolved.input_channels() != net.input_channels()) {
    return mismatch("input_encoding", PoseInputEncoding_Name(resolved.input_encoding),
                    PoseInputEncoding_Name(net.input_encoding));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status SaveCheckpoint(const std::string& path, const ModelOptions& options,
                            PoseFixNetImpl& net, const torch::optim::Optimizer* optimizer,
                            int64_t step) {
  std::string text;
  if (!google::protobuf::TextFormat::PrintToString(options, &text)) {
    return absl::InternalError(absl::StrCat(path, ": cannot print the model options"));
  }
  std::string bytes;
  try {
    torch::serialize::OutputArchive archive;
    archive.write(kVersionKey, c10::IValue(kCheckpointFormatVersion));
    archive.write(kStepKey, c10::IValue(step));
    archive.write(kOptionsKey, c10::IValue(text));
    archive.write(kHasOptimizerKey, c10::IValue(optimizer != nullptr));
    torch::serialize::OutputArchive model_archive;
    net.save(model_archive);
    archive.write(kModelKey, model_archive);
    if (optimizer != nullptr) {
      torch::serialize::OutputArchive optimizer_archive;
      optimizer->save(optimizer_archive);
      archive.write(kOptimizerKey, optimizer_archive);
    }
    archive.save_to([&bytes](const void* data, size_t size) -> size_t {
      bytes.append(static_cast<const char*>(data), size);
      return size;
    });
  } catch (const std::exception& error) {
    return absl::InternalError(absl::StrCat(path, ": cannot serialize: ", ErrorMessage(error)));
  }
  return WriteFileAtomically(path, bytes);
}

absl::StatusOr<CheckpointInfo> ReadCheckpointInfo(const std::string& path) {
  torch::serialize::InputArchive archive;
  RETURN_IF_ERROR(OpenArchive(path, torch::Device(torch::kCPU), archive));
  return ReadInfo(path, archive);
}

absl::StatusOr<CheckpointInfo> LoadCheckpoint(const std::string& path, PoseFixNetImpl& net,
                                              torch::optim::Optimizer* optimizer) {
  torch::serialize::InputArchive archive;
  RETURN_IF_ERROR(OpenArchive(path, DeviceOf(net), archive));
  ASSIGN_OR_RETURN(CheckpointInfo info, ReadInfo(path, archive));
  RETURN_IF_ERROR(CheckArchitecture(path, info.options, net.options()));
  if (optimizer != nullptr && !info.has_optimizer) {
    return FieldError(path, kOptimizerKey, "absent: the checkpoint was saved without one");
  }
  try {
    torch::serialize::InputArchive model_archive;
    archive.read(kModelKey, model_archive);
    net.load(model_archive);
  } catch (const std::exception& error) {
    return FieldError(path, kModelKey, absl::StrCat("cannot load: ", ErrorMessage(error)));
  }
  if (optimizer != nullptr) {
    try {
      torch::serialize::InputArchive optimizer_archive;
      archive.read(kOptimizerKey, optimizer_archive);
      optimizer->load(optimizer_archive);
    } catch (const std::exception& error) {
      return FieldError(path, kOptimizerKey, absl::StrCat("cannot load: ", ErrorMessage(error)));
    }
  }
  return info;
}

}  // namespace posefix
