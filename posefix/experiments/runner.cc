#include "posefix/experiments/runner.h"

#include <chrono>
#include <ctime>
#include <filesystem>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "posefix/core/elapsed.h"
#include "posefix/core/file_util.h"
#include "posefix/core/status_macros.h"
#include "posefix/experiments/experiment_spec.h"
#include "posefix/experiments/run_directory.h"
#include "posefix/experiments/run_inputs.h"
#include "posefix/experiments/run_plan.h"
#include "posefix/experiments/run_stages.h"
#include "posefix/model/training_state.h"

namespace posefix {
namespace {

constexpr int kMaxDependencyDepth = 8;

std::string UtcNow() {
  const std::time_t now = std::time(nullptr);
  std::tm utc;
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

absl::StatusOr<RunMetrics> RunWithDepth(const std::string& spec_path, const RunnerOptions& options,
                                        int depth);

// The final checkpoint of the run of `dependency` (a spec path relative to
// `spec_path`), running it first when needed.
absl::StatusOr<std::string> DependencyCheckpoint(const std::string& spec_path,
                                                 absl::string_view field,
                                                 const std::string& dependency,
                                                 const RunnerOptions& options, int depth) {
  const std::string path = ResolveRelativeTo(spec_path, dependency);
  if (!PathExists(path)) return FieldError(spec_path, field, absl::StrCat(path, ": no such spec"));
  ASSIGN_OR_RETURN(const RunMetrics metrics, RunWithDepth(path, options, depth + 1));
  return JoinPath(JoinPath(options.out_dir, metrics.run_id()), metrics.checkpoint());
}

// Runs (or finds finished) the runs the plan takes a checkpoint from, and
// sets plan->options.checkpoint (a run that only refines) and
// estimator_checkpoint (E2E_REFINE) to the files the spec or those runs give.
absl::Status RunDependencies(RunPlan* plan, const RunnerOptions& options, int depth) {
  const ExperimentSpec& spec = plan->spec;
  if (spec.has_checkpoint()) plan->options.set_checkpoint(DataPath(*plan, spec.checkpoint()));
  if (spec.has_checkpoint_from_spec()) {
    ASSIGN_OR_RETURN(std::string checkpoint,
                     DependencyCheckpoint(plan->spec_path, "checkpoint_from_spec",
                                          spec.checkpoint_from_spec(), options, depth));
    if (spec.has_checkpoint_epoch()) {
      checkpoint = EpochCheckpointPath(std::filesystem::path(checkpoint).parent_path().string(),
                                       spec.checkpoint_epoch() - 1);
      if (!PathExists(checkpoint)) {
        return FieldError(plan->spec_path, "checkpoint_epoch",
                          absl::StrCat(checkpoint,
                                       ": no such checkpoint (not reached, or "
                                       "deleted by training.keep_checkpoints)"));
      }
    }
    plan->options.set_checkpoint(checkpoint);
  }
  if (spec.has_estimator_checkpoint()) {
    plan->options.set_estimator_checkpoint(DataPath(*plan, spec.estimator_checkpoint()));
  }
  if (spec.has_estimator_from_spec()) {
    ASSIGN_OR_RETURN(const std::string estimator,
                     DependencyCheckpoint(plan->spec_path, "estimator_from_spec",
                                          spec.estimator_from_spec(), options, depth));
    plan->options.set_estimator_checkpoint(estimator);
  }
  return absl::OkStatus();
}

// The metrics of the plan's run when its directory holds the finished run;
// nullopt when the run is new or resumes (which is logged).
absl::StatusOr<std::optional<RunMetrics>> FinishedEarlier(const RunPlan& plan, std::ostream* log) {
  ASSIGN_OR_RETURN(ExistingRun existing, FindExistingRun(plan.run_dir, plan.spec, plan.spec_path));
  switch (existing.state) {
    case ExistingRun::State::kNone:
      return std::nullopt;
    case ExistingRun::State::kFinished:
      LogStage(log, plan.run_id, "finished earlier; skipped");
      return std::move(existing.metrics);
    case ExistingRun::State::kUnfinished:
      break;
  }
  if (!existing.unfinished_metrics.empty()) {
    // Evaluated again; the file is replaced when that is done.
    LogStage(log, plan.run_id, absl::StrCat(existing.unfinished_metrics, "; evaluating again"));
  }
  LogStage(log, plan.run_id,
           existing.removed_temporaries > 0
               ? absl::StrCat("resuming (removed ", existing.removed_temporaries,
                              " stale temporary files)")
               : std::string("resuming"));
  return std::nullopt;
}

absl::StatusOr<RunMetrics> RunWithDepth(const std::string& spec_path, const RunnerOptions& options,
                                        int depth) {
  if (depth > kMaxDependencyDepth) {
    return FieldError(spec_path, "checkpoint_from_spec", "dependencies nested too deep (a cycle?)");
  }
  const auto start = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(RunPlan plan, MakePlan(spec_path, options.out_dir, options.data_root));
  ASSIGN_OR_RETURN(std::optional<RunMetrics> finished, FinishedEarlier(plan, options.log));
  if (finished.has_value()) return *std::move(finished);
  // Dependencies and inputs first, so that a failure there leaves nothing of
  // this run.
  RETURN_IF_ERROR(RunDependencies(&plan, options, depth));
  RETURN_IF_ERROR(CheckRunInputs(plan));
  // Held until the run returns: no other process runs this spec meanwhile.
  ASSIGN_OR_RETURN(const FileLock lock,
                   ClaimRunDirectory(options.out_dir, plan.run_dir, plan.spec, plan.options));

  RunMetrics metrics = NewRunMetrics(plan.spec, plan.run_id, options.source_revision);
  RunModel model{plan.options.checkpoint(), ""};
  if (!RefinesOnly(plan.spec)) {
    options.set_compute_threads(plan.options.training().num_threads());
    ASSIGN_OR_RETURN(model, TrainStage(plan, options.log, &metrics));
  }
  options.set_compute_threads(plan.options.evaluation().num_threads());
  ASSIGN_OR_RETURN(const RunPoses poses, RefineStage(plan, model, options.log, &metrics));
  RETURN_IF_ERROR(EvaluateStage(plan, poses, options.log, &metrics));
  metrics.mutable_timings()->set_total_seconds(SecondsSince(start));
  metrics.set_finished_at(UtcNow());
  RETURN_IF_ERROR(RecordFinishedRun(options.out_dir, plan.run_dir, metrics));
  LogStage(options.log, plan.run_id,
           absl::StrFormat("done: AP %.1f -> %.1f (%.0f s)", 100 * metrics.before().stats().ap(),
                           100 * metrics.after().stats().ap(), metrics.timings().total_seconds()));
  return metrics;
}

}  // namespace

absl::Status CheckExperimentInputs(const std::vector<std::string>& spec_paths,
                                   const RunnerOptions& options) {
  absl::flat_hash_set<std::string> checked;
  std::vector<std::pair<std::string, int>> pending;
  for (const std::string& path : spec_paths) pending.push_back({path, 0});
  absl::flat_hash_set<std::string> seen;
  while (!pending.empty()) {
    const auto [spec_path, depth] = pending.back();
    pending.pop_back();
    if (!seen.insert(spec_path).second) continue;
    ASSIGN_OR_RETURN(const RunPlan plan, MakePlan(spec_path, options.out_dir, options.data_root));
    RETURN_IF_ERROR(CheckRunInputs(plan));
    RETURN_IF_ERROR(CheckRunInputContents(plan, checked));
    for (const auto& [field, dependency] :
         {std::pair<const char*, std::string>{"checkpoint_from_spec",
                                              plan.spec.checkpoint_from_spec()},
          std::pair<const char*, std::string>{"estimator_from_spec",
                                              plan.spec.estimator_from_spec()}}) {
      if (dependency.empty()) continue;
      const std::string path = ResolveRelativeTo(spec_path, dependency);
      if (!PathExists(path))
        return FieldError(spec_path, field, absl::StrCat(path, ": no such spec"));
      if (depth >= kMaxDependencyDepth) {
        return FieldError(spec_path, field, "dependencies nested too deep (a cycle?)");
      }
      pending.push_back({path, depth + 1});
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<RunMetrics> RunExperiment(const std::string& spec_path,
                                         const RunnerOptions& options) {
  if (options.out_dir.empty()) return absl::InvalidArgumentError("out_dir: required");
  RETURN_IF_ERROR(CheckExperimentInputs({spec_path}, options));
  return RunWithDepth(spec_path, options, 0);
}

}  // namespace posefix
