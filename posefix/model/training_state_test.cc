#include "posefix/model/training_state.h"

#include <filesystem>
#include <fstream>
#include <string>

#include "gtest/gtest.h"
#include "posefix/core/test_util.h"

namespace posefix {
namespace {

namespace fs = std::filesystem;

std::string TempDir(const std::string& name) {
  const fs::path dir = fs::path(::testing::TempDir()) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

void Touch(const std::string& dir, const std::string& name) {
  std::ofstream(fs::path(dir) / name) << "x";
}

bool Exists(const std::string& dir, const std::string& name) {
  return fs::exists(fs::path(dir) / name);
}

TEST(TrainingStateTest, CheckpointNames) {
  EXPECT_EQ(EpochCheckpointName(3), "epoch_0003.pt");
  EXPECT_EQ(MidEpochCheckpointName(3, 40), "epoch_0003_step_000040.pt");
  EXPECT_EQ(EstimatorCheckpointName("epoch_0003.pt"), "epoch_0003.estimator.pt");
  EXPECT_EQ(EstimatorCheckpointName("epoch_0003_step_000040.pt"),
            "epoch_0003_step_000040.estimator.pt");
  EXPECT_EQ(EpochCheckpointPath("/runs/a", 12), "/runs/a/epoch_0012.pt");
}

TEST(TrainingStateTest, NewDirectoryHasNoStateAndNoCheckpoint) {
  const std::string dir = TempDir("new");
  absl::StatusOr<std::optional<TrainingState>> state = ReadResumableState(dir, 7);
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_FALSE(state->has_value());
  EXPECT_EQ(LatestCheckpoint(dir).status().code(), absl::StatusCode::kNotFound);
}

TEST(TrainingStateTest, RecordedCheckpointIsTheLatestAndResumes) {
  const std::string dir = TempDir("record");
  TrainingState state;
  state.set_seed(7);
  Touch(dir, "epoch_0000.pt");
  ASSERT_TRUE(RecordCheckpoint(dir, "epoch_0000.pt", &state).ok());
  EXPECT_EQ(OrFail(LatestCheckpoint(dir)), (fs::path(dir) / "epoch_0000.pt").string());
  const std::optional<TrainingState> resumed = OrFail(ReadResumableState(dir, 7));
  ASSERT_TRUE(resumed.has_value());
  EXPECT_EQ(resumed->checkpoint(), "epoch_0000.pt");
}

TEST(TrainingStateTest, ResumingWithAnotherSeedFails) {
  const std::string dir = TempDir("seed");
  TrainingState state;
  state.set_seed(7);
  ASSERT_TRUE(RecordCheckpoint(dir, "epoch_0000.pt", &state).ok());
  absl::StatusOr<std::optional<TrainingState>> resumed = ReadResumableState(dir, 8);
  ASSERT_FALSE(resumed.ok());
  EXPECT_NE(resumed.status().message().find("training_state.pbtxt: seed: the run in this "
                                            "directory used seed 7"),
            std::string::npos)
      << resumed.status();
}

TEST(TrainingStateTest, NextCheckpointDeletesThePreviousMidEpochOne) {
  const std::string dir = TempDir("mid_epoch");
  TrainingState state;
  for (const char* name : {"epoch_0000.pt", "epoch_0001_step_000002.pt",
                           "epoch_0001_step_000002.estimator.pt", "epoch_0001.pt"}) {
    Touch(dir, name);
  }
  ASSERT_TRUE(RecordCheckpoint(dir, "epoch_0000.pt", &state).ok());
  ASSERT_TRUE(RecordCheckpoint(dir, "epoch_0001_step_000002.pt", &state).ok());
  // An epoch checkpoint stays when the next one is recorded.
  EXPECT_TRUE(Exists(dir, "epoch_0000.pt"));
  ASSERT_TRUE(RecordCheckpoint(dir, "epoch_0001.pt", &state).ok());
  EXPECT_FALSE(Exists(dir, "epoch_0001_step_000002.pt"));
  EXPECT_FALSE(Exists(dir, "epoch_0001_step_000002.estimator.pt"));
  EXPECT_TRUE(Exists(dir, "epoch_0001.pt"));
}

TEST(TrainingStateTest, UnfinishedEpochRoundTrips) {
  EpochTotals totals;
  totals.steps = 4;
  totals.loss_sum = 2.5;
  totals.heatmap_sum = 1.5;
  totals.coordinate_sum = 1.0;
  totals.samples = 16;
  totals.loss_samples = 12;
  totals.skipped_steps = 1;
  TrainingState state;
  SaveUnfinishedEpoch(totals, 9.5, &state);
  const EpochTotals restored = UnfinishedEpoch(state);
  EXPECT_EQ(restored.steps, 4);
  EXPECT_EQ(restored.loss_sum, 2.5);
  EXPECT_EQ(restored.heatmap_sum, 1.5);
  EXPECT_EQ(restored.coordinate_sum, 1.0);
  EXPECT_EQ(restored.samples, 16);
  EXPECT_EQ(restored.loss_samples, 12);
  EXPECT_EQ(restored.skipped_steps, 1);
  EXPECT_EQ(restored.earlier_seconds, 9.5);
  EXPECT_EQ(restored.MeanLoss(), 2.5 / 12);
}

TEST(TrainingStateTest, FinishEpochAveragesOverAppliedStepsAndClearsTheUnfinishedEpoch) {
  TrainingState state;
  state.set_step(10);
  EpochTotals totals;
  totals.steps = 5;
  totals.loss_sum = 8;
  totals.heatmap_sum = 6;
  totals.coordinate_sum = 2;
  totals.samples = 20;
  totals.loss_samples = 16;
  totals.skipped_steps = 1;
  SaveUnfinishedEpoch(totals, 3, &state);
  FinishEpoch(2, totals, 4, 1e-3, &state);
  ASSERT_EQ(state.curve_size(), 1);
  const EpochRecordProto& record = state.curve(0);
  EXPECT_EQ(record.epoch(), 2);
  EXPECT_EQ(record.loss(), 0.5);
  EXPECT_EQ(record.heatmap_loss(), 6.0 / 16);
  EXPECT_EQ(record.coordinate_loss(), 2.0 / 16);
  EXPECT_EQ(record.samples(), 20);
  EXPECT_EQ(record.samples_per_second(), 5);
  EXPECT_EQ(record.learning_rate(), 1e-3);
  EXPECT_EQ(record.skipped_steps(), 1);
  EXPECT_EQ(record.step(), 10);
  EXPECT_EQ(state.epochs_done(), 3);
  EXPECT_EQ(UnfinishedEpoch(state).steps, 0);
  // Nothing of the finished epoch is left to resume from.
  TrainingState cleared = state;
  cleared.clear_curve();
  cleared.clear_epochs_done();
  cleared.clear_step();
  EXPECT_EQ(cleared.ByteSizeLong(), 0u);
}

TEST(TrainingStateTest, FinishEpochWithoutAppliedStepsHasNoLoss) {
  TrainingState state;
  EpochTotals totals;
  totals.samples = 4;
  FinishEpoch(0, totals, 0, 1e-3, &state);
  EXPECT_EQ(state.curve(0).loss(), 0);
  EXPECT_EQ(state.curve(0).samples_per_second(), 0);
}

TEST(TrainingStateTest, DeleteOldCheckpointsKeepsTheNewestAndTheState) {
  const std::string dir = TempDir("keep");
  TrainingState state;
  for (int epoch = 0; epoch < 5; ++epoch) {
    FinishEpoch(epoch, EpochTotals(), 1, 1e-3, &state);
    Touch(dir, EpochCheckpointName(epoch));
    Touch(dir, EstimatorCheckpointName(EpochCheckpointName(epoch)));
  }
  state.set_checkpoint(EpochCheckpointName(4));
  DeleteOldCheckpoints(dir, state, 2);
  EXPECT_TRUE(Exists(dir, "epoch_0004.pt"));
  EXPECT_TRUE(Exists(dir, "epoch_0003.pt"));
  EXPECT_TRUE(Exists(dir, "epoch_0002.pt"));
  EXPECT_TRUE(Exists(dir, "epoch_0002.estimator.pt"));
  EXPECT_FALSE(Exists(dir, "epoch_0001.pt"));
  EXPECT_FALSE(Exists(dir, "epoch_0001.estimator.pt"));
  EXPECT_FALSE(Exists(dir, "epoch_0000.pt"));
  // keep 0: only the state's own stays.
  DeleteOldCheckpoints(dir, state, 0);
  EXPECT_TRUE(Exists(dir, "epoch_0004.pt"));
  EXPECT_FALSE(Exists(dir, "epoch_0003.pt"));
  EXPECT_FALSE(Exists(dir, "epoch_0002.pt"));
}

}  // namespace
}  // namespace posefix
