#include "posefix/model/training_progress.h"

#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gtest/gtest.h"

namespace posefix {
namespace {

std::vector<std::string> Lines(const std::ostringstream& out) {
  return absl::StrSplit(out.str(), '\n', absl::SkipEmpty());
}

TEST(TrainingProgressTest, FormatDuration) {
  EXPECT_EQ(FormatDuration(0), "0s");
  EXPECT_EQ(FormatDuration(42.4), "42s");
  EXPECT_EQ(FormatDuration(59.6), "1m00s");
  EXPECT_EQ(FormatDuration(187), "3m07s");
  EXPECT_EQ(FormatDuration(7500), "2h05m");
  EXPECT_EQ(FormatDuration(-1), "?");
  EXPECT_EQ(FormatDuration(std::numeric_limits<double>::infinity()), "?");
}

TEST(TrainingProgressTest, OnlyTheStandardStreamsCanBeTerminals) {
  std::ostringstream out;
  EXPECT_FALSE(IsTerminal(&out));
  EXPECT_FALSE(IsTerminal(nullptr));
}

TEST(TrainingProgressTest, ProgressLine) {
  EXPECT_EQ(ProgressLine(1, 10, 5, 10, 0.12341, 85, 187),
            "epoch 2/10 [==========          ] 5/10 loss 0.1234  85.0 samples/s  3m07s left");
  EXPECT_EQ(ProgressLine(0, 1, 0, 0, 0, 0, 0),
            "epoch 1/1 [====================] 0/0 loss 0.0000  0.0 samples/s  0s left");
}

TEST(TrainingProgressTest, PlainLinesEveryFewStepsAndAtEachEpochsEnd) {
  std::ostringstream out;
  TrainingProgress progress(&out, /*log_every_steps=*/2, /*epochs=*/2, /*steps_per_epoch=*/5);
  for (int step = 1; step <= 5; ++step) progress.StepDone(0, step, 4, 0.5);
  progress.EpochDone(0, 5, 0.5);
  progress.Message("done");
  const std::vector<std::string> lines = Lines(out);
  ASSERT_EQ(lines.size(), 4u) << out.str();
  EXPECT_EQ(lines[0].rfind("epoch 1/2 [========            ] 2/5 loss 0.5000", 0), 0u) << lines[0];
  EXPECT_EQ(lines[1].rfind("epoch 1/2 [================    ] 4/5", 0), 0u) << lines[1];
  EXPECT_EQ(lines[2].rfind("epoch 1/2 [====================] 5/5", 0), 0u) << lines[2];
  EXPECT_NE(lines[2].find(" samples/s "), std::string::npos);
  EXPECT_NE(lines[2].find(" left"), std::string::npos);
  EXPECT_EQ(lines[3], "done");
  EXPECT_EQ(out.str().find('\r'), std::string::npos);
}

TEST(TrainingProgressTest, NoStreamNoOutput) {
  TrainingProgress progress(nullptr, 1, 1, 1);
  progress.StepDone(0, 1, 4, 0.5);
  progress.EpochDone(0, 1, 0.5);
  progress.Message("nothing");
}

}  // namespace
}  // namespace posefix
