#include "posefix/experiments/experiment_spec.h"

#include <cstdlib>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "posefix/core/file_util.h"
#include "posefix/core/status_macros.h"
#include "posefix/core/text_proto.h"
#include "posefix/experiments/run_metrics.pb.h"
#include "posefix/model/model_options.h"

namespace posefix {
namespace {

using ::testing::HasSubstr;

std::string SpecsDir() { return "posefix/experiments/specs"; }

std::string TempDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir != nullptr ? dir : "/tmp";
}

std::string WriteSpec(const std::string& name, const std::string& text) {
  const std::string path = TempDir() + "/" + name;
  EXPECT_TRUE(WriteFileAtomically(path, text).ok());
  return path;
}

constexpr char kBase[] = R"pb(
  description: "base"
  model { resnet_depth: 18 input_height: 96 input_width: 64 }
  training {
    epochs: 3
    lr_milestones: [ 1, 2 ]
    device: "cpu"
  }
  dataset {
    train_annotations: "train.json"
    train_images: "images"
    eval_annotations: "eval.json"
    eval_images: "images"
    input_results: "input.json"
  }
  seed: 7
)pb";

class SuiteTest : public ::testing::TestWithParam<std::string> {};

TEST_P(SuiteTest, EverySpecParsesAndValidates) {
  absl::StatusOr<std::vector<std::string>> files = ListSpecFiles(SpecsDir() + "/" + GetParam());
  ASSERT_TRUE(files.ok()) << files.status();
  ASSERT_GE(files->size(), 7u);
  for (const std::string& file : *files) {
    absl::StatusOr<ExperimentSpec> spec = LoadExperimentSpec(file);
    ASSERT_TRUE(spec.ok()) << spec.status();
    EXPECT_TRUE(ValidateExperimentSpec(*spec, file).ok()) << ValidateExperimentSpec(*spec, file);
    EXPECT_TRUE(spec->base().empty());
    EXPECT_FALSE(spec->description().empty()) << file << ": the base's description is inherited";
  }
}

TEST_P(SuiteTest, HasEveryAblationOfTable1AndFigure6) {
  std::set<std::string> variants;
  for (const std::string name :
       {"c2f", "f2f", "c2c", "c2f_lh", "c2f_lc", "e2e_refine", "integral_pose"}) {
    const std::string path = SpecsDir() + "/" + GetParam() + "/" + name + ".pbtxt";
    absl::StatusOr<ExperimentSpec> spec = LoadExperimentSpec(path);
    ASSERT_TRUE(spec.ok()) << spec.status();
    EXPECT_EQ(spec->name(), name);
    variants.insert(ExperimentVariantName(*spec));
  }
  EXPECT_EQ(variants, (std::set<std::string>{"C2F", "F2F", "C2C", "C2F-L_H", "C2F-L_C",
                                             "E2E-refine", "IntegralPose"}));
}

INSTANTIATE_TEST_SUITE_P(Specs, SuiteTest,
                         ::testing::Values("smoke", "quickstart", "paper", "local"));

TEST(ExperimentSpecTest, PaperScaleIsThePapers) {
  absl::StatusOr<ExperimentSpec> spec = LoadExperimentSpec(SpecsDir() + "/paper/c2f.pbtxt");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->model().resnet_depth(), 50);
  EXPECT_EQ(spec->model().input_height(), 256);
  EXPECT_EQ(spec->model().input_width(), 192);
  EXPECT_EQ(spec->training().epochs(), 140);
  EXPECT_DOUBLE_EQ(spec->training().learning_rate(), 5e-4);
  EXPECT_THAT(spec->training().lr_milestones(), ::testing::ElementsAre(90, 120));
}

// Every paper spec that starts from torchvision's ResNet weights feeds them
// the pixels they were trained on; every paper spec that trains uses the
// release's loss normalization and synthesis.
TEST(ExperimentSpecTest, PaperSpecsFeedTorchvisionWeightsTheirNormalization) {
  absl::StatusOr<std::vector<std::string>> files = ListSpecFiles(SpecsDir() + "/paper");
  ASSERT_TRUE(files.ok()) << files.status();
  int torchvision = 0;
  for (const std::string& file : *files) {
    absl::StatusOr<ExperimentSpec> spec = LoadExperimentSpec(file);
    ASSERT_TRUE(spec.ok()) << spec.status();
    EXPECT_TRUE(spec->evaluation().oks_nms()) << file;
    if (!RefinesOnly(*spec)) {
      EXPECT_EQ(spec->training().batch_size(), 16) << file;
      EXPECT_EQ(spec->model().loss_normalization(), LOSS_PER_ENTRY) << file;
      EXPECT_EQ(spec->model().initialization(), INITIALIZATION_RELEASE) << file;
      EXPECT_TRUE(spec->data().synthesis_uses_box_area()) << file;
      EXPECT_TRUE(spec->data().synthesis_ignores_keypoints_outside_crop()) << file;
    }
    if (spec->init_weights().find("torchvision") == std::string::npos) continue;
    ++torchvision;
    absl::StatusOr<ResolvedModelOptions> model = ResolveModelOptions(spec->model());
    ASSERT_TRUE(model.ok()) << model.status();
    EXPECT_EQ(model->channel_order, CHANNEL_ORDER_RGB) << file;
    EXPECT_NEAR(model->pixel_mean[0], 0.485 * 255, 1e-3) << file;
    EXPECT_NEAR(model->pixel_mean[2], 0.406 * 255, 1e-3) << file;
    EXPECT_NEAR(model->pixel_std[0], 0.229 * 255, 1e-3) << file;
    EXPECT_NEAR(model->pixel_std[2], 0.225 * 255, 1e-3) << file;
  }
  EXPECT_GE(torchvision, 7);
}

TEST(ExperimentSpecTest, OverrideMergesOverBase) {
  WriteSpec("merge_base.pbtxt", kBase);
  const std::string path = WriteSpec("merge.pbtxt", R"pb(
    base: "merge_base.pbtxt"
    model { input_encoding: POSE_INPUT_FINE }
    training { lr_milestones: 3 }
  )pb");
  absl::StatusOr<ExperimentSpec> spec = LoadExperimentSpec(path);
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->name(), "merge");
  EXPECT_EQ(spec->description(), "base");
  EXPECT_EQ(spec->model().resnet_depth(), 18);
  EXPECT_EQ(spec->model().input_encoding(), POSE_INPUT_FINE);
  EXPECT_EQ(spec->seed(), 7u);
  // Repeated fields append.
  EXPECT_THAT(spec->training().lr_milestones(), ::testing::ElementsAre(1, 2, 3));
  EXPECT_TRUE(spec->base().empty());
  EXPECT_TRUE(ValidateExperimentSpec(*spec, path).ok());
}

TEST(ExperimentSpecTest, ClearFieldsReplacesRepeatedAndResetsScalars) {
  WriteSpec("clear_base.pbtxt", kBase);
  const std::string path = WriteSpec("clear.pbtxt", R"pb(
    base: "clear_base.pbtxt"
    clear_fields: [ "training.lr_milestones", "seed", "model" ]
    training { lr_milestones: 2 }
  )pb");
  absl::StatusOr<ExperimentSpec> spec = LoadExperimentSpec(path);
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_THAT(spec->training().lr_milestones(), ::testing::ElementsAre(2));
  EXPECT_EQ(spec->seed(), 0u);
  EXPECT_FALSE(spec->has_model());
  EXPECT_TRUE(spec->clear_fields().empty());
}

TEST(ExperimentSpecTest, ClearingAnUnknownFieldNamesIt) {
  WriteSpec("badclear_base.pbtxt", kBase);
  const std::string path = WriteSpec("badclear.pbtxt", R"pb(
    base: "badclear_base.pbtxt"
    clear_fields: "model.depth"
  )pb");
  absl::StatusOr<ExperimentSpec> spec = LoadExperimentSpec(path);
  EXPECT_THAT(spec.status().message(), HasSubstr("badclear.pbtxt: clear_fields[0]"));
  EXPECT_THAT(spec.status().message(), HasSubstr("no field \"depth\""));
}

TEST(ExperimentSpecTest, UnknownFieldNamesLineAndColumn) {
  const std::string path = WriteSpec("unknown.pbtxt", "seed: 1\nmodel { depth: 18 }\n");
  absl::StatusOr<ExperimentSpec> spec = LoadExperimentSpec(path);
  EXPECT_THAT(spec.status().message(), HasSubstr("unknown.pbtxt"));
  EXPECT_THAT(spec.status().message(), HasSubstr("line 2:"));
  EXPECT_THAT(spec.status().message(), HasSubstr("depth"));
}

TEST(ExperimentSpecTest, MissingBaseAndCyclesAreErrors) {
  const std::string missing = WriteSpec("missing.pbtxt", "base: \"nowhere.pbtxt\"\n");
  EXPECT_THAT(LoadExperimentSpec(missing).status().message(), HasSubstr("missing.pbtxt: base: "));
  WriteSpec("cycle_a.pbtxt", "base: \"cycle_b.pbtxt\"\n");
  const std::string b = WriteSpec("cycle_b.pbtxt", "base: \"cycle_a.pbtxt\"\n");
  EXPECT_THAT(LoadExperimentSpec(b).status().message(), HasSubstr("cycle"));
}

// A suite's base and a variant shared by all suites: merged in the order
// named, the spec's own fields last; a file may be the base of two bases.
TEST(ExperimentSpecTest, BasesMergeInOrder) {
  WriteSpec("common.pbtxt", "seed: 3\ndescription: \"common\"\n");
  WriteSpec("suite_base.pbtxt", std::string("base: \"common.pbtxt\"\n") + kBase);
  WriteSpec("variant.pbtxt",
            "base: \"common.pbtxt\"\nmodel { input_width: 48 }\nreport { order: 30 }\n");
  const std::string path =
      WriteSpec("combined.pbtxt",
                "base: \"suite_base.pbtxt\"\nbase: \"variant.pbtxt\"\nreport { order: 31 }\n");
  absl::StatusOr<ExperimentSpec> spec = LoadExperimentSpec(path);
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->name(), "combined");
  EXPECT_EQ(spec->model().resnet_depth(), 18);  // the suite's
  EXPECT_EQ(spec->model().input_width(), 48);   // the variant's, named second
  EXPECT_EQ(spec->report().order(), 31);        // the spec's own
  // A later base wins with what it inherits too: the variant brings common's
  // seed over the suite base's.
  EXPECT_EQ(spec->seed(), 3);
  EXPECT_TRUE(spec->base().empty());

  const std::string missing = WriteSpec("combined_missing.pbtxt",
                                        "base: \"suite_base.pbtxt\"\nbase: \"no_variant.pbtxt\"\n");
  EXPECT_THAT(LoadExperimentSpec(missing).status().message(),
              HasSubstr("combined_missing.pbtxt: base[1]: "));
}

absl::Status ValidateWith(const std::string& override_text) {
  ExperimentSpec spec;
  WriteSpec("v_base.pbtxt", kBase);
  const std::string path =
      WriteSpec("v.pbtxt", std::string("base: \"v_base.pbtxt\"\n") + override_text);
  ASSIGN_OR_RETURN(const ExperimentSpec loaded, LoadExperimentSpec(path));
  return ValidateExperimentSpec(loaded, "v.pbtxt");
}

TEST(ExperimentSpecTest, InvalidValuesNameTheField) {
  EXPECT_TRUE(ValidateWith("").ok());
  EXPECT_THAT(ValidateWith("model { resnet_depth: 19 }").message(),
              HasSubstr("v.pbtxt: model: resnet_depth"));
  EXPECT_THAT(ValidateWith("model { input_height: 100 }").message(), HasSubstr("input_height"));
  EXPECT_THAT(ValidateWith("data { input_width: 32 }").message(),
              HasSubstr("v.pbtxt: data.input_width"));
  EXPECT_THAT(ValidateWith("training { device: \"gpu\" }").message(),
              HasSubstr("v.pbtxt: training.device"));
  EXPECT_THAT(ValidateWith("training { lr_milestones: 0 }").message(),
              HasSubstr("training.lr_milestones[2]"));
  // What the trainer checks, the suite's validation checks before anything
  // trains (the same function).
  EXPECT_THAT(ValidateWith("training { lr_factor: -1 }").message(),
              HasSubstr("v.pbtxt: training.lr_factor"));
  EXPECT_THAT(ValidateWith("training { num_threads: -2 }").message(),
              HasSubstr("v.pbtxt: training.num_threads"));
  EXPECT_THAT(ValidateWith("training { weight_decay: inf }").message(),
              HasSubstr("v.pbtxt: training.weight_decay"));
  EXPECT_THAT(ValidateWith("data { flip_probability: 1.5 }").message(),
              HasSubstr("v.pbtxt: data.flip_probability"));
  EXPECT_THAT(ValidateWith("data { num_threads: 1000 }").message(),
              HasSubstr("v.pbtxt: data.num_threads"));
  EXPECT_THAT(ValidateWith("training { mode: E2E_REFINE }").message(),
              HasSubstr("estimator_from_spec"));
  EXPECT_THAT(ValidateWith("training { mode: E2E_REFINE } estimator_checkpoint: \"e.pt\" "
                           "checkpoint: \"c.pt\"")
                  .message(),
              HasSubstr("v.pbtxt: checkpoint: training.mode E2E_REFINE trains its estimator"));
  EXPECT_THAT(ValidateWith("training { mode: E2E_REFINE } estimator_checkpoint: \"e.pt\" "
                           "checkpoint_from_spec: \"c.pbtxt\"")
                  .message(),
              HasSubstr("v.pbtxt: checkpoint_from_spec: training.mode E2E_REFINE"));
  EXPECT_TRUE(ValidateWith("training { mode: E2E_REFINE } estimator_checkpoint: \"e.pt\"").ok());
  EXPECT_THAT(ValidateWith("estimator_checkpoint: \"e.pt\"").message(),
              HasSubstr("v.pbtxt: estimator_checkpoint: only for training.mode E2E_REFINE"));
  EXPECT_THAT(ValidateWith("model { input_encoding: POSE_INPUT_NONE }").message(),
              HasSubstr("model.input_encoding"));
  EXPECT_THAT(ValidateWith("clear_fields: \"dataset.input_results\"").message(),
              HasSubstr("v.pbtxt: dataset.input_results: required: input_results"));
  EXPECT_THAT(ValidateWith("dataset { input_results: \"\" }").message(),
              HasSubstr("v.pbtxt: dataset.input_results: must name a file"));
  EXPECT_TRUE(ValidateWith("clear_fields: \"dataset.input_results\" "
                           "dataset { synthesize_input_seed: 0 }")
                  .ok());
  EXPECT_THAT(ValidateWith("clear_fields: \"dataset.input_results\" "
                           "dataset { synthesize_input_seed: 0 "
                           "input_results_beyond_eval_images: true }")
                  .message(),
              HasSubstr("dataset.input_results_beyond_eval_images"));
  EXPECT_THAT(ValidateWith("checkpoint_epoch: 3").message(),
              HasSubstr("v.pbtxt: checkpoint_epoch: a positive epoch of the "
                        "checkpoint_from_spec run"));
  EXPECT_THAT(ValidateWith("evaluation { policy: REFINE_SELECTIVE }").message(),
              HasSubstr("v.pbtxt: evaluation.policy: REFINE_SELECTIVE needs "
                        "model.status_head.enabled"));
  EXPECT_TRUE(ValidateWith("evaluation { policy: REFINE_SELECTIVE } "
                           "model { status_head { enabled: true } }")
                  .ok());
  EXPECT_THAT(
      ValidateWith("model { backbone: BACKBONE_EFFICIENTNET_LITE0 resnet_depth: 18 }").message(),
      HasSubstr("model: resnet_depth: applies to BACKBONE_RESNET only"));
  EXPECT_THAT(ValidateWith("name: \"a b\"").message(), HasSubstr("v.pbtxt: name"));
  EXPECT_THAT(ValidateWith("evaluation { oks_nms_threshold: 2 }").message(),
              HasSubstr("evaluation.oks_nms_threshold"));
  EXPECT_THAT(ValidateWith("evaluation { oks_nms_threshold: 0 }").message(),
              HasSubstr("v.pbtxt: evaluation.oks_nms_threshold: must lie in (0, 1]"));
  EXPECT_THAT(ValidateWith("evaluation { batch_size: 0 }").message(),
              HasSubstr("v.pbtxt: evaluation.batch_size: must be positive"));
  EXPECT_THAT(ValidateWith("training { epochs: 0 }").message(),
              HasSubstr("v.pbtxt: training.epochs: must be positive"));
  EXPECT_THAT(ValidateWith("training { device: \"\" }").message(),
              HasSubstr("v.pbtxt: training.device"));
  EXPECT_THAT(ValidateWith("checkpoint_from_spec: \"c.pbtxt\" checkpoint_epoch: 0").message(),
              HasSubstr("v.pbtxt: checkpoint_epoch: a positive epoch"));
  EXPECT_THAT(ValidateWith("checkpoint: \"\"").message(),
              HasSubstr("v.pbtxt: checkpoint: must name a file"));
  EXPECT_THAT(ValidateWith("training { mode: ESTIMATOR } model { input_encoding: POSE_INPUT_FINE }")
                  .message(),
              HasSubstr("v.pbtxt: model.input_encoding: training.mode ESTIMATOR"));
  EXPECT_THAT(ValidateWith("model { num_keypoints: 16 }").message(),
              HasSubstr("v.pbtxt: model.num_keypoints: 16, but the schema has 17 keypoints"));
  EXPECT_THAT(ValidateWith("error_model { good_ks: 2 }").message(), HasSubstr("error_model"));
  // A refine-only run needs no training data.
  EXPECT_TRUE(ValidateWith("checkpoint: \"c.pt\" clear_fields: \"dataset.train_images\"").ok());
}

// Explicit presence: a value given as 0 (or false) is that value, and a
// spec that gives it differs from one that leaves it unset.
TEST(ExperimentSpecTest, ZeroIsAValue) {
  WriteSpec("zero_base.pbtxt", kBase);
  const std::string path =
      WriteSpec("zero.pbtxt",
                "base: \"zero_base.pbtxt\"\n"
                "data { flip_probability: 0 rotation_probability: 0 scale_sigma: 0 }\n"
                "training { lr_factor: 0 weight_decay: 0 }\n");
  absl::StatusOr<ExperimentSpec> spec = LoadExperimentSpec(path);
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_TRUE(ValidateExperimentSpec(*spec, path).ok()) << ValidateExperimentSpec(*spec, path);
  EXPECT_TRUE(spec->data().has_flip_probability());
  EXPECT_EQ(spec->data().flip_probability(), 0);
  EXPECT_EQ(spec->training().lr_factor(), 0);
  EXPECT_EQ(spec->training().weight_decay(), 0);
  absl::StatusOr<ExperimentSpec> base =
      LoadExperimentSpec(WriteSpec("zero_unset.pbtxt", "base: \"zero_base.pbtxt\"\n"));
  ASSERT_TRUE(base.ok()) << base.status();
  EXPECT_DOUBLE_EQ(base->data().flip_probability(), 0.5);
  EXPECT_NE(SpecHash(*spec), SpecHash(*base));
}

// The switch is gone: augmentation is off when its values say so. A spec
// that still sets it is refused rather than trained with augmentation.
TEST(ExperimentSpecTest, TheRemovedNoAugmentationSwitchIsRefused) {
  const std::string path = WriteSpec("no_augmentation.pbtxt", "data { no_augmentation: true }\n");
  const std::string message(LoadExperimentSpec(path).status().message());
  EXPECT_THAT(message, HasSubstr("no_augmentation.pbtxt"));
  EXPECT_THAT(message, HasSubstr("line 1:"));
  EXPECT_THAT(message, HasSubstr("no_augmentation"));
}

// Each of checkpoint / checkpoint_from_spec, estimator_checkpoint /
// estimator_from_spec and input_results / synthesize_input_seed is a oneof:
// one file cannot give both; an override's choice replaces its base's.
TEST(ExperimentSpecTest, ExclusiveChoicesAreOneofs) {
  for (const auto& [text, field] : std::vector<std::pair<std::string, std::string>>{
           {"checkpoint: \"c.pt\"\ncheckpoint_from_spec: \"c2f.pbtxt\"\n", "checkpoint_from_spec"},
           {"estimator_from_spec: \"e.pbtxt\"\nestimator_checkpoint: \"e.pt\"\n",
            "estimator_checkpoint"},
           {"dataset {\n  input_results: \"r.json\"\n  synthesize_input_seed: 3\n}\n",
            "synthesize_input_seed"},
       }) {
    SCOPED_TRACE(text);
    const std::string path = WriteSpec("both.pbtxt", text);
    const std::string message(LoadExperimentSpec(path).status().message());
    EXPECT_THAT(message, HasSubstr("both.pbtxt"));
    EXPECT_THAT(message, HasSubstr("line "));
    EXPECT_THAT(message, HasSubstr("\"" + field + "\""));
    EXPECT_THAT(message, HasSubstr("oneof"));
  }

  WriteSpec("choice_base.pbtxt", std::string(kBase) + "checkpoint: \"c.pt\"\n");
  absl::StatusOr<ExperimentSpec> spec = LoadExperimentSpec(
      WriteSpec("choice.pbtxt",
                "base: \"choice_base.pbtxt\"\ncheckpoint_from_spec: \"c2f.pbtxt\"\n"
                "dataset { synthesize_input_seed: 3 }\n"));
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_FALSE(spec->has_checkpoint());
  EXPECT_EQ(spec->checkpoint_from_spec(), "c2f.pbtxt");
  EXPECT_FALSE(spec->dataset().has_input_results());
  EXPECT_EQ(spec->dataset().synthesize_input_seed(), 3u);
  EXPECT_TRUE(ValidateExperimentSpec(*spec, "choice.pbtxt").ok());
}

// The hash of a spec is that of its binary serialization: the run
// directories committed with their metrics (and users' run directories) stay
// valid only while a spec's bytes stay the same.
TEST(ExperimentSpecTest, CommittedRunsKeepTheirRunIds) {
  const std::string runs = "posefix/experiments/results/local/runs";
  int checked = 0;
  for (const auto& entry : std::filesystem::directory_iterator(runs)) {
    RunMetrics metrics;
    ASSERT_TRUE(ReadTextProto(entry.path().string() + "/metrics.pbtxt", &metrics).ok());
    EXPECT_EQ(entry.path().filename().string(), metrics.run_id());
    EXPECT_EQ(RunId(metrics.spec()), metrics.run_id());
    absl::StatusOr<ExperimentSpec> spec =
        LoadExperimentSpec(SpecsDir() + "/local/" + metrics.name() + ".pbtxt");
    ASSERT_TRUE(spec.ok()) << spec.status();
    EXPECT_EQ(RunId(*spec), metrics.run_id());
    ++checked;
  }
  EXPECT_GE(checked, 8);
}

TEST(ExperimentSpecTest, RunIdDependsOnTheWholeSpec) {
  WriteSpec("id_base.pbtxt", kBase);
  absl::StatusOr<ExperimentSpec> a =
      LoadExperimentSpec(WriteSpec("id.pbtxt", "base: \"id_base.pbtxt\"\n"));
  ASSERT_TRUE(a.ok());
  ExperimentSpec b = *a;
  b.set_seed(8);
  EXPECT_EQ(RunId(*a), RunId(*a));
  EXPECT_NE(RunId(*a), RunId(b));
  EXPECT_EQ(RunId(*a).substr(0, 3), "id-");
  EXPECT_EQ(RunId(*a).size(), 3u + 8u);
}

}  // namespace
}  // namespace posefix
