// The runner end to end on the smoke suite's specs (1 epoch of 2 steps,
// EfficientNet-Lite0 at 96x64, the embedded images): resuming, clashing run
// directories, dependency runs, end-to-end and refine-only runs.

#include "posefix/experiments/runner.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "posefix/core/coco_io.h"
#include "posefix/core/file_util.h"
#include "posefix/core/test_util.h"
#include "posefix/core/text_proto.h"
#include "posefix/experiments/experiment_spec.h"
#include "posefix/experiments/report.h"

namespace posefix {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::string kSmoke = "posefix/experiments/specs/smoke/";
const std::string kThunderResults =
    "testdata/results/movenet_thunder_topdown_APH56dets_fixture_eval_results.json";

std::string TestPath(const std::string& name) { return JoinPath(std::getenv("TEST_TMPDIR"), name); }

// The sorted names in `folder`.
std::vector<std::string> FilesIn(const std::string& folder) {
  std::vector<std::string> names;
  for (const fs::directory_entry& entry : fs::directory_iterator(folder)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string RunIdOf(const std::string& spec_path) {
  return RunId(OrFail(LoadExperimentSpec(spec_path)));
}

class RunnerTest : public ::testing::Test {
 protected:
  // Options writing into a fresh output folder named `name`.
  RunnerOptions Options(const std::string& name) {
    RunnerOptions options;
    options.out_dir = TestPath(name);
    fs::remove_all(options.out_dir);
    options.source_revision = "test";
    options.log = &log_;
    return options;
  }

  // How many times the runner started training the run `run_id`.
  int TrainingStarts(const std::string& run_id) const {
    const std::string line = absl::StrCat("[", run_id, "] training");
    int starts = 0;
    for (absl::string_view logged : absl::StrSplit(log_.str(), '\n')) starts += logged == line;
    return starts;
  }

  std::ostringstream log_;
};

TEST_F(RunnerTest, ASecondRunReusesTheFinishedRunAndAResumeDoesNotRetrain) {
  const RunnerOptions options = Options("resume");
  const std::string spec = kSmoke + "c2f.pbtxt";
  const RunMetrics first = OrFail(RunExperiment(spec, options));
  const std::string run_dir = JoinPath(options.out_dir, first.run_id());
  EXPECT_EQ(first.run_id(), RunIdOf(spec));
  EXPECT_EQ(first.variant(), "C2F");
  EXPECT_EQ(first.source_revision(), "test");
  ASSERT_EQ(first.training_curve_size(), 1);
  EXPECT_EQ(first.training_curve(0).step(), 2);
  EXPECT_NEAR(first.before().stats().ap(), 0.5617, 5e-5);
  EXPECT_EQ(first.checkpoint(), "checkpoints/epoch_0000.pt");
  for (const char* file : {"spec.pbtxt", "resolved_options.pbtxt", "checkpoints/epoch_0000.pt",
                           "refined_results.json", "refine.pbtxt", "metrics.pbtxt", "metrics.pb"}) {
    EXPECT_TRUE(PathExists(JoinPath(run_dir, file))) << file;
  }
  ResolvedRunOptions recorded;
  ASSERT_TRUE(ReadTextProto(JoinPath(run_dir, "resolved_options.pbtxt"), &recorded).ok());
  EXPECT_EQ(recorded.model().input_height(), 96);
  EXPECT_EQ(recorded.training().epochs(), 1);
  EXPECT_EQ(recorded.data().input_width(), 64);
  EXPECT_EQ(recorded.evaluation().batch_size(), 32);
  EXPECT_EQ(TrainingStarts(first.run_id()), 1);

  const std::string state = JoinPath(run_dir, "checkpoints/training_state.pbtxt");
  const std::string refined = JoinPath(run_dir, "refined_results.json");
  const fs::file_time_type trained_at = fs::last_write_time(state);
  const fs::file_time_type refined_at = fs::last_write_time(refined);
  const RunMetrics again = OrFail(RunExperiment(spec, options));
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(again, first));
  EXPECT_THAT(log_.str(), HasSubstr("finished earlier; skipped"));
  EXPECT_EQ(TrainingStarts(first.run_id()), 1);

  // Killed before its metrics were written: it resumes with the evaluation,
  // keeping its training and refinement.
  fs::remove(JoinPath(run_dir, "metrics.pb"));
  fs::remove(JoinPath(run_dir, "metrics.pbtxt"));
  const RunMetrics resumed = OrFail(RunExperiment(spec, options));
  EXPECT_THAT(log_.str(), HasSubstr(absl::StrCat("[", first.run_id(), "] resuming")));
  EXPECT_EQ(fs::last_write_time(state), trained_at);
  EXPECT_EQ(fs::last_write_time(refined), refined_at);
  EXPECT_EQ(resumed.training_curve(0).loss(), first.training_curve(0).loss());
  EXPECT_EQ(resumed.timings().train_seconds(), first.timings().train_seconds());
  EXPECT_EQ(resumed.before().stats().ap(), first.before().stats().ap());
  EXPECT_EQ(resumed.after().stats().ap(), first.after().stats().ap());
  EXPECT_TRUE(PathExists(JoinPath(run_dir, "metrics.pb")));
}

TEST_F(RunnerTest, ADirectoryOfAnotherSpecStopsTheRunAndWhatDependsOnIt) {
  const RunnerOptions options = Options("clash");
  // Another spec's run where the C2F spec's run would go.
  ExperimentSpec other = OrFail(LoadExperimentSpec(kSmoke + "c2f.pbtxt"));
  const std::string run_id = RunId(other);
  const std::string run_dir = JoinPath(options.out_dir, run_id);
  other.set_seed(99);
  ASSERT_TRUE(CreateDirectories(run_dir).ok());
  ASSERT_TRUE(WriteTextProto(JoinPath(run_dir, "spec.pbtxt"), other).ok());

  absl::StatusOr<RunMetrics> clash = RunExperiment(kSmoke + "c2f.pbtxt", options);
  EXPECT_EQ(clash.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(clash.status().message(),
              HasSubstr(absl::StrCat(run_dir, ": holds a run of another spec (", run_dir,
                                     "/spec.pbtxt differs from ", kSmoke, "c2f.pbtxt)")));
  // A spec taking its checkpoint from that run stops the same way, before
  // anything of its own is written.
  absl::StatusOr<RunMetrics> dependent =
      RunExperiment(kSmoke + "table2_movenet_lightning.pbtxt", options);
  EXPECT_EQ(dependent.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(dependent.status().message(), HasSubstr("holds a run of another spec"));

  EXPECT_THAT(FilesIn(options.out_dir), ElementsAre(run_id));
  EXPECT_THAT(FilesIn(run_dir), ElementsAre("spec.pbtxt"));
  ExperimentSpec kept;
  ASSERT_TRUE(ReadTextProto(JoinPath(run_dir, "spec.pbtxt"), &kept).ok());
  EXPECT_EQ(kept.seed(), 99);
  EXPECT_THAT(log_.str(), ::testing::Not(HasSubstr("training")));
}

TEST_F(RunnerTest, DependencyRunsFirstAndOnce) {
  const RunnerOptions options = Options("dependency");
  const RunMetrics lightning =
      OrFail(RunExperiment(kSmoke + "table2_movenet_lightning.pbtxt", options));
  const RunMetrics thunder =
      OrFail(RunExperiment(kSmoke + "table2_movenet_thunder_gtboxes.pbtxt", options));
  const std::string c2f_id = RunIdOf(kSmoke + "c2f.pbtxt");
  EXPECT_EQ(TrainingStarts(c2f_id), 1);
  EXPECT_EQ(TrainingStarts(lightning.run_id()), 0);
  EXPECT_EQ(TrainingStarts(thunder.run_id()), 0);
  EXPECT_THAT(FilesIn(options.out_dir),
              ElementsAre(c2f_id, "index.lock", "index.tsv", lightning.run_id(), thunder.run_id()));

  const std::string c2f_checkpoint =
      JoinPath(options.out_dir, c2f_id + "/checkpoints/epoch_0000.pt");
  EXPECT_TRUE(PathExists(JoinPath(options.out_dir, c2f_id + "/metrics.pb")));
  for (const RunMetrics* run : {&lightning, &thunder}) {
    const std::string run_dir = JoinPath(options.out_dir, run->run_id());
    EXPECT_EQ(run->checkpoint(), c2f_checkpoint);
    EXPECT_EQ(run->training_curve_size(), 0);
    EXPECT_FALSE(PathExists(JoinPath(run_dir, "checkpoints")));
    ResolvedRunOptions recorded;
    ASSERT_TRUE(ReadTextProto(JoinPath(run_dir, "resolved_options.pbtxt"), &recorded).ok());
    EXPECT_EQ(recorded.checkpoint(), c2f_checkpoint);
    EXPECT_FALSE(recorded.has_training());
  }
  // Each refines its own input poses.
  EXPECT_NEAR(lightning.before().stats().ap(), 0.3055, 5e-5);
  EXPECT_NEAR(thunder.before().stats().ap(), 0.5815, 5e-5);
  EXPECT_EQ(lightning.input_label(), "MoveNet MultiPose Lightning");
}

TEST_F(RunnerTest, EndToEndRefineFineTunesItsEstimatorRunAndEstimatesFirst) {
  const RunnerOptions options = Options("e2e");
  const RunMetrics e2e = OrFail(RunExperiment(kSmoke + "e2e_refine.pbtxt", options));
  const std::string estimator_id = RunIdOf(kSmoke + "integral_pose.pbtxt");
  EXPECT_EQ(e2e.variant(), "E2E-refine");
  EXPECT_EQ(TrainingStarts(estimator_id), 1);
  EXPECT_EQ(TrainingStarts(e2e.run_id()), 1);
  const RunMetrics estimator =
      OrFail(ReadRunMetrics(JoinPath(options.out_dir, estimator_id + "/metrics.pb")));
  EXPECT_EQ(estimator.variant(), "IntegralPose");

  const std::string run_dir = JoinPath(options.out_dir, e2e.run_id());
  ResolvedRunOptions recorded;
  ASSERT_TRUE(ReadTextProto(JoinPath(run_dir, "resolved_options.pbtxt"), &recorded).ok());
  EXPECT_EQ(recorded.training().mode(), E2E_REFINE);
  EXPECT_EQ(recorded.estimator_checkpoint(),
            JoinPath(options.out_dir, estimator_id + "/checkpoints/epoch_0000.pt"));
  EXPECT_TRUE(PathExists(JoinPath(run_dir, "checkpoints/epoch_0000.estimator.pt")));
  // The fine-tuned estimator estimates one pose per input pose; those are
  // refined.
  const size_t inputs = OrFail(ReadCocoResults(kThunderResults)).size();
  EXPECT_EQ(OrFail(ReadCocoResults(JoinPath(run_dir, "estimated_results.json"))).size(), inputs);
  EXPECT_EQ(OrFail(ReadCocoResults(JoinPath(run_dir, "refined_results.json"))).size(), inputs);
  // Evaluated against the same input poses as every variant of Table 1.
  EXPECT_NEAR(e2e.before().stats().ap(), 0.5617, 5e-5);
}

TEST_F(RunnerTest, ARefineOnlyRunRefinesAsTheRunOfItsCheckpoint) {
  const RunnerOptions options = Options("refine_only");
  const RunMetrics c2f = OrFail(RunExperiment(kSmoke + "c2f.pbtxt", options));
  const std::string checkpoint =
      fs::absolute(JoinPath(options.out_dir, c2f.run_id() + "/" + c2f.checkpoint())).string();
  const std::string base = fs::absolute(kSmoke + "smoke_base.pbtxt").string();
  const std::string spec = TestPath("refine_only.pbtxt");
  ASSERT_TRUE(
      WriteFileAtomically(spec, absl::StrCat("base: \"", base, "\"\ncheckpoint: \"", checkpoint,
                                             "\"\nclear_fields: \"init_weights\""))
          .ok());
  const RunMetrics refined = OrFail(RunExperiment(spec, options));
  EXPECT_EQ(TrainingStarts(refined.run_id()), 0);
  EXPECT_EQ(refined.checkpoint(), checkpoint);
  const std::string run_dir = JoinPath(options.out_dir, refined.run_id());
  EXPECT_FALSE(PathExists(JoinPath(run_dir, "checkpoints")));
  // The same checkpoint, input and evaluation options: the same poses.
  EXPECT_EQ(
      OrFail(ReadFileToString(JoinPath(run_dir, "refined_results.json"))),
      OrFail(ReadFileToString(JoinPath(options.out_dir, c2f.run_id() + "/refined_results.json"))));
  EXPECT_EQ(refined.after().stats().ap(), c2f.after().stats().ap());

  // E2E_REFINE cannot refine from a checkpoint alone: refused before anything
  // is written.
  const std::string e2e = TestPath("e2e_refine_only.pbtxt");
  ASSERT_TRUE(WriteFileAtomically(
                  e2e, absl::StrCat("base: \"", spec, "\"\ntraining { mode: E2E_REFINE }\n"))
                  .ok());
  const RunnerOptions elsewhere = Options("e2e_refine_only");
  EXPECT_THAT(RunExperiment(e2e, elsewhere).status().message(),
              HasSubstr("e2e_refine_only.pbtxt: checkpoint: training.mode E2E_REFINE trains its "
                        "estimator with the refinement module and cannot refine from a "
                        "checkpoint alone"));
  EXPECT_FALSE(PathExists(elsewhere.out_dir));
}

}  // namespace
}  // namespace posefix
