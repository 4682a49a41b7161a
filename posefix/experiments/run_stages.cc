#include "posefix/experiments/run_stages.h"

#include <chrono>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "posefix/core/elapsed.h"
#include "posefix/core/file_util.h"
#include "posefix/core/keypoint_schema.h"
#include "posefix/core/status_macros.h"
#include "posefix/core/text_proto.h"
#include "posefix/eval/evaluate.h"
#include "posefix/experiments/run_inputs.h"
#include "posefix/model/refine_results.h"
#include "posefix/model/refiner.h"
#include "posefix/model/trainer.h"

namespace posefix {
namespace {

// `path` relative to `folder` when it lies inside it; else `path` itself.
std::string RelativeTo(const std::string& folder, const std::string& path) {
  const std::string prefix = absl::StrCat(folder, "/");
  return absl::StartsWith(path, prefix) ? path.substr(prefix.size()) : path;
}

// Refines every result of `input_path` with the model of `checkpoint` into
// `output_path` (atomically) and returns the device it ran on.
absl::StatusOr<std::string> RefineResults(const RunPlan& plan, const std::string& checkpoint,
                                          const std::string& input_path,
                                          const std::string& output_path) {
  const EvaluationSpec& evaluation = plan.options.evaluation();
  RefineFileOptions options;
  options.checkpoint = checkpoint;
  options.refiner.flip_test = evaluation.flip_test();
  options.refiner.flip_permutation = FlipPermutation(plan.options.schema());
  options.refiner.device = plan.options.device();
  options.refiner.batch_size = evaluation.batch_size();
  options.refiner.policy = evaluation.policy() == REFINE_SELECTIVE ? RefinementPolicy::kSelective
                                                                   : RefinementPolicy::kReplaceAll;
  const DatasetSpec& dataset = plan.spec.dataset();
  options.images_dir = DataPath(plan, dataset.eval_images());
  options.annotations = DataPath(plan, dataset.eval_annotations());
  options.input = input_path;
  options.output = output_path;
  options.schema = plan.options.schema();
  options.oks_nms_threshold = evaluation.oks_nms() ? evaluation.oks_nms_threshold() : 0;
  ASSIGN_OR_RETURN(const RefineReport report, RefineResultsFile(options));
  return report.device;
}

}  // namespace

void LogStage(std::ostream* log, const std::string& run_id, absl::string_view line) {
  if (log != nullptr) *log << "[" << run_id << "] " << line << std::endl;
}

absl::StatusOr<RunModel> TrainStage(const RunPlan& plan, std::ostream* log, RunMetrics* metrics) {
  LogStage(log, plan.run_id, "training");
  // The spec's own options: the trainer resolves them as plan.options
  // records.
  TrainerConfig config;
  config.model = plan.spec.model();
  config.training = plan.spec.training();
  config.data = plan.spec.data();
  config.error_model = plan.spec.error_model();
  config.schema = plan.options.schema();
  ASSIGN_OR_RETURN(const TrainingFiles training_set, TrainingSet(plan));
  config.train_annotations = training_set.annotations;
  config.train_images = training_set.images;
  // DataPath keeps an empty path empty (unset).
  config.train_estimates = DataPath(plan, plan.spec.dataset().train_estimates());
  config.checkpoint_dir = JoinPath(plan.run_dir, "checkpoints");
  config.init_weights = DataPath(plan, plan.spec.init_weights());
  config.estimator_checkpoint = plan.options.estimator_checkpoint();
  config.seed = plan.spec.seed();
  ASSIGN_OR_RETURN(const TrainingResult trained, Train(config, log));

  double seconds = 0;
  for (const EpochRecord& record : trained.curve) {
    seconds += record.seconds;
    TrainingCurvePoint* point = metrics->add_training_curve();
    point->set_epoch(record.epoch + 1);
    point->set_loss(record.loss);
    point->set_heatmap_loss(record.heatmap_loss);
    point->set_coordinate_loss(record.coordinate_loss);
    point->set_learning_rate(record.learning_rate);
    point->set_seconds(seconds);
    point->set_step(record.step);
  }
  metrics->mutable_timings()->set_train_seconds(trained.seconds);
  metrics->set_device(trained.device);
  return RunModel{trained.final_checkpoint, trained.final_estimator_checkpoint};
}

absl::StatusOr<RunPoses> RefineStage(const RunPlan& plan, const RunModel& model, std::ostream* log,
                                     RunMetrics* metrics) {
  metrics->set_checkpoint(RelativeTo(plan.run_dir, model.checkpoint));
  ASSIGN_OR_RETURN(const std::string input, InputPoses(plan));
  RunPoses poses{input, JoinPath(plan.run_dir, "refined_results.json")};
  const std::string record_path = JoinPath(plan.run_dir, "refine.pbtxt");
  RefineRecord record;
  if (!PathExists(poses.refined) || !ReadTextProto(record_path, &record).ok()) {
    const auto start = std::chrono::steady_clock::now();
    LogStage(log, plan.run_id, "refining " + poses.input);
    std::string refined_from = poses.input;
    if (!model.estimator.empty()) {
      // E2E-refine: the fine-tuned estimator estimates in the input poses'
      // boxes, then the refinement module refines its poses.
      refined_from = JoinPath(plan.run_dir, "estimated_results.json");
      RETURN_IF_ERROR(RefineResults(plan, model.estimator, poses.input, refined_from).status());
    }
    ASSIGN_OR_RETURN(const std::string device,
                     RefineResults(plan, model.checkpoint, refined_from, poses.refined));
    record.set_device(device);
    record.set_seconds(SecondsSince(start));
    RETURN_IF_ERROR(WriteTextProto(record_path, record));
  }
  metrics->mutable_timings()->set_refine_seconds(record.seconds());
  if (metrics->device().empty()) metrics->set_device(record.device());
  metrics->set_refined_results("refined_results.json");
  return poses;
}

absl::Status EvaluateStage(const RunPlan& plan, const RunPoses& poses, std::ostream* log,
                           RunMetrics* metrics) {
  LogStage(log, plan.run_id, "evaluating");
  const auto start = std::chrono::steady_clock::now();
  EvaluateRequest request;
  request.ground_truth_file = DataPath(plan, plan.spec.dataset().eval_annotations());
  request.schema = plan.options.schema();
  request.analyze = true;
  request.num_threads = plan.options.evaluation().num_threads();
  request.results_file = poses.input;
  ASSIGN_OR_RETURN(EvaluationMetrics before, RunEvaluation(request));
  request.results_file = poses.refined;
  request.baseline_results_file = poses.input;
  ASSIGN_OR_RETURN(EvaluationMetrics after, RunEvaluation(request));
  *metrics->mutable_before() = std::move(before);
  *metrics->mutable_after() = std::move(after);
  metrics->mutable_timings()->set_evaluate_seconds(SecondsSince(start));
  return absl::OkStatus();
}

}  // namespace posefix
