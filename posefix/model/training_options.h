#ifndef POSEFIX_MODEL_TRAINING_OPTIONS_H_
#define POSEFIX_MODEL_TRAINING_OPTIONS_H_

// The one check of TrainingOptions, torch-free: spec validation (before a
// suite runs anything) and the trainer call the same function.

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "posefix/model/training.pb.h"

namespace posefix {

// Every value of `options` that no resolution could make valid (0 means the
// documented default). Errors read "SOURCE: training.FIELD: message".
absl::Status ValidateTrainingOptions(const TrainingOptions& options, absl::string_view source);

}  // namespace posefix

#endif  // POSEFIX_MODEL_TRAINING_OPTIONS_H_
