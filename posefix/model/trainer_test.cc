#include "posefix/model/trainer.h"

#include <signal.h>
#include <sys/wait.h>
#include <torch/cuda.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "posefix/core/coco_io.h"
#include "posefix/core/test_util.h"
#include "posefix/core/text_proto.h"
#include "posefix/data/training_sample.h"
#include "posefix/model/checkpoint.h"
#include "posefix/model/compute_threads.h"
#include "posefix/model/network.h"
#include "posefix/model/training_state.h"

namespace posefix {
namespace {

namespace fs = std::filesystem;

constexpr char kChildDirVariable[] = "POSEFIX_TRAINER_TEST_CHILD_DIR";
constexpr char kChildStepsVariable[] = "POSEFIX_TRAINER_TEST_CHILD_CHECKPOINT_STEPS";

std::string TempDir(const std::string& name) {
  const fs::path dir = fs::path(::testing::TempDir()) / name;
  fs::remove_all(dir);
  return dir.string();
}

// A tiny C2F model on the fixture images: ResNet-18 at 96x64.
TrainerConfig TinyConfig(const std::string& checkpoint_dir) {
  TrainerConfig config;
  config.model.set_resnet_depth(18);
  config.model.set_input_height(96);
  config.model.set_input_width(64);
  config.training.set_epochs(3);
  config.training.set_batch_size(4);
  config.training.set_max_steps_per_epoch(3);
  config.training.set_learning_rate(1e-3);
  config.training.set_device("cpu");
  // Fixed intra-op threads: CPU results are bit-identical for a fixed count.
  // The count is the program's to set, as tools:train does.
  config.training.set_num_threads(2);
  SetComputeThreads(config.training.num_threads());
  config.data.set_num_threads(2);
  config.train_annotations = "testdata/coco/annotations/person_keypoints_val2017_fixture.json";
  config.train_images = "testdata/coco/val2017";
  config.checkpoint_dir = checkpoint_dir;
  config.seed = 7;
  return config;
}

// Every parameter and buffer of two checkpoints, bit for bit.
void ExpectSameWeights(const std::string& a, const std::string& b) {
  const CheckpointInfo info = OrFail(ReadCheckpointInfo(a));
  const ResolvedModelOptions options = *ResolveModelOptions(info.options);
  PoseFixNetImpl net_a(options), net_b(options);
  ASSERT_TRUE(LoadCheckpoint(a, net_a, nullptr).ok());
  ASSERT_TRUE(LoadCheckpoint(b, net_b, nullptr).ok());
  const auto params_b = net_b.named_parameters();
  for (const auto& item : net_a.named_parameters()) {
    EXPECT_TRUE(item.value().equal(params_b[item.key()])) << item.key();
  }
  const auto buffers_b = net_b.named_buffers();
  for (const auto& item : net_a.named_buffers()) {
    EXPECT_TRUE(item.value().equal(buffers_b[item.key()])) << item.key();
  }
}

TEST(TrainerTest, LossFallsOnTinyData) {
  TrainerConfig config = TinyConfig(TempDir("loss_falls"));
  config.training.set_epochs(10);
  config.training.set_max_steps_per_epoch(2);
  config.data = WithoutAugmentation(config.data);
  std::ostringstream progress;
  absl::StatusOr<TrainingResult> result = Train(config, &progress);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  ASSERT_EQ(result->curve.size(), 10u);
  const double first = result->curve.front().loss, last = result->curve.back().loss;
  EXPECT_LT(last, 0.8 * first) << progress.str();
  EXPECT_EQ(result->steps, 20);
  EXPECT_EQ(result->device, "cpu");
  EXPECT_FALSE(result->resumed);
  EXPECT_TRUE(fs::exists(result->final_checkpoint));
  EXPECT_EQ(*LatestCheckpoint(config.checkpoint_dir), result->final_checkpoint);
  // Not a terminal: plain progress lines with loss, speed and time left.
  EXPECT_NE(progress.str().find("samples/s"), std::string::npos) << progress.str();
  EXPECT_NE(progress.str().find(" left"), std::string::npos);
  EXPECT_EQ(progress.str().find('\r'), std::string::npos);
  // A finished run returns at once with the same curve.
  absl::StatusOr<TrainingResult> again = Train(config, nullptr);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->resumed);
  ASSERT_EQ(again->curve.size(), 10u);
  EXPECT_EQ(again->curve.back().loss, last);
}

// Runs in a child process started by ResumesAfterKillToTheSameWeights.
TEST(TrainerChild, TrainUntilKilled) {
  const char* dir = std::getenv(kChildDirVariable);
  if (dir == nullptr) GTEST_SKIP() << "only run as the child of the resume test";
  TrainerConfig config = TinyConfig(dir);
  config.training.set_max_steps_per_epoch(6);
  if (const char* steps = std::getenv(kChildStepsVariable)) {
    config.training.set_checkpoint_every_steps(std::atoi(steps));
  }
  ASSERT_TRUE(Train(config, nullptr).ok());
}

// Trains in a child process that is SIGKILLed as soon as its first
// checkpoint (per epoch, or every `checkpoint_every_steps`) is complete,
// resumes in this process, and compares with an uninterrupted run.
void KillResumeAndCompare(const std::string& name, int checkpoint_every_steps) {
  const std::string killed_dir = TempDir(name + "_killed");
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    setenv(kChildDirVariable, killed_dir.c_str(), 1);
    setenv(kChildStepsVariable, std::to_string(checkpoint_every_steps).c_str(), 1);
    execl("/proc/self/exe", "trainer_test", "--gtest_filter=TrainerChild.TrainUntilKilled",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  // SIGKILL the child as soon as its first checkpoint is complete.
  const std::string state_path = killed_dir + "/training_state.pbtxt";
  bool killed = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(3);
  int wait_status = 0;
  bool exited = false;
  while (std::chrono::steady_clock::now() < deadline) {
    if (waitpid(child, &wait_status, WNOHANG) == child) {
      exited = true;
      break;
    }
    if (fs::exists(state_path)) {
      kill(child, SIGKILL);
      killed = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  if (!exited) waitpid(child, &wait_status, 0);
  ASSERT_TRUE(killed) << "the child wrote no checkpoint";
  ASSERT_TRUE(WIFSIGNALED(wait_status)) << "the child finished before it was killed";
  TrainingState state;
  ASSERT_TRUE(ReadTextProto(state_path, &state).ok());
  ASSERT_LT(state.epochs_done(), 3);

  if (checkpoint_every_steps > 0) {
    ASSERT_EQ(state.steps_in_epoch(), checkpoint_every_steps) << "expected a mid-epoch state";
  }

  TrainerConfig config = TinyConfig(killed_dir);
  config.training.set_max_steps_per_epoch(6);
  config.training.set_checkpoint_every_steps(checkpoint_every_steps);
  absl::StatusOr<TrainingResult> resumed = Train(config, nullptr);
  ASSERT_TRUE(resumed.ok()) << resumed.status().ToString();
  EXPECT_TRUE(resumed->resumed);

  config.checkpoint_dir = TempDir(name + "_uninterrupted");
  config.training.set_checkpoint_every_steps(0);
  absl::StatusOr<TrainingResult> straight = Train(config, nullptr);
  ASSERT_TRUE(straight.ok()) << straight.status().ToString();
  EXPECT_FALSE(straight->resumed);

  ASSERT_EQ(resumed->curve.size(), 3u);
  ASSERT_EQ(straight->curve.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(resumed->curve[i].loss, straight->curve[i].loss) << "epoch " << i;
  }
  EXPECT_EQ(resumed->steps, straight->steps);
  ExpectSameWeights(resumed->final_checkpoint, straight->final_checkpoint);
}

TEST(TrainerTest, ResumesAfterKillToTheSameWeights) { KillResumeAndCompare("epoch", 0); }

TEST(TrainerTest, ResumesMidEpochAfterKillToTheSameWeights) {
  KillResumeAndCompare("mid_epoch", 2);
}

TEST(TrainerTest, ResumeWithAnotherSeedFails) {
  TrainerConfig config = TinyConfig(TempDir("seed"));
  config.training.set_epochs(1);
  config.training.set_max_steps_per_epoch(1);
  ASSERT_TRUE(Train(config, nullptr).ok());
  config.seed = 8;
  absl::StatusOr<TrainingResult> result = Train(config, nullptr);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("training_state.pbtxt: seed:"), std::string::npos)
      << result.status();
}

TEST(TrainerTest, ResumeAtAnotherInputSizeFails) {
  TrainerConfig config = TinyConfig(TempDir("input_size"));
  config.training.set_epochs(1);
  config.training.set_max_steps_per_epoch(1);
  ASSERT_TRUE(Train(config, nullptr).ok());
  config.training.set_epochs(2);
  config.model.set_input_height(128);
  config.model.set_input_width(96);
  absl::StatusOr<TrainingResult> result = Train(config, nullptr);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find(
                "options.input_height: the run in this directory trains at 96x64, the "
                "configuration asks for 128x96"),
            std::string::npos)
      << result.status();
}

TEST(TrainerTest, EstimatorModeTrainsWithoutPoseInput) {
  TrainerConfig config = TinyConfig(TempDir("estimator"));
  config.training.set_mode(ESTIMATOR);
  config.training.set_epochs(1);
  config.training.set_max_steps_per_epoch(1);
  absl::StatusOr<TrainingResult> result = Train(config, nullptr);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  const CheckpointInfo info = OrFail(ReadCheckpointInfo(result->final_checkpoint));
  EXPECT_EQ(info.options.input_encoding(), POSE_INPUT_NONE);

  // E2E-refine appends a refinement net to it and trains both.
  TrainerConfig e2e = TinyConfig(TempDir("e2e"));
  e2e.training.set_mode(E2E_REFINE);
  e2e.training.set_epochs(1);
  e2e.training.set_max_steps_per_epoch(1);
  e2e.estimator_checkpoint = result->final_checkpoint;
  absl::StatusOr<TrainingResult> refined = Train(e2e, nullptr);
  ASSERT_TRUE(refined.ok()) << refined.status().ToString();
  EXPECT_TRUE(fs::exists(refined->final_estimator_checkpoint));
  EXPECT_TRUE(std::isfinite(refined->curve[0].loss));
  // The refinement loss reached the estimator: its fine-tuned weights are not
  // the ones it started from.
  auto load = [](const std::string& path) {
    const CheckpointInfo header = OrFail(ReadCheckpointInfo(path));
    PoseFixNet net(*ResolveModelOptions(header.options));
    EXPECT_TRUE(LoadCheckpoint(path, *net, nullptr).ok()) << path;
    return net;
  };
  PoseFixNet before = load(result->final_checkpoint);
  PoseFixNet after = load(refined->final_estimator_checkpoint);
  double change = 0;
  const auto before_parameters = before->parameters(), after_parameters = after->parameters();
  ASSERT_EQ(before_parameters.size(), after_parameters.size());
  for (size_t i = 0; i < before_parameters.size(); ++i) {
    change += (after_parameters[i] - before_parameters[i]).abs().sum().item<double>();
  }
  EXPECT_GT(change, 0) << "E2E-refine left the estimator untouched";

  // An estimator with a Gaussian (argmax) output cannot be decoded
  // differentiably: refused, not silently soft-argmaxed.
  TrainerConfig gaussian = TinyConfig(TempDir("gaussian_estimator"));
  gaussian.model.set_output_encoding(POSE_OUTPUT_GAUSSIAN);
  gaussian.training.set_mode(ESTIMATOR);
  gaussian.training.set_epochs(1);
  gaussian.training.set_max_steps_per_epoch(1);
  absl::StatusOr<TrainingResult> heatmap_estimator = Train(gaussian, nullptr);
  ASSERT_TRUE(heatmap_estimator.ok()) << heatmap_estimator.status().ToString();
  TrainerConfig e2e_gaussian = TinyConfig(TempDir("e2e_gaussian"));
  e2e_gaussian.training.set_mode(E2E_REFINE);
  e2e_gaussian.training.set_epochs(1);
  e2e_gaussian.estimator_checkpoint = heatmap_estimator->final_checkpoint;
  absl::StatusOr<TrainingResult> refused = Train(e2e_gaussian, nullptr);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("options.output_encoding: E2E_REFINE decodes"),
            std::string::npos)
      << refused.status();
}

// The status head trains with the heatmaps; after the last epoch the
// selective policy's keep threshold is chosen on synthesized training samples
// and stored in the checkpoint; a Lite backbone starts from weights too.
TEST(TrainerTest, StatusHeadTrainsAndStoresItsKeepThreshold) {
  TrainerConfig config = TinyConfig(TempDir("status_head"));
  config.model.clear_resnet_depth();
  config.model.set_backbone(BACKBONE_EFFICIENTNET_LITE0);
  config.model.mutable_status_head()->set_enabled(true);
  config.training.set_epochs(1);
  config.training.set_max_steps_per_epoch(2);
  std::ostringstream progress;
  absl::StatusOr<TrainingResult> result = Train(config, &progress);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  const CheckpointInfo info = OrFail(ReadCheckpointInfo(result->final_checkpoint));
  EXPECT_TRUE(info.options.status_head().enabled());
  EXPECT_GT(info.options.status_head().keep_threshold(), 0);
  EXPECT_LE(info.options.status_head().keep_threshold(), 1);
  EXPECT_NE(progress.str().find("| good |"), std::string::npos) << progress.str();
  EXPECT_NE(progress.str().find("EfficientNet-Lite0"), std::string::npos) << progress.str();

  TrainerConfig estimator = TinyConfig(TempDir("status_head_estimator"));
  estimator.model.mutable_status_head()->set_enabled(true);
  estimator.training.set_mode(ESTIMATOR);
  EXPECT_FALSE(Train(estimator, nullptr).ok());
}

TEST(TrainerTest, BadConfigurationsNameTheField) {
  TrainerConfig config = TinyConfig(TempDir("bad"));
  config.training.add_lr_milestones(5);
  config.training.add_lr_milestones(3);
  absl::StatusOr<TrainingResult> result = Train(config, nullptr);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(
      result.status().message().find("TrainerConfig: training.lr_milestones[1]: must increase"),
      std::string::npos)
      << result.status();

  config = TinyConfig(TempDir("bad"));
  config.training.set_mode(E2E_REFINE);
  result = Train(config, nullptr);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("estimator_checkpoint"), std::string::npos);

  config = TinyConfig(TempDir("bad"));
  config.data.set_input_height(128);
  result = Train(config, nullptr);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("data.input_height"), std::string::npos)
      << result.status().ToString();

  config = TinyConfig(TempDir("bad"));
  config.train_annotations = "/nonexistent/annotations.json";
  result = Train(config, nullptr);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("/nonexistent/annotations.json"), std::string::npos);

  config = TinyConfig(TempDir("bad"));
  config.train_estimates = "/nonexistent/estimates.json";
  result = Train(config, nullptr);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("/nonexistent/estimates.json"), std::string::npos);

  // Estimates of no training person are a mistake, not a silent no-op.
  config = TinyConfig(TempDir("bad"));
  KeypointResult elsewhere;
  elsewhere.image_id = 999999999;
  elsewhere.keypoints.assign(17, Keypoint{10, 10, 1});
  elsewhere.score = 1;
  config.train_estimates = (fs::path(::testing::TempDir()) / "elsewhere.json").string();
  ASSERT_TRUE(WriteCocoResults(config.train_estimates, {elsewhere}).ok());
  result = Train(config, nullptr);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("elsewhere.json: image_id:"), std::string::npos)
      << result.status();
}

TEST(TrainerTest, TrainsWithAnEstimatorsPosesForUnlabelledKeypoints) {
  TrainerConfig config = TinyConfig(TempDir("estimates"));
  config.training.set_epochs(1);
  config.training.set_max_steps_per_epoch(1);
  config.train_estimates =
      "testdata/results/movenet_thunder_topdown_APH56dets_fixture_results.json";
  std::ostringstream log;
  absl::StatusOr<TrainingResult> result = Train(config, &log);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->steps, 1);
  EXPECT_NE(log.str().find("estimates for unlabelled keypoints: "), std::string::npos) << log.str();
}

TEST(TrainerTest, MixedPrecisionOnCuda) {
  if (!torch::cuda::is_available()) {
    GTEST_SKIP() << "no CUDA device: the mixed-precision path is not exercised here";
  }
  TrainerConfig config = TinyConfig(TempDir("cuda"));
  config.training.set_device("cuda");
  config.training.set_mixed_precision(true);
  config.training.set_epochs(1);
  absl::StatusOr<TrainingResult> result = Train(config, nullptr);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->device.rfind("cuda", 0), 0u);
  EXPECT_TRUE(std::isfinite(result->curve[0].loss));
}

}  // namespace
}  // namespace posefix
