#include "posefix/model/training_options.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "posefix/core/file_util.h"

namespace posefix {

absl::Status ValidateTrainingOptions(const TrainingOptions& t, absl::string_view source) {
  auto error = [source](absl::string_view name, absl::string_view message) {
    return FieldError(source, absl::StrCat("training.", name), message);
  };
  if (t.epochs() < 1) return error("epochs", "must be positive");
  if (t.batch_size() < 1) return error("batch_size", "must be positive");
  if (!std::isfinite(t.learning_rate()) || t.learning_rate() < 0) {
    return error("learning_rate", "must be finite and >= 0");
  }
  for (int i = 0; i < t.lr_milestones_size(); ++i) {
    const std::string field = absl::StrCat("lr_milestones[", i, "]");
    if (t.lr_milestones(i) < 0) return error(field, "must be >= 0");
    if (i > 0 && t.lr_milestones(i) <= t.lr_milestones(i - 1)) return error(field, "must increase");
  }
  if (!std::isfinite(t.lr_factor()) || t.lr_factor() < 0) {
    return error("lr_factor", "must be finite and >= 0");
  }
  if (!std::isfinite(t.weight_decay())) return error("weight_decay", "must be finite");
  if (t.has_num_threads() && t.num_threads() < 1) {
    return error("num_threads", "must be positive (unset: the hardware concurrency)");
  }
  if (t.checkpoint_every_epochs() < 1) return error("checkpoint_every_epochs", "must be positive");
  if (t.max_steps_per_epoch() < 0) return error("max_steps_per_epoch", "must be >= 0");
  if (t.log_every_steps() < 1) return error("log_every_steps", "must be positive");
  if (t.keep_checkpoints() < 0) return error("keep_checkpoints", "must be >= 0");
  if (t.checkpoint_every_steps() < 0) return error("checkpoint_every_steps", "must be >= 0");
  return absl::OkStatus();
}

TrainingOptions ResolveTrainingOptions(TrainingOptions options) {
  if (options.lr_milestones_size() == 0) {
    options.add_lr_milestones(90);
    options.add_lr_milestones(120);
  }
  if (!options.has_num_threads()) {
    options.set_num_threads(std::max(1u, std::thread::hardware_concurrency()));
  }
  return options;
}

}  // namespace posefix
