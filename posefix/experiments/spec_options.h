#ifndef POSEFIX_EXPERIMENTS_SPEC_OPTIONS_H_
#define POSEFIX_EXPERIMENTS_SPEC_OPTIONS_H_

// What the options of an experiment spec resolve to (torch-free): spec
// validation, before a suite runs anything, and the runner, for the run and
// its resolved_options.pbtxt, call these same functions, so that a spec that
// validates is the spec that runs.

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "posefix/data/data_options.pb.h"
#include "posefix/experiments/experiment.pb.h"
#include "posefix/model/model.pb.h"
#include "posefix/model/model_options.h"

namespace posefix {

// dataset.schema, or "coco" when unset.
std::string SchemaName(const ExperimentSpec& spec);

// The spec's network as the trainer builds it: ResolveModelOptions of
// `model`, where an ESTIMATOR run's unset input encoding is POSE_INPUT_NONE
// and an unset num_keypoints is `schema_keypoints` (0: unknown, the
// network's default). Errors read "SOURCE: model: FIELD: problem".
absl::StatusOr<ResolvedModelOptions> ResolveSpecModelOptions(const ExperimentSpec& spec,
                                                             int schema_keypoints,
                                                             absl::string_view source);

// The loader's options as the trainer resolves them: data.* cropped at the
// model's input size (data's own size must be unset or equal), every default
// filled in, then checked. Errors read "SOURCE: data.FIELD: problem".
absl::StatusOr<DataOptions> ResolveSpecDataOptions(const ExperimentSpec& spec,
                                                   const ResolvedModelOptions& model,
                                                   absl::string_view source);

// evaluation.* with every default filled in (see experiment.proto): flip
// test on, 32 crops per batch, 2 threads, no OKS-NMS (threshold 0.9 when it
// is on), REFINE_ALL.
EvaluationSpec ResolveEvaluationSpec(EvaluationSpec evaluation);

// ModelOptions stating every value of `options`, so that a reader needs no
// defaults: ResolveModelOptions of it gives `options` back (to float
// precision, the proto's).
ModelOptions ModelOptionsOf(const ResolvedModelOptions& options);

}  // namespace posefix

#endif  // POSEFIX_EXPERIMENTS_SPEC_OPTIONS_H_
