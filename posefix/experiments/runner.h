#ifndef POSEFIX_EXPERIMENTS_RUNNER_H_
#define POSEFIX_EXPERIMENTS_RUNNER_H_

// Runs an experiment spec: train the variant, refine the input poses,
// evaluate before and after, and write the run directory
//   OUT_DIR/<name>-<hash of the merged spec>/
//     spec.pbtxt            the merged spec (written first)
//     checkpoints/          the trainer's checkpoints and training state
//     estimated_results.json  E2E_REFINE only: the estimator's poses
//     refined_results.json  the refined input poses
//     metrics.pbtxt         RunMetrics, text
//     metrics.pb            RunMetrics, binary (written last: the run is done)
//     run.log               one line per stage
//     run.lock              held while a process runs the spec
// and OUT_DIR/index.tsv listing every run of OUT_DIR (index.lock guards it).
//
// A run directory belongs to one merged spec: running the same spec again
// resumes it (the trainer continues from its last checkpoint, finished
// stages are skipped, a finished run returns its metrics), and a directory
// holding another spec is never written to.

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
  // Recorded as RunMetrics.source_revision.
  std::string source_revision = "unknown";
  // Progress (training bar, stage lines); nullable.
  std::ostream* log = nullptr;
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

// Rewrites OUT_DIR/index.tsv from the run directories found there: one line
// per run with its id, name, variant, state (finished or incomplete), input
// AP and refined AP.
absl::Status WriteRunIndex(const std::string& out_dir);

// `git rev-parse HEAD` of `checkout` ("-dirty" appended when `git status
// --porcelain` lists changes), or "unknown".
std::string SourceRevision(const std::string& checkout);

}  // namespace posefix

#endif  // POSEFIX_EXPERIMENTS_RUNNER_H_
