#include "posefix/model/training_options.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "posefix/core/file_util.h"

namespace posefix {

absl::Status ValidateTrainingOptions(const TrainingOptions& t, absl::string_view source) {
  auto error = [source](absl::string_view name, absl::string_view message) {
    return FieldError(source, absl::StrCat("training.", name), message);
  };
  if (!TrainingMode_IsValid(t.mode())) {
    return error("mode", absl::StrCat("unknown value ", t.mode()));
  }
  if (t.epochs() < 0) return error("epochs", "must be >= 0 (0: 140)");
  if (t.batch_size() < 0) return error("batch_size", "must be >= 0 (0: 32)");
  if (!std::isfinite(t.learning_rate()) || t.learning_rate() < 0) {
    return error("learning_rate", "must be finite and >= 0 (0: 5e-4)");
  }
  for (int i = 0; i < t.lr_milestones_size(); ++i) {
    if (t.lr_milestones(i) < 0) return error(absl::StrCat("lr_milestones[", i, "]"), "must be >= 0");
    if (i > 0 && t.lr_milestones(i) <= t.lr_milestones(i - 1)) {
      return error(absl::StrCat("lr_milestones[", i, "]"), "must increase");
    }
  }
  if (!std::isfinite(t.lr_factor()) || t.lr_factor() < 0) {
    return error("lr_factor", "must be finite and >= 0 (0: 0.1)");
  }
  if (!std::isfinite(t.weight_decay())) return error("weight_decay", "must be finite");
  if (t.num_threads() < 0) return error("num_threads", "must be >= 0");
  if (t.checkpoint_every_epochs() < 0) return error("checkpoint_every_epochs", "must be >= 0");
  if (t.max_steps_per_epoch() < 0) return error("max_steps_per_epoch", "must be >= 0");
  if (t.log_every_steps() < 0) return error("log_every_steps", "must be >= 0");
  if (t.keep_checkpoints() < 0) return error("keep_checkpoints", "must be >= 0");
  if (t.checkpoint_every_steps() < 0) return error("checkpoint_every_steps", "must be >= 0");
  return absl::OkStatus();
}

}  // namespace posefix
