#include "posefix/experiments/experiment_spec.h"

#include <dirent.h>

#include <algorithm>
#include <cstdint>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "posefix/core/file_util.h"
#include "posefix/core/keypoint_schema.h"
#include "posefix/core/status_macros.h"
#include "posefix/core/text_proto.h"
#include "posefix/experiments/spec_options.h"
#include "posefix/model/model_options.h"
#include "posefix/model/training_options.h"
#include "posefix/synth/error_model.h"

namespace posefix {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

constexpr int kMaxBaseDepth = 16;

std::string Stem(const std::string& path) {
  std::string name = path.substr(path.find_last_of('/') + 1);
  if (absl::EndsWith(name, ".pbtxt")) name.resize(name.size() - 6);
  return name;
}

std::string Folder(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? "" : path.substr(0, slash);
}

// `chain`: the files being read, outermost first (a file may be the base of
// several others, but not of itself).
absl::StatusOr<ExperimentSpec> ParseWithBases(const std::string& path, const std::string& text,
                                              std::vector<std::string>* chain) {
  if (std::find(chain->begin(), chain->end(), path) != chain->end()) {
    return FieldError(path, "base",
                      absl::StrCat("cycle: ", absl::StrJoin(*chain, " -> "), " -> ", path));
  }
  if (chain->size() >= kMaxBaseDepth) {
    return FieldError(path, "base", "bases nested too deep");
  }
  ExperimentSpec override_spec;
  RETURN_IF_ERROR(ParseTextProto(path, text, &override_spec));
  if (override_spec.base().empty()) {
    if (override_spec.clear_fields_size() > 0) {
      return FieldError(path, "clear_fields", "needs a base to clear fields in");
    }
    return override_spec;
  }
  chain->push_back(path);
  ExperimentSpec merged;
  for (int i = 0; i < override_spec.base_size(); ++i) {
    const std::string field =
        override_spec.base_size() == 1 ? "base" : absl::StrCat("base[", i, "]");
    const std::string base_path = ResolveRelativeTo(path, override_spec.base(i));
    absl::StatusOr<std::string> base_text = ReadFileToString(base_path);
    if (!base_text.ok()) return FieldError(path, field, std::string(base_text.status().message()));
    ASSIGN_OR_RETURN(ExperimentSpec base, ParseWithBases(base_path, *base_text, chain));
    base.clear_name();
    merged.MergeFrom(base);
  }
  chain->pop_back();
  for (int i = 0; i < override_spec.clear_fields_size(); ++i) {
    if (absl::Status s = ClearFieldPath(override_spec.clear_fields(i), &merged); !s.ok()) {
      return FieldError(path, absl::StrCat("clear_fields[", i, "]"), s.message());
    }
  }
  merged.MergeFrom(override_spec);
  return merged;
}

bool IsValidName(absl::string_view name) {
  if (name.empty() || name[0] == '.') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
  });
}

bool IsValidDevice(absl::string_view device) {
  if (device == "auto" || device == "cpu" || device == "cuda") return true;
  if (!absl::StartsWith(device, "cuda:") || device.size() == 5) return false;
  return std::all_of(device.begin() + 5, device.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

bool RefinesOnly(const ExperimentSpec& spec) {
  return spec.refine_from_case() != ExperimentSpec::REFINE_FROM_NOT_SET;
}

std::string ResolveRelativeTo(const std::string& spec_path, const std::string& path) {
  return JoinPath(Folder(spec_path), path);
}

absl::StatusOr<ExperimentSpec> ParseExperimentSpec(const std::string& path,
                                                   const std::string& text) {
  std::vector<std::string> chain;
  ASSIGN_OR_RETURN(ExperimentSpec spec, ParseWithBases(path, text, &chain));
  // The name is never inherited (ParseWithBases clears the base's), and what
  // only describes how the file was written is not part of the run.
  if (spec.name().empty()) spec.set_name(Stem(path));
  spec.clear_base();
  spec.clear_clear_fields();
  return spec;
}

absl::StatusOr<ExperimentSpec> LoadExperimentSpec(const std::string& path) {
  ASSIGN_OR_RETURN(const std::string text, ReadFileToString(path));
  return ParseExperimentSpec(path, text);
}

absl::Status ClearFieldPath(absl::string_view path, Message* message) {
  std::vector<std::string> parts = absl::StrSplit(path, '.');
  Message* current = message;
  for (size_t i = 0; i < parts.size(); ++i) {
    const FieldDescriptor* field = current->GetDescriptor()->FindFieldByName(parts[i]);
    if (field == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("\"", path,
                                                     "\": ", current->GetDescriptor()->full_name(),
                                                     " has no field \"", parts[i], "\""));
    }
    const google::protobuf::Reflection* reflection = current->GetReflection();
    if (i + 1 == parts.size()) {
      reflection->ClearField(current, field);
      return absl::OkStatus();
    }
    if (field->is_repeated() || field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) {
      return absl::InvalidArgumentError(
          absl::StrCat("\"", path, "\": \"", parts[i], "\" is not a singular message field"));
    }
    current = reflection->MutableMessage(current, field);
  }
  return absl::OkStatus();
}

absl::Status ValidateExperimentSpec(const ExperimentSpec& spec, absl::string_view source) {
  if (!IsValidName(spec.name())) {
    return FieldError(
        source, "name",
        absl::StrCat("must be letters, digits, '_', '-', '.', got \"", spec.name(), "\""));
  }
  const std::string& schema_name = spec.dataset().schema();
  absl::StatusOr<const KeypointSchema*> builtin = BuiltinSchema(schema_name);
  // A schema file is read by the runner, not here: its keypoints are unknown.
  ASSIGN_OR_RETURN(
      const ResolvedModelOptions model,
      ResolveSpecModelOptions(spec, builtin.ok() ? (*builtin)->keypoint_names_size() : 0, source));
  // The loader's options as the trainer resolves them, so that a bad data.*
  // value stops a suite before it runs.
  RETURN_IF_ERROR(ResolveSpecDataOptions(spec, model, source).status());
  if (builtin.ok()) {
    RETURN_IF_ERROR(
        CompleteErrorModel(spec.error_model(), **builtin, absl::StrCat(source, ": error_model"))
            .status());
  }

  const DatasetSpec& dataset = spec.dataset();
  if (!RefinesOnly(spec)) {
    if (dataset.train_annotations().empty()) {
      return FieldError(source, "dataset.train_annotations",
                        "required unless checkpoint or checkpoint_from_spec is set");
    }
    if (dataset.train_images().empty()) {
      return FieldError(source, "dataset.train_images",
                        "required unless checkpoint or checkpoint_from_spec is set");
    }
  }
  if (dataset.eval_annotations().empty()) {
    return FieldError(source, "dataset.eval_annotations", "required");
  }
  if (dataset.eval_images().empty()) {
    return FieldError(source, "dataset.eval_images", "required");
  }
  // A oneof member that names a file, when set, must not be empty.
  auto must_name = [&source](bool set, const std::string& value, const char* field,
                             const char* what) {
    return set && value.empty() ? FieldError(source, field, absl::StrCat("must name ", what))
                                : absl::OkStatus();
  };
  if (dataset.input_poses_case() == DatasetSpec::INPUT_POSES_NOT_SET) {
    return FieldError(source, "dataset.input_results",
                      "required: input_results (the input poses to refine, a COCO keypoint "
                      "results file) or synthesize_input_seed");
  }
  RETURN_IF_ERROR(must_name(dataset.has_input_results(), dataset.input_results(),
                            "dataset.input_results", "a file"));
  if (dataset.has_synthesize_input_seed() && dataset.input_results_beyond_eval_images()) {
    return FieldError(source, "dataset.input_results_beyond_eval_images",
                      "applies to input_results, not to synthesized input poses");
  }
  RETURN_IF_ERROR(must_name(spec.has_checkpoint(), spec.checkpoint(), "checkpoint", "a file"));
  RETURN_IF_ERROR(must_name(spec.has_checkpoint_from_spec(), spec.checkpoint_from_spec(),
                            "checkpoint_from_spec", "a spec file"));
  if (spec.has_checkpoint_epoch() &&
      (spec.checkpoint_epoch() < 1 || !spec.has_checkpoint_from_spec())) {
    return FieldError(source, "checkpoint_epoch",
                      "a positive epoch of the checkpoint_from_spec run (unset: its final "
                      "checkpoint)");
  }
  RETURN_IF_ERROR(must_name(spec.has_estimator_checkpoint(), spec.estimator_checkpoint(),
                            "estimator_checkpoint", "a file"));
  RETURN_IF_ERROR(must_name(spec.has_estimator_from_spec(), spec.estimator_from_spec(),
                            "estimator_from_spec", "a spec file"));
  if (spec.has_init_weights() && RefinesOnly(spec)) {
    return FieldError(source, "init_weights", "a run that only refines does not train");
  }

  const EvaluationSpec& evaluation = spec.evaluation();
  if (evaluation.batch_size() < 1) {
    return FieldError(source, "evaluation.batch_size", "must be positive");
  }
  if (evaluation.num_threads() < 1) {
    return FieldError(source, "evaluation.num_threads", "must be positive");
  }
  if (evaluation.policy() == REFINE_SELECTIVE && !RefinesOnly(spec) && !model.status_head) {
    return FieldError(source, "evaluation.policy",
                      "REFINE_SELECTIVE needs model.status_head.enabled (the status head "
                      "decides which keypoints move)");
  }
  if (!(evaluation.oks_nms_threshold() > 0 && evaluation.oks_nms_threshold() <= 1)) {
    return FieldError(source, "evaluation.oks_nms_threshold", "must lie in (0, 1]");
  }
  const TrainingOptions& training = spec.training();
  if (!IsValidDevice(training.device())) {
    return FieldError(
        source, "training.device",
        absl::StrCat("must be auto, cpu, cuda or cuda:N, got \"", training.device(), "\""));
  }
  const bool has_estimator = spec.estimator_case() != ExperimentSpec::ESTIMATOR_NOT_SET;
  if (training.mode() == E2E_REFINE) {
    if (RefinesOnly(spec)) {
      // Its refined poses come from the estimator fine-tuned with the
      // refinement module, which only its own training run has.
      return FieldError(source, spec.has_checkpoint() ? "checkpoint" : "checkpoint_from_spec",
                        "training.mode E2E_REFINE trains its estimator with the refinement "
                        "module and cannot refine from a checkpoint alone");
    }
    if (!has_estimator) {
      return FieldError(source, "estimator_from_spec",
                        "E2E_REFINE needs estimator_checkpoint or estimator_from_spec");
    }
  } else if (has_estimator) {
    return FieldError(
        source, spec.has_estimator_checkpoint() ? "estimator_checkpoint" : "estimator_from_spec",
        "only for training.mode E2E_REFINE");
  }
  return ValidateTrainingOptions(training, source);
}

std::string ExperimentVariantName(const ExperimentSpec& spec) {
  if (spec.training().mode() == E2E_REFINE) return "E2E-refine";
  if (spec.training().mode() == ESTIMATOR) return "IntegralPose";
  absl::StatusOr<ResolvedModelOptions> model = ResolveModelOptions(spec.model());
  if (!model.ok()) return "invalid";
  return VariantName(*model);
}

std::string SpecHash(const ExperimentSpec& spec) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    spec.SerializeToCodedStream(&coded);
  }
  uint64_t hash = 1469598103934665603ULL;
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  return absl::StrFormat("%016x", hash);
}

std::string RunId(const ExperimentSpec& spec) {
  return absl::StrCat(spec.name(), "-", SpecHash(spec).substr(0, 8));
}

absl::StatusOr<std::vector<std::string>> ListSpecFiles(const std::string& folder) {
  DIR* dir = opendir(folder.c_str());
  if (dir == nullptr) return absl::NotFoundError(absl::StrCat(folder, ": cannot open folder"));
  std::vector<std::string> files;
  while (dirent* entry = readdir(dir)) {
    const std::string name = entry->d_name;
    if (absl::EndsWith(name, ".pbtxt") && !absl::EndsWith(name, "_base.pbtxt")) {
      files.push_back(absl::StrCat(folder, "/", name));
    }
  }
  closedir(dir);
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace posefix
