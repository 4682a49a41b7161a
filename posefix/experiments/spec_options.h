#ifndef POSEFIX_EXPERIMENTS_SPEC_OPTIONS_H_
#define POSEFIX_EXPERIMENTS_SPEC_OPTIONS_H_

// What the model and data options of an experiment spec resolve to
// (torch-free): spec validation, before a suite runs anything, and the
// runner, for the run and its resolved_options.pbtxt, call these same
// functions, which call those the trainer calls, so that a spec that
// validates is the spec that runs.

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "posefix/data/data_options.pb.h"
#include "posefix/experiments/experiment.pb.h"
#include "posefix/model/model_options.h"

namespace posefix {

// The spec's network as the trainer builds it: ModelOptionsForMode for
// training.mode and the schema's `schema_keypoints` (0: unknown here), then
// ResolveModelOptions. Errors read "SOURCE: model.FIELD: problem" (the
// mode's rules) or "SOURCE: model: FIELD: problem".
absl::StatusOr<ResolvedModelOptions> ResolveSpecModelOptions(const ExperimentSpec& spec,
                                                             int schema_keypoints,
                                                             absl::string_view source);

// The loader's options as the trainer resolves them: data.* cropped at the
// model's input size (DataOptionsForCrop), checked. Errors read
// "SOURCE: data.FIELD: problem".
absl::StatusOr<DataOptions> ResolveSpecDataOptions(const ExperimentSpec& spec,
                                                   const ResolvedModelOptions& model,
                                                   absl::string_view source);

}  // namespace posefix

#endif  // POSEFIX_EXPERIMENTS_SPEC_OPTIONS_H_
