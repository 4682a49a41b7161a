#include "posefix/experiments/spec_options.h"

#include "absl/strings/str_cat.h"
#include "posefix/core/status_macros.h"
#include "posefix/data/training_sample.h"

namespace posefix {

absl::StatusOr<ResolvedModelOptions> ResolveSpecModelOptions(const ExperimentSpec& spec,
                                                             int schema_keypoints,
                                                             absl::string_view source) {
  ASSIGN_OR_RETURN(
      const ModelOptions model,
      ModelOptionsForMode(spec.model(), spec.training().mode(), schema_keypoints, source));
  return ResolveModelOptions(model, absl::StrCat(source, ": model"));
}

absl::StatusOr<DataOptions> ResolveSpecDataOptions(const ExperimentSpec& spec,
                                                   const ResolvedModelOptions& model,
                                                   absl::string_view source) {
  return DataOptionsForCrop(spec.data(), model.input_height, model.input_width, source);
}

}  // namespace posefix
