#include "posefix/experiments/run_directory.h"

#include <cstdlib>
#include <filesystem>
#include <string>
#include <utility>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "posefix/core/file_util.h"
#include "posefix/core/test_util.h"
#include "posefix/core/text_proto.h"
#include "posefix/experiments/experiment_spec.h"

namespace posefix {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using State = ExistingRun::State;

// A fresh, empty folder under the test's temporary folder.
std::string FreshFolder(const std::string& name) {
  const std::string path = JoinPath(std::getenv("TEST_TMPDIR"), name);
  std::filesystem::remove_all(path);
  std::filesystem::create_directories(path);
  return path;
}

ExperimentSpec SpecWithSeed(int seed) {
  ExperimentSpec spec;
  spec.set_name("c2f");
  spec.set_seed(seed);
  spec.mutable_dataset()->set_input_results("results/thunder.json");
  return spec;
}

RunMetrics FinishedMetrics(const ExperimentSpec& spec, double input_ap, double refined_ap) {
  RunMetrics metrics = NewRunMetrics(spec, RunId(spec), "abc");
  metrics.mutable_before()->mutable_stats()->set_ap(input_ap);
  metrics.mutable_after()->mutable_stats()->set_ap(refined_ap);
  metrics.set_finished_at("2024-01-02T03:04:05Z");
  return metrics;
}

TEST(RunDirectoryTest, NewRunHasNoDirectory) {
  const std::string out = FreshFolder("new");
  const ExistingRun run =
      OrFail(FindExistingRun(JoinPath(out, "c2f-1"), SpecWithSeed(1), "c2f.pbtxt"));
  EXPECT_EQ(run.state, State::kNone);
  EXPECT_FALSE(PathExists(JoinPath(out, "c2f-1")));
}

TEST(RunDirectoryTest, ClaimWritesTheRecordOnceAndLocksTheDirectory) {
  const std::string out = FreshFolder("claim");
  const std::string run_dir = JoinPath(out, "c2f-1");
  const ExperimentSpec spec = SpecWithSeed(1);
  ResolvedRunOptions options;
  options.set_device("cpu");
  {
    absl::StatusOr<FileLock> lock = ClaimRunDirectory(out, run_dir, spec, options);
    ASSERT_TRUE(lock.ok()) << lock.status();
    ExperimentSpec written;
    ASSERT_TRUE(ReadTextProto(JoinPath(run_dir, "spec.pbtxt"), &written).ok());
    EXPECT_EQ(written.seed(), 1);
    ResolvedRunOptions recorded;
    ASSERT_TRUE(ReadTextProto(JoinPath(run_dir, "resolved_options.pbtxt"), &recorded).ok());
    EXPECT_EQ(recorded.device(), "cpu");
    const std::string index = OrFail(ReadFileToString(JoinPath(out, "index.tsv")));
    EXPECT_THAT(index, HasSubstr("c2f-1\tc2f\tC2F\tincomplete\t\t\t\n"));

    // The same spec started again while this claim holds: refused.
    absl::StatusOr<FileLock> second = ClaimRunDirectory(out, run_dir, spec, options);
    EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_THAT(second.status().message(), HasSubstr("this spec is running in another process"));
  }
  // A resumed run keeps the record of its first start.
  options.set_device("cuda");
  ASSERT_TRUE(ClaimRunDirectory(out, run_dir, spec, options).ok());
  ResolvedRunOptions recorded;
  ASSERT_TRUE(ReadTextProto(JoinPath(run_dir, "resolved_options.pbtxt"), &recorded).ok());
  EXPECT_EQ(recorded.device(), "cpu");
  const ExistingRun run = OrFail(FindExistingRun(run_dir, spec, "c2f.pbtxt"));
  EXPECT_EQ(run.state, State::kUnfinished);
  EXPECT_EQ(run.unfinished_metrics, "");
}

TEST(RunDirectoryTest, AnotherSpecsDirectoryIsNeverTaken) {
  const std::string out = FreshFolder("clash");
  const std::string run_dir = JoinPath(out, "c2f-1");
  ASSERT_TRUE(ClaimRunDirectory(out, run_dir, SpecWithSeed(1), ResolvedRunOptions()).ok());
  absl::StatusOr<ExistingRun> other = FindExistingRun(run_dir, SpecWithSeed(2), "other.pbtxt");
  EXPECT_EQ(other.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(other.status().message(),
              HasSubstr("c2f-1: holds a run of another spec (" + run_dir +
                        "/spec.pbtxt differs from other.pbtxt); not overwriting it"));

  const std::string foreign = JoinPath(out, "foreign-1");
  std::filesystem::create_directories(foreign);
  absl::StatusOr<ExistingRun> unreadable = FindExistingRun(foreign, SpecWithSeed(1), "c2f.pbtxt");
  EXPECT_EQ(unreadable.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(unreadable.status().message(),
              HasSubstr("exists without a readable spec.pbtxt; not overwriting it"));
  EXPECT_TRUE(std::filesystem::is_empty(foreign));
}

TEST(RunDirectoryTest, OnlyACompleteMetricsRecordFinishesARun) {
  const std::string out = FreshFolder("finish");
  const std::string run_dir = JoinPath(out, "c2f-1");
  const ExperimentSpec spec = SpecWithSeed(1);
  ASSERT_TRUE(ClaimRunDirectory(out, run_dir, spec, ResolvedRunOptions()).ok());
  // A killed write: an empty metrics.pb and a dead process's temporary.
  ASSERT_TRUE(WriteFileAtomically(JoinPath(run_dir, "metrics.pb"), "").ok());
  ASSERT_TRUE(WriteFileAtomically(JoinPath(run_dir, "refined_results.json.tmp.4194305"), "[").ok());
  ExistingRun run = OrFail(FindExistingRun(run_dir, spec, "c2f.pbtxt"));
  EXPECT_EQ(run.state, State::kUnfinished);
  EXPECT_THAT(run.unfinished_metrics, HasSubstr("metrics.pb: run_id: missing"));
  EXPECT_EQ(run.removed_temporaries, 1);
  EXPECT_FALSE(PathExists(JoinPath(run_dir, "refined_results.json.tmp.4194305")));

  ASSERT_TRUE(RecordFinishedRun(out, run_dir, FinishedMetrics(spec, 0.5617, 0.25)).ok());
  run = OrFail(FindExistingRun(run_dir, spec, "c2f.pbtxt"));
  EXPECT_EQ(run.state, State::kFinished);
  EXPECT_EQ(run.metrics.run_id(), RunId(spec));
  EXPECT_DOUBLE_EQ(run.metrics.after().stats().ap(), 0.25);
  RunMetrics text;
  ASSERT_TRUE(ReadTextProto(JoinPath(run_dir, "metrics.pbtxt"), &text).ok());
  EXPECT_EQ(text.source_revision(), "abc");
}

TEST(RunDirectoryTest, IndexListsEveryRunWithItsState) {
  const std::string out = FreshFolder("index");
  const ExperimentSpec finished = SpecWithSeed(1);
  ExperimentSpec unfinished = SpecWithSeed(2);
  unfinished.set_name("integral_pose");
  unfinished.mutable_training()->set_mode(ESTIMATOR);
  ASSERT_TRUE(
      ClaimRunDirectory(out, JoinPath(out, "b-run"), unfinished, ResolvedRunOptions()).ok());
  ASSERT_TRUE(ClaimRunDirectory(out, JoinPath(out, "a-run"), finished, ResolvedRunOptions()).ok());
  std::filesystem::create_directories(JoinPath(out, "report"));  // no spec.pbtxt: not a run
  ASSERT_TRUE(
      RecordFinishedRun(out, JoinPath(out, "a-run"), FinishedMetrics(finished, 0.5617, 0.25)).ok());
  const std::string index = OrFail(ReadFileToString(JoinPath(out, "index.tsv")));
  EXPECT_THAT(absl::StrSplit(index, '\n'),
              ElementsAre("run_id\tname\tvariant\tstate\tinput_ap\trefined_ap\tfinished_at",
                          "a-run\tc2f\tC2F\tfinished\t0.5617\t0.2500\t2024-01-02T03:04:05Z",
                          "b-run\tintegral_pose\tIntegralPose\tincomplete\t\t\t", ""));
}

TEST(RunDirectoryTest, NewRunMetricsLabelsTheInput) {
  ExperimentSpec spec = SpecWithSeed(7);
  RunMetrics metrics = NewRunMetrics(spec, "c2f-1", "rev");
  EXPECT_EQ(metrics.input_label(), "thunder.json");
  EXPECT_EQ(metrics.variant(), "C2F");
  EXPECT_EQ(metrics.seed(), 7);
  EXPECT_EQ(metrics.source_revision(), "rev");
  spec.mutable_dataset()->set_input_label("MoveNet Thunder");
  EXPECT_EQ(NewRunMetrics(spec, "c2f-1", "rev").input_label(), "MoveNet Thunder");
}

}  // namespace
}  // namespace posefix
