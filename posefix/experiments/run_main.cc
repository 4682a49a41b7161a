// Runs experiment specs (see runner.h for the run directory):
//   bazel run //posefix/experiments:run -- --spec=SPEC.pbtxt --out_dir=DIR
//   bazel run //posefix/experiments:run -- --suite=FOLDER --out_dir=DIR
// --suite runs every spec of FOLDER (except *_base.pbtxt), in name order with
// dependencies first, then writes the report into DIR/report and prints it.
// Interrupted runs resume when started again with the same arguments.

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gflags/gflags.h"
#include "posefix/core/command_line.h"
#include "posefix/experiments/experiment_spec.h"
#include "posefix/experiments/report.h"
#include "posefix/experiments/report_plots.h"
#include "posefix/experiments/runner.h"
#include "posefix/experiments/source_revision.h"
#include "posefix/model/compute_threads.h"

DEFINE_string(spec, "", "An experiment spec (.pbtxt).");
DEFINE_string(suite, "", "A folder of specs; every one is run, then the report is written.");
DEFINE_string(out_dir, "runs", "Folder of the run directories and index.tsv.");
DEFINE_string(data_root, "",
              "Relative dataset paths of the specs are taken relative to this. Default: the "
              "workspace root under bazel run, else the current folder.");
DEFINE_string(source_revision, "",
              "Recorded in the metrics. Default: git rev-parse HEAD of the workspace under "
              "bazel run, else \"unknown\".");
DEFINE_bool(report, true, "With --suite: write and print the report afterwards.");

namespace {

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "error: %s\n", std::string(status.message()).c_str());
  return 1;
}

// Spec paths given relative to the workspace (specs are part of the
// source tree) are found there when they are not found from the directory
// bazel was run from.
std::string ResolveSpecPath(const std::string& path) {
  const std::string user = posefix::ResolveUserPath(path);
  if (path.empty() || path[0] == '/') return user;
  if (std::FILE* f = std::fopen(user.c_str(), "r")) {
    std::fclose(f);
    return user;
  }
  if (const char* workspace = std::getenv("BUILD_WORKSPACE_DIRECTORY")) {
    const std::string candidate = absl::StrCat(workspace, "/", path);
    if (std::FILE* f = std::fopen(candidate.c_str(), "r")) {
      std::fclose(f);
      return candidate;
    }
  }
  return user;
}

}  // namespace

int main(int argc, char** argv) {
  posefix::KeepLargeAllocationsInTheHeap();
  gflags::SetUsageMessage("--spec=SPEC.pbtxt | --suite=FOLDER  [--out_dir=DIR]");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  if (FLAGS_spec.empty() == FLAGS_suite.empty()) {
    std::fprintf(stderr, "give exactly one of --spec and --suite\n");
    return 2;
  }
  const char* workspace = std::getenv("BUILD_WORKSPACE_DIRECTORY");
  posefix::RunnerOptions options;
  options.out_dir = posefix::ResolveUserPath(FLAGS_out_dir);
  if (!FLAGS_data_root.empty()) {
    options.data_root = posefix::ResolveUserPath(FLAGS_data_root);
  } else if (workspace != nullptr) {
    options.data_root = workspace;
  }
  options.source_revision = !FLAGS_source_revision.empty()
                                ? FLAGS_source_revision
                                : posefix::SourceRevision(workspace != nullptr ? workspace : "");
  options.log = &std::cerr;
  options.set_compute_threads = posefix::SetComputeThreads;

  if (!FLAGS_spec.empty()) {
    absl::StatusOr<posefix::RunMetrics> metrics =
        posefix::RunExperiment(ResolveSpecPath(FLAGS_spec), options);
    if (!metrics.ok()) return Fail(metrics.status());
    std::printf("%s: %s, AP %.1f -> %.1f\n", metrics->run_id().c_str(), metrics->variant().c_str(),
                100 * metrics->before().stats().ap(), 100 * metrics->after().stats().ap());
    std::printf("run directory: %s/%s\n", options.out_dir.c_str(), metrics->run_id().c_str());
    return 0;
  }

  absl::StatusOr<std::vector<std::string>> specs =
      posefix::ListSpecFiles(ResolveSpecPath(FLAGS_suite));
  if (!specs.ok()) return Fail(specs.status());
  if (specs->empty()) {
    std::fprintf(stderr, "%s: no specs\n", FLAGS_suite.c_str());
    return 1;
  }
  // Check the whole suite, its inputs' contents included, before running any of it.
  if (absl::Status s = posefix::CheckExperimentInputs(*specs, options); !s.ok()) return Fail(s);
  std::vector<posefix::RunMetrics> runs;
  for (const std::string& path : *specs) {
    absl::StatusOr<posefix::RunMetrics> metrics = posefix::RunExperiment(path, options);
    if (!metrics.ok()) return Fail(metrics.status());
    runs.push_back(*std::move(metrics));
  }
  if (!FLAGS_report) return 0;
  // The report covers every finished run of the folder (earlier suites too).
  absl::StatusOr<std::vector<posefix::RunMetrics>> all = posefix::ReadRuns(options.out_dir);
  if (!all.ok()) return Fail(all.status());
  const std::string report_dir = absl::StrCat(options.out_dir, "/report");
  if (absl::Status s = posefix::WriteReport(*all, report_dir); !s.ok()) return Fail(s);
  std::fputs(posefix::ReportMarkdown(*all).c_str(), stdout);
  std::fprintf(stderr, "report written to %s\n", report_dir.c_str());
  return 0;
}
