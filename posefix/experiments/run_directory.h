#ifndef POSEFIX_EXPERIMENTS_RUN_DIRECTORY_H_
#define POSEFIX_EXPERIMENTS_RUN_DIRECTORY_H_

// A run directory, OUT_DIR/<run id>, and the index of OUT_DIR (runner.h
// lists the files): which spec a directory belongs to, whether its run
// finished, the lock of the process that runs it, and the record of what ran
// (spec.pbtxt, resolved_options.pbtxt, metrics.pbtxt and metrics.pb, the
// index.tsv line).

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "posefix/core/file_util.h"
#include "posefix/experiments/experiment.pb.h"
#include "posefix/experiments/run_metrics.pb.h"

namespace posefix {

// What a run directory holds for a spec.
struct ExistingRun {
  enum class State {
    // No directory yet.
    kNone,
    // The spec's run started there and did not finish: it resumes.
    kUnfinished,
    // The spec's run finished: `metrics` holds its record.
    kFinished,
  };
  State state = State::kNone;
  RunMetrics metrics;
  // kUnfinished: why the directory's metrics.pb is not a finished record
  // (empty when there is none), and how many temporaries that killed
  // processes left were removed.
  std::string unfinished_metrics;
  int removed_temporaries = 0;
};

// Looks into `run_dir` for the run of `spec` (loaded from `spec_path`). A
// directory without a readable spec.pbtxt, or with another spec's, is an
// AlreadyExists error naming it, and is left as it is.
absl::StatusOr<ExistingRun> FindExistingRun(const std::string& run_dir, const ExperimentSpec& spec,
                                            const std::string& spec_path);

// Takes `run_dir` (created, with `out_dir`, if missing) for this process:
// its run.lock, held until the returned lock is destroyed, then spec.pbtxt
// and resolved_options.pbtxt, written when missing (a resumed run keeps the
// record of its first start), and the index. A spec running in another
// process is a FailedPrecondition error.
absl::StatusOr<FileLock> ClaimRunDirectory(const std::string& out_dir, const std::string& run_dir,
                                           const ExperimentSpec& spec,
                                           const ResolvedRunOptions& options);

// The record of a run before it measures anything: its names, spec, input
// label, seed and `source_revision`.
RunMetrics NewRunMetrics(const ExperimentSpec& spec, const std::string& run_id,
                         const std::string& source_revision);

// Writes the finished run's metrics.pbtxt, then metrics.pb (last: the run
// counts as finished once it is complete), then OUT_DIR/index.tsv.
absl::Status RecordFinishedRun(const std::string& out_dir, const std::string& run_dir,
                               const RunMetrics& metrics);

// Rewrites OUT_DIR/index.tsv from the run directories found there (those
// with a spec.pbtxt), under OUT_DIR/index.lock: one line per run with its id,
// name, variant, state (finished or incomplete), input AP, refined AP and
// finish time.
absl::Status WriteRunIndex(const std::string& out_dir);

}  // namespace posefix

#endif  // POSEFIX_EXPERIMENTS_RUN_DIRECTORY_H_
