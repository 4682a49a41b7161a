#ifndef POSEFIX_MODEL_TRAINING_OPTIONS_H_
#define POSEFIX_MODEL_TRAINING_OPTIONS_H_

// The one check and the one resolution of TrainingOptions, torch-free: spec
// validation (before a suite runs anything), the run's record and the
// trainer call the same functions.

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "posefix/model/training.pb.h"

namespace posefix {

// Every value of `options` that no resolution could make valid. Errors read
// "SOURCE: training.FIELD: message".
absl::Status ValidateTrainingOptions(const TrainingOptions& options, absl::string_view source);

// `options` with the defaults training.proto cannot declare filled in: the
// learning-rate milestones (a list) and the thread count (the machine's).
// The declared defaults are what the accessors of unset fields return.
TrainingOptions ResolveTrainingOptions(TrainingOptions options);

}  // namespace posefix

#endif  // POSEFIX_MODEL_TRAINING_OPTIONS_H_
