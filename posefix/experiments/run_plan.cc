#include "posefix/experiments/run_plan.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "posefix/core/file_util.h"
#include "posefix/core/keypoint_schema.h"
#include "posefix/core/status_macros.h"
#include "posefix/experiments/experiment_spec.h"
#include "posefix/experiments/spec_options.h"
#include "posefix/model/training_options.h"
#include "posefix/synth/error_model.h"

namespace posefix {
namespace {

using google::protobuf::FieldDescriptor;

// Sets every unset field of `message` that declares a default (proto2) to
// that default: text format prints only set fields, and the record is to
// state the values, not leave them to the reader.
void SetDeclaredDefaults(google::protobuf::Message* message) {
  const google::protobuf::Descriptor* descriptor = message->GetDescriptor();
  const google::protobuf::Reflection* reflection = message->GetReflection();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor* field = descriptor->field(i);
    if (!field->has_default_value() || reflection->HasField(*message, field)) continue;
    switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_INT32:
        reflection->SetInt32(message, field, field->default_value_int32());
        break;
      case FieldDescriptor::CPPTYPE_INT64:
        reflection->SetInt64(message, field, field->default_value_int64());
        break;
      case FieldDescriptor::CPPTYPE_UINT32:
        reflection->SetUInt32(message, field, field->default_value_uint32());
        break;
      case FieldDescriptor::CPPTYPE_UINT64:
        reflection->SetUInt64(message, field, field->default_value_uint64());
        break;
      case FieldDescriptor::CPPTYPE_DOUBLE:
        reflection->SetDouble(message, field, field->default_value_double());
        break;
      case FieldDescriptor::CPPTYPE_FLOAT:
        reflection->SetFloat(message, field, field->default_value_float());
        break;
      case FieldDescriptor::CPPTYPE_BOOL:
        reflection->SetBool(message, field, field->default_value_bool());
        break;
      case FieldDescriptor::CPPTYPE_ENUM:
        reflection->SetEnum(message, field, field->default_value_enum());
        break;
      case FieldDescriptor::CPPTYPE_STRING:
        reflection->SetString(message, field, field->default_value_string());
        break;
      case FieldDescriptor::CPPTYPE_MESSAGE:
        // Messages declare no default.
        break;
    }
  }
}

// The options the run of `spec` uses, each resolved by the function its
// consumer (trainer, refinement, evaluation) resolves it with, and every
// declared default stated.
absl::StatusOr<ResolvedRunOptions> ResolveRunOptions(const ExperimentSpec& spec,
                                                     const KeypointSchema& schema,
                                                     const std::string& source) {
  ResolvedRunOptions options;
  *options.mutable_schema() = schema;
  const TrainingOptions training = ResolveTrainingOptions(spec.training());
  options.set_device(training.device());
  *options.mutable_evaluation() = spec.evaluation();
  SetDeclaredDefaults(options.mutable_evaluation());
  if (RefinesOnly(spec)) return options;

  ASSIGN_OR_RETURN(const ResolvedModelOptions model,
                   ResolveSpecModelOptions(spec, schema.keypoint_names_size(), source));
  *options.mutable_model() = ModelOptionsOf(model);
  if (!spec.model().status_head().has_keep_threshold()) {
    // Left to the training, which calibrates it (the checkpoint holds it).
    options.mutable_model()->mutable_status_head()->clear_keep_threshold();
  }
  *options.mutable_training() = training;
  SetDeclaredDefaults(options.mutable_training());
  ASSIGN_OR_RETURN(*options.mutable_data(), ResolveSpecDataOptions(spec, model, source));
  SetDeclaredDefaults(options.mutable_data());
  ASSIGN_OR_RETURN(
      *options.mutable_error_model(),
      CompleteErrorModel(spec.error_model(), schema, absl::StrCat(source, ": error_model")));
  SetDeclaredDefaults(options.mutable_error_model());
  return options;
}

}  // namespace

absl::StatusOr<RunPlan> MakePlan(const std::string& spec_path, const std::string& out_dir,
                                 const std::string& default_data_root) {
  RunPlan plan;
  plan.spec_path = spec_path;
  ASSIGN_OR_RETURN(plan.spec, LoadExperimentSpec(spec_path));
  RETURN_IF_ERROR(ValidateExperimentSpec(plan.spec, spec_path));
  plan.run_id = RunId(plan.spec);
  plan.run_dir = JoinPath(out_dir, plan.run_id);
  plan.data_root = !plan.spec.data_root().empty() ? plan.spec.data_root() : default_data_root;
  const absl::StatusOr<KeypointSchema> schema =
      ResolveKeypointSchema(plan.spec.dataset().schema(), plan.data_root);
  if (!schema.ok()) return FieldError(spec_path, "dataset.schema", schema.status().message());
  ASSIGN_OR_RETURN(plan.options, ResolveRunOptions(plan.spec, *schema, spec_path));
  return plan;
}

std::string DataPath(const RunPlan& plan, const std::string& path) {
  return JoinPath(plan.data_root, path);
}

}  // namespace posefix
