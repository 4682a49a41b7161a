#include "posefix/experiments/run_directory.h"

#include <dirent.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/util/message_differencer.h"
#include "posefix/core/status_macros.h"
#include "posefix/core/text_proto.h"
#include "posefix/experiments/experiment_spec.h"
#include "posefix/experiments/report.h"

namespace posefix {
namespace {

constexpr char kSpecFile[] = "spec.pbtxt";
constexpr char kResolvedOptionsFile[] = "resolved_options.pbtxt";
constexpr char kMetricsTextFile[] = "metrics.pbtxt";
constexpr char kMetricsFile[] = "metrics.pb";

absl::Status WriteTextProtoOnce(const std::string& path, const google::protobuf::Message& message) {
  if (PathExists(path)) return absl::OkStatus();
  return WriteTextProto(path, message);
}

}  // namespace

absl::StatusOr<ExistingRun> FindExistingRun(const std::string& run_dir, const ExperimentSpec& spec,
                                            const std::string& spec_path) {
  ExistingRun run;
  if (!PathExists(run_dir)) return run;
  const std::string spec_file = JoinPath(run_dir, kSpecFile);
  ExperimentSpec existing;
  if (absl::Status s = ReadTextProto(spec_file, &existing); !s.ok()) {
    return absl::AlreadyExistsError(absl::StrCat(
        run_dir, ": exists without a readable spec.pbtxt; not overwriting it (", s.message(), ")"));
  }
  if (!google::protobuf::util::MessageDifferencer::Equals(existing, spec)) {
    return absl::AlreadyExistsError(absl::StrCat(run_dir, ": holds a run of another spec (",
                                                 spec_file, " differs from ", spec_path,
                                                 "); not overwriting it"));
  }
  const std::string metrics_file = JoinPath(run_dir, kMetricsFile);
  if (PathExists(metrics_file)) {
    absl::StatusOr<RunMetrics> metrics = ReadRunMetrics(metrics_file);
    if (metrics.ok()) {
      run.state = ExistingRun::State::kFinished;
      run.metrics = *std::move(metrics);
      return run;
    }
    run.unfinished_metrics = std::string(metrics.status().message());
  }
  run.state = ExistingRun::State::kUnfinished;
  run.removed_temporaries = RemoveStaleTemporaries(run_dir);
  return run;
}

absl::StatusOr<FileLock> ClaimRunDirectory(const std::string& out_dir, const std::string& run_dir,
                                           const ExperimentSpec& spec,
                                           const ResolvedRunOptions& options) {
  RETURN_IF_ERROR(CreateDirectories(out_dir));
  RETURN_IF_ERROR(CreateDirectories(run_dir));
  // One process per run directory: a second start of the same spec stops
  // here instead of training into the same folder.
  absl::StatusOr<FileLock> lock = FileLock::Acquire(JoinPath(run_dir, "run.lock"), /*wait=*/false);
  if (!lock.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat(run_dir, ": this spec is running in another process (",
                     lock.status().message(), "); not running it twice"));
  }
  RETURN_IF_ERROR(WriteTextProtoOnce(JoinPath(run_dir, kSpecFile), spec));
  RETURN_IF_ERROR(WriteTextProtoOnce(JoinPath(run_dir, kResolvedOptionsFile), options));
  // The index lists the run as incomplete meanwhile; it is only a view of
  // the directories, so a failure to rewrite it does not stop the run.
  WriteRunIndex(out_dir).IgnoreError();
  return lock;
}

RunMetrics NewRunMetrics(const ExperimentSpec& spec, const std::string& run_id,
                         const std::string& source_revision) {
  RunMetrics metrics;
  metrics.set_name(spec.name());
  metrics.set_run_id(run_id);
  metrics.set_variant(ExperimentVariantName(spec));
  *metrics.mutable_spec() = spec;
  const DatasetSpec& dataset = spec.dataset();
  metrics.set_input_label(
      dataset.has_input_label()
          ? dataset.input_label()
          : dataset.input_results().substr(dataset.input_results().find_last_of('/') + 1));
  metrics.set_source_revision(source_revision);
  metrics.set_seed(spec.seed());
  return metrics;
}

absl::Status RecordFinishedRun(const std::string& out_dir, const std::string& run_dir,
                               const RunMetrics& metrics) {
  RETURN_IF_ERROR(WriteTextProto(JoinPath(run_dir, kMetricsTextFile), metrics));
  std::string bytes;
  metrics.SerializeToString(&bytes);
  RETURN_IF_ERROR(WriteFileAtomically(JoinPath(run_dir, kMetricsFile), bytes));
  return WriteRunIndex(out_dir);
}

absl::Status WriteRunIndex(const std::string& out_dir) {
  // Scan and write under one lock, so that a writer that scanned before
  // another run finished cannot overwrite the newer index.
  ASSIGN_OR_RETURN(const FileLock lock,
                   FileLock::Acquire(JoinPath(out_dir, "index.lock"), /*wait=*/true));
  DIR* dir = opendir(out_dir.c_str());
  if (dir == nullptr) return absl::NotFoundError(absl::StrCat(out_dir, ": cannot open"));
  std::vector<std::string> runs;
  while (dirent* entry = readdir(dir)) {
    const std::string name = entry->d_name;
    if (name != "." && name != ".." && PathExists(JoinPath(JoinPath(out_dir, name), kSpecFile))) {
      runs.push_back(name);
    }
  }
  closedir(dir);
  std::sort(runs.begin(), runs.end());
  std::string index = "run_id\tname\tvariant\tstate\tinput_ap\trefined_ap\tfinished_at\n";
  for (const std::string& run : runs) {
    const std::string folder = JoinPath(out_dir, run);
    ExperimentSpec spec;
    if (!ReadTextProto(JoinPath(folder, kSpecFile), &spec).ok()) continue;
    absl::StatusOr<RunMetrics> read = ReadRunMetrics(JoinPath(folder, kMetricsFile));
    const bool finished = read.ok();
    const RunMetrics metrics = finished ? *std::move(read) : RunMetrics();
    absl::StrAppend(&index, run, "\t", spec.name(), "\t", ExperimentVariantName(spec), "\t",
                    finished ? "finished" : "incomplete", "\t",
                    finished ? absl::StrFormat("%.4f", metrics.before().stats().ap()) : "", "\t",
                    finished ? absl::StrFormat("%.4f", metrics.after().stats().ap()) : "", "\t",
                    metrics.finished_at(), "\n");
  }
  return WriteFileAtomically(JoinPath(out_dir, "index.tsv"), index);
}

}  // namespace posefix
