#include "posefix/experiments/report.h"

#include <sys/stat.h>

#include <cstdlib>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "opencv2/imgcodecs.hpp"
#include "posefix/core/file_util.h"
#include "posefix/experiments/report_plots.h"

namespace posefix {
namespace {

using ::testing::HasSubstr;

constexpr char kRuns[] = "posefix/experiments/testdata/runs";
constexpr char kExpected[] = "posefix/experiments/testdata/expected_report.md";

std::string TempDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir != nullptr ? dir : "/tmp";
}

TEST(ReportTest, MarkdownMatchesTheGoldenFile) {
  absl::StatusOr<std::vector<RunMetrics>> runs = ReadRuns(kRuns);
  ASSERT_TRUE(runs.ok()) << runs.status();
  ASSERT_EQ(runs->size(), 4u);
  absl::StatusOr<std::string> expected = ReadFileToString(kExpected);
  ASSERT_TRUE(expected.ok()) << expected.status();
  const std::string actual = ReportMarkdown(*runs);
  if (actual != *expected) {
    // Regenerate with: bazel run //posefix/experiments:report --
    //   --runs=posefix/experiments/testdata/runs --out=/tmp/r
    // and copy /tmp/r/report.md over the golden file after checking it.
    WriteFileAtomically(TempDir() + "/actual_report.md", actual).IgnoreError();
  }
  EXPECT_EQ(actual, *expected);
}

TEST(ReportTest, RunsComeInReportOrder) {
  absl::StatusOr<std::vector<RunMetrics>> runs = ReadRuns(kRuns);
  ASSERT_TRUE(runs.ok()) << runs.status();
  std::vector<std::string> names;
  for (const RunMetrics& run : *runs) names.push_back(run.name());
  EXPECT_THAT(names, ::testing::ElementsAre("e2e_refine", "f2f", "c2f", "table2_thunder"));
}

TEST(ReportTest, ErrorFrequenciesSumToOne) {
  absl::StatusOr<std::vector<RunMetrics>> runs = ReadRuns(kRuns);
  ASSERT_TRUE(runs.ok());
  for (const RunMetrics& run : *runs) {
    double sum = 0;
    for (double f : ErrorFrequencies(run.before())) sum += f;
    EXPECT_NEAR(sum, 1.0, 1e-12) << run.name();
  }
}

TEST(ReportTest, CsvFilesHaveOneRowPerEntry) {
  absl::StatusOr<std::vector<RunMetrics>> runs = ReadRuns(kRuns);
  ASSERT_TRUE(runs.ok());
  std::map<std::string, std::string> csv = ReportCsvFiles(*runs);
  auto lines = [](const std::string& text) { return std::count(text.begin(), text.end(), '\n'); };
  EXPECT_EQ(lines(csv["table1.csv"]), 1 + 2);
  EXPECT_EQ(lines(csv["figure6.csv"]), 1 + 2);
  EXPECT_EQ(lines(csv["table2.csv"]), 1 + 2 * 2);
  EXPECT_EQ(lines(csv["figure8.csv"]), 1 + 2 * 5);
  EXPECT_THAT(csv["table2.csv"], HasSubstr("run,method,poses,AP,AP50"));
}

TEST(ReportTest, WritesEveryFileAndReadablePngs) {
  absl::StatusOr<std::vector<RunMetrics>> runs = ReadRuns(kRuns);
  ASSERT_TRUE(runs.ok());
  const std::string out = TempDir() + "/report";
  ASSERT_TRUE(WriteReport(*runs, out).ok());
  for (const std::string name :
       {"report.md", "table1.csv", "figure6.csv", "table2.csv", "figure7.csv", "figure8.csv"}) {
    EXPECT_TRUE(ReadFileToString(out + "/" + name).ok()) << name;
  }
  for (const std::string name : {"figure6.png", "figure7_c2f.png", "figure8_c2f.png",
                                 "figure7_table2_thunder.png", "figure8_table2_thunder.png"}) {
    const cv::Mat image = cv::imread(out + "/" + name);
    EXPECT_FALSE(image.empty()) << name;
  }
}

TEST(ReportTest, MissingFolderAndBadMetricsAreErrors) {
  EXPECT_THAT(ReadRuns(TempDir() + "/nowhere").status().message(), HasSubstr("nowhere"));
  const std::string dir = TempDir() + "/bad_runs";
  mkdir(dir.c_str(), 0755);
  mkdir((dir + "/x-1").c_str(), 0755);
  ASSERT_TRUE(WriteFileAtomically(dir + "/x-1/metrics.pbtxt", "name: \"x\"\nbogus: 1\n").ok());
  absl::StatusOr<std::vector<RunMetrics>> runs = ReadRuns(dir);
  EXPECT_THAT(runs.status().message(), HasSubstr("x-1/metrics.pbtxt"));
  EXPECT_THAT(runs.status().message(), HasSubstr("line 2"));
}

}  // namespace
}  // namespace posefix
