#ifndef POSEFIX_MODEL_TRAINING_STATE_H_
#define POSEFIX_MODEL_TRAINING_STATE_H_

// The files of a run directory (TrainerConfig.checkpoint_dir) and the
// training state that ties them together (torch-free):
//   training_state.pbtxt       TrainingState: where the run is, its curve
//   epoch_NNNN.pt              the checkpoint after epoch NNNN (0-based)
//   epoch_NNNN_step_SSSSSS.pt  a mid-epoch checkpoint (checkpoint_every_steps)
//   <checkpoint>.estimator.pt  E2E_REFINE: the estimator beside a checkpoint
// The state names a checkpoint only once that checkpoint is complete, so a
// run killed at any moment leaves a consistent pair to resume from.

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "posefix/model/training_state.pb.h"

namespace posefix {

std::string EpochCheckpointName(int epoch);
std::string MidEpochCheckpointName(int epoch, int step_in_epoch);
// "epoch_0003.pt" -> "epoch_0003.estimator.pt".
std::string EstimatorCheckpointName(const std::string& checkpoint_name);

// Where run directory `dir` keeps checkpoint `name`.
std::string CheckpointPath(const std::string& dir, const std::string& name);

// Where a run directory keeps the checkpoint written after `epoch` (0-based).
std::string EpochCheckpointPath(const std::string& checkpoint_dir, int epoch);

// The latest checkpoint of a run directory (from its training state), or
// NotFound.
absl::StatusOr<std::string> LatestCheckpoint(const std::string& checkpoint_dir);

// The state of the run `dir` holds, or nullopt when it holds none (a new
// run). A state saved with another seed is an error naming the state file:
// resuming it would silently change the run.
absl::StatusOr<std::optional<TrainingState>> ReadResumableState(const std::string& dir,
                                                                uint64_t seed);

// The running sums of the epoch in progress. A mid-epoch checkpoint saves
// them in the state, so that a resumed epoch ends with the figures of an
// uninterrupted one.
struct EpochTotals {
  int steps = 0;
  double loss_sum = 0;
  double heatmap_sum = 0;
  double coordinate_sum = 0;
  // Drawn from the loader this epoch.
  int64_t samples = 0;
  // Of `samples`, those of the steps that were applied (not skipped by loss
  // scaling): the losses average over them.
  int64_t loss_samples = 0;
  int64_t skipped_steps = 0;
  // Spent on this epoch by earlier processes (a resumed epoch).
  double earlier_seconds = 0;

  // The mean loss of the applied steps so far; 0 before any.
  double MeanLoss() const;
};

// The unfinished epoch a state was saved in, or zeros at an epoch's start.
EpochTotals UnfinishedEpoch(const TrainingState& state);

// Saves `totals` (`seconds` spent on the epoch so far, all processes) for a
// mid-epoch checkpoint.
void SaveUnfinishedEpoch(const EpochTotals& totals, double seconds, TrainingState* state);

// Appends epoch `epoch` to the curve, counts it done and clears the
// unfinished epoch.
void FinishEpoch(int epoch, const EpochTotals& totals, double seconds, double learning_rate,
                 TrainingState* state);

// Makes `name` (written completely in `dir`) the run's checkpoint: writes the
// state naming it, then deletes the previous checkpoint if that was a
// mid-epoch one (those are only kept until the next checkpoint).
absl::Status RecordCheckpoint(const std::string& dir, const std::string& name,
                              TrainingState* state);

// Deletes the epoch checkpoints (and their estimators) of the curve beyond
// the newest `keep` (>= 0) besides the state's own, which stays.
void DeleteOldCheckpoints(const std::string& dir, const TrainingState& state, int keep);

}  // namespace posefix

#endif  // POSEFIX_MODEL_TRAINING_STATE_H_
