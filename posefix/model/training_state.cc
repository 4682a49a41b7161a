#include "posefix/model/training_state.h"

#include <algorithm>
#include <filesystem>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "posefix/core/file_util.h"
#include "posefix/core/status_macros.h"
#include "posefix/core/text_proto.h"

namespace posefix {
namespace {

namespace fs = std::filesystem;

constexpr char kStateFile[] = "training_state.pbtxt";
constexpr char kMidEpochMark[] = "_step_";

std::string StatePath(const std::string& dir) { return (fs::path(dir) / kStateFile).string(); }

absl::StatusOr<std::optional<TrainingState>> ReadState(const std::string& dir) {
  const std::string path = StatePath(dir);
  std::error_code error;
  if (!fs::exists(path, error)) return std::optional<TrainingState>();
  TrainingState state;
  RETURN_IF_ERROR(ReadTextProto(path, &state));
  return std::optional<TrainingState>(std::move(state));
}

// Removes checkpoint `name` of `dir` and the estimator beside it, if any.
void RemoveCheckpoint(const std::string& dir, const std::string& name) {
  std::error_code error;
  fs::remove(CheckpointPath(dir, name), error);
  fs::remove(CheckpointPath(dir, EstimatorCheckpointName(name)), error);
}

void RemoveMidEpochCheckpoint(const std::string& dir, const std::string& name) {
  if (name.find(kMidEpochMark) != std::string::npos) RemoveCheckpoint(dir, name);
}

}  // namespace

std::string EpochCheckpointName(int epoch) { return absl::StrFormat("epoch_%04d.pt", epoch); }

std::string MidEpochCheckpointName(int epoch, int step_in_epoch) {
  return absl::StrFormat("epoch_%04d%s%06d.pt", epoch, kMidEpochMark, step_in_epoch);
}

std::string EstimatorCheckpointName(const std::string& checkpoint_name) {
  return absl::StrCat(checkpoint_name.substr(0, checkpoint_name.size() - 3), ".estimator.pt");
}

std::string CheckpointPath(const std::string& dir, const std::string& name) {
  return (fs::path(dir) / name).string();
}

std::string EpochCheckpointPath(const std::string& checkpoint_dir, int epoch) {
  return CheckpointPath(checkpoint_dir, EpochCheckpointName(epoch));
}

absl::StatusOr<std::string> LatestCheckpoint(const std::string& checkpoint_dir) {
  ASSIGN_OR_RETURN(const std::optional<TrainingState> state, ReadState(checkpoint_dir));
  if (!state.has_value() || state->checkpoint().empty()) {
    return absl::NotFoundError(
        absl::StrCat(checkpoint_dir, ": no checkpoint (", kStateFile, " missing)"));
  }
  return CheckpointPath(checkpoint_dir, state->checkpoint());
}

absl::StatusOr<std::optional<TrainingState>> ReadResumableState(const std::string& dir,
                                                                uint64_t seed) {
  absl::StatusOr<std::optional<TrainingState>> state = ReadState(dir);
  if (!state.ok() || !state->has_value()) return state;
  if ((*state)->seed() != seed) {
    return FieldError(
        StatePath(dir), "seed",
        absl::StrCat("the run in this directory used seed ", (*state)->seed(),
                     ", the configuration asks for ", seed, "; use another checkpoint_dir"));
  }
  return state;
}

double EpochTotals::MeanLoss() const { return loss_samples > 0 ? loss_sum / loss_samples : 0; }

EpochTotals UnfinishedEpoch(const TrainingState& state) {
  EpochTotals totals;
  if (state.steps_in_epoch() == 0) return totals;
  totals.steps = state.steps_in_epoch();
  totals.loss_sum = state.partial_loss_sum();
  totals.heatmap_sum = state.partial_heatmap_sum();
  totals.coordinate_sum = state.partial_coordinate_sum();
  totals.samples = state.partial_samples();
  totals.loss_samples = state.partial_loss_samples();
  totals.skipped_steps = state.partial_skipped_steps();
  totals.earlier_seconds = state.partial_seconds();
  return totals;
}

void SaveUnfinishedEpoch(const EpochTotals& totals, double seconds, TrainingState* state) {
  state->set_steps_in_epoch(totals.steps);
  state->set_partial_loss_sum(totals.loss_sum);
  state->set_partial_heatmap_sum(totals.heatmap_sum);
  state->set_partial_coordinate_sum(totals.coordinate_sum);
  state->set_partial_samples(totals.samples);
  state->set_partial_loss_samples(totals.loss_samples);
  state->set_partial_skipped_steps(totals.skipped_steps);
  state->set_partial_seconds(seconds);
}

void FinishEpoch(int epoch, const EpochTotals& totals, double seconds, double learning_rate,
                 TrainingState* state) {
  EpochRecordProto* record = state->add_curve();
  record->set_epoch(epoch);
  record->set_samples(totals.samples);
  if (totals.loss_samples > 0) {
    record->set_loss(totals.MeanLoss());
    record->set_heatmap_loss(totals.heatmap_sum / totals.loss_samples);
    record->set_coordinate_loss(totals.coordinate_sum / totals.loss_samples);
  }
  record->set_seconds(seconds);
  record->set_samples_per_second(seconds > 0 ? totals.samples / seconds : 0);
  record->set_learning_rate(learning_rate);
  record->set_skipped_steps(totals.skipped_steps);
  record->set_step(state->step());
  state->set_epochs_done(epoch + 1);
  SaveUnfinishedEpoch(EpochTotals(), 0, state);
}

absl::Status RecordCheckpoint(const std::string& dir, const std::string& name,
                              TrainingState* state) {
  const std::string previous = state->checkpoint();
  state->set_checkpoint(name);
  RETURN_IF_ERROR(WriteTextProto(StatePath(dir), *state));
  RemoveMidEpochCheckpoint(dir, previous);
  return absl::OkStatus();
}

void DeleteOldCheckpoints(const std::string& dir, const TrainingState& state, int keep) {
  // Epoch numbers that have checkpoints, newest first.
  std::vector<int> epochs;
  for (const EpochRecordProto& record : state.curve()) epochs.push_back(record.epoch());
  std::sort(epochs.rbegin(), epochs.rend());
  int kept = 0;
  for (int epoch : epochs) {
    const std::string name = EpochCheckpointName(epoch);
    const fs::path path = fs::path(dir) / name;
    std::error_code error;
    if (!fs::exists(path, error)) continue;
    if (name == state.checkpoint()) continue;
    if (kept++ < keep) continue;
    RemoveCheckpoint(dir, name);
  }
}

}  // namespace posefix
