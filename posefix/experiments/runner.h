#ifndef POSEFIX_EXPERIMENTS_RUNNER_H_
#define POSEFIX_EXPERIMENTS_RUNNER_H_

// Runs an experiment spec: train the variant, refine the input poses,
// evaluate before and after, and write the run directory
//   OUT_DIR/<name>-<hash of the merged spec>/
//     spec.pbtxt            the merged spec (written first)
//     resolved_options.pbtxt  the options the run uses, every default filled
//                           in (ResolvedRunOptions), written before training
//     checkpoints/          the trainer's checkpoints and training state
//     train_annotations.json  the merged training set, when the spec merges
//     input_results.json    the input poses, when derived (synthesized, or
//                           cut to the evaluation images)
//     estimated_results.json  E2E_REFINE only: the estimator's poses
//     refined_results.json  the refined input poses
//     refine.pbtxt          the refinement's device and time
//     metrics.pbtxt         RunMetrics, text
//     metrics.pb            RunMetrics, binary (written last: the run is done)
//     run.lock              held while a process runs the spec
// and OUT_DIR/index.tsv listing every run of OUT_DIR (index.lock guards it).
//
// A run directory belongs to one merged spec: running the same spec again
// resumes it (the trainer continues from its last checkpoint, finished
// stages are skipped, a finished run returns its metrics), and a directory
// holding another spec is never written to.
//
// A run goes through named stages, each in its own unit: the plan
// (run_plan.h), the check of its inputs (run_inputs.h), its dependency runs
// (below), the claim of its directory (run_directory.h), then train, refine
// and evaluate (run_stages.h), and the record of its metrics
// (run_directory.h).

#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "posefix/experiments/run_metrics.pb.h"

namespace posefix {

struct RunnerOptions {
  // Folder of the run directories and index.tsv; created if missing.
  std::string out_dir;
  // Relative dataset paths of specs without data_root are taken relative to
  // this. Empty: the current folder.
  std::string data_root;
  // Recorded as RunMetrics.source_revision (see source_revision.h).
  std::string source_revision = "unknown";
  // Progress (training bar, stage lines); nullable.
  std::ostream* log = nullptr;
  // Sets LibTorch's intra-op threads: before training with the spec's
  // training.num_threads, before refining with its evaluation.num_threads.
  // The count is process-wide, so the program sets it (run_main passes
  // SetComputeThreads); the default leaves it as it is.
  std::function<void(int threads)> set_compute_threads = [](int) {};
};

// Checks, before anything trains, the specs at `spec_paths` and the specs
// they depend on: each loads and validates, and every input it names exists
// and, for annotation and results files, parses (input results against the
// evaluation images). Errors name the spec and the field, then the file and
// its field.
absl::Status CheckExperimentInputs(const std::vector<std::string>& spec_paths,
                                   const RunnerOptions& options);

// Runs (or resumes, or returns the finished metrics of) the spec at
// `spec_path`, and first the runs it depends on (checkpoint_from_spec,
// estimator_from_spec) in the same out_dir; CheckExperimentInputs first.
absl::StatusOr<RunMetrics> RunExperiment(const std::string& spec_path,
                                         const RunnerOptions& options);

}  // namespace posefix

#endif  // POSEFIX_EXPERIMENTS_RUNNER_H_
