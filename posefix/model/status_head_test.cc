#include "posefix/model/status_head.h"

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace posefix {
namespace {

using ::testing::HasSubstr;

StatusRecord Record(int label, double good, double ks_input, double ks_refined) {
  StatusRecord record;
  record.label = label;
  record.probabilities = {good, 1 - good, 0, 0, 0};
  record.ks_input = ks_input;
  record.ks_refined = ks_refined;
  return record;
}

// Good inputs the head is sure of are better kept; wrong inputs (low
// P(good)) are better refined: the threshold lands between the two groups.
TEST(StatusHeadTest, KeepThresholdSeparatesWhatToKeepFromWhatToMove) {
  const std::vector<StatusRecord> records = {Record(0, 0.9, 0.95, 0.80), Record(0, 0.8, 0.90, 0.85),
                                             Record(1, 0.3, 0.40, 0.70), Record(4, 0.1, 0.01, 0.60),
                                             Record(2, 0.45, 0.05, 0.50)};
  const double threshold = ChooseKeepThreshold(records);
  EXPECT_GT(threshold, 0.45);
  EXPECT_LE(threshold, 0.8);
  const StatusHeadReport report = SummarizeStatusRecords(records, threshold);
  EXPECT_EQ(report.keypoints, 5);
  EXPECT_DOUBLE_EQ(report.moved_fraction, 3.0 / 5);
  EXPECT_DOUBLE_EQ(report.mean_ks_input, (0.95 + 0.90 + 0.40 + 0.01 + 0.05) / 5);
  EXPECT_DOUBLE_EQ(report.mean_ks_refined, (0.80 + 0.85 + 0.70 + 0.60 + 0.50) / 5);
  EXPECT_DOUBLE_EQ(report.mean_ks_selective, (0.95 + 0.90 + 0.70 + 0.60 + 0.50) / 5);
  // Argmax: P(good) 0.9, 0.8 -> good; 0.3, 0.1, 0.45 -> jitter.
  EXPECT_EQ(report.confusion[0][0], 2);
  EXPECT_EQ(report.confusion[1][1], 1);
  EXPECT_EQ(report.confusion[4][1], 1);
  EXPECT_EQ(report.confusion[2][1], 1);
  const std::string table = FormatStatusHeadReport(report);
  EXPECT_THAT(table, HasSubstr("| good | 2 | 1.000 | 1.000 |"));
  EXPECT_THAT(table, HasSubstr("| jitter | 1 | 1.000 | 0.333 |"));
  EXPECT_THAT(table, HasSubstr("60.0% moved"));
}

// When refining never helps, everything is kept (the lowest threshold);
// when it always helps, everything moves.
TEST(StatusHeadTest, ExtremesKeepAllOrMoveAll) {
  const std::vector<StatusRecord> keep = {Record(0, 0.5, 0.9, 0.1), Record(1, 0.3, 0.8, 0.2)};
  EXPECT_DOUBLE_EQ(ChooseKeepThreshold(keep), 0.02);
  EXPECT_DOUBLE_EQ(SummarizeStatusRecords(keep, 0.02).moved_fraction, 0);
  const std::vector<StatusRecord> move = {Record(0, 0.95, 0.1, 0.9), Record(1, 0.3, 0.2, 0.8)};
  EXPECT_DOUBLE_EQ(ChooseKeepThreshold(move), 0.96);
  EXPECT_DOUBLE_EQ(SummarizeStatusRecords(move, 0.96).moved_fraction, 1);
  EXPECT_EQ(SummarizeStatusRecords({}, 0.5).keypoints, 0);
}

}  // namespace
}  // namespace posefix
