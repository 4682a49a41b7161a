// Regenerates the paper's tables and figures from the metrics of the runs in
// a folder (the --out_dir of //posefix/experiments:run):
//   bazel run //posefix/experiments:report -- --runs=DIR [--out=DIR]
// writes report.md, table1.csv, figure6.csv, table2.csv, figure7.csv,
// figure8.csv and the PNGs into --out (default DIR/report) and prints the
// Markdown.

#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "gflags/gflags.h"
#include "posefix/core/command_line.h"
#include "posefix/experiments/report.h"
#include "posefix/experiments/report_plots.h"

DEFINE_string(runs, "", "Folder of run directories (the runner's --out_dir).");
DEFINE_string(out, "", "Folder for the report; default: RUNS/report.");

int main(int argc, char** argv) {
  gflags::SetUsageMessage("--runs=DIR [--out=DIR]");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  if (FLAGS_runs.empty()) {
    std::fprintf(stderr, "--runs is required\n");
    return 2;
  }
  const std::string runs_dir = posefix::ResolveUserPath(FLAGS_runs);
  const std::string out_dir =
      FLAGS_out.empty() ? absl::StrCat(runs_dir, "/report") : posefix::ResolveUserPath(FLAGS_out);
  absl::StatusOr<std::vector<posefix::RunMetrics>> runs = posefix::ReadRuns(runs_dir);
  if (!runs.ok()) {
    std::fprintf(stderr, "%s\n", std::string(runs.status().message()).c_str());
    return 1;
  }
  if (runs->empty()) {
    std::fprintf(stderr, "%s: no finished runs (no */metrics.pb)\n", runs_dir.c_str());
    return 1;
  }
  if (absl::Status s = posefix::WriteReport(*runs, out_dir); !s.ok()) {
    std::fprintf(stderr, "%s\n", std::string(s.message()).c_str());
    return 1;
  }
  std::fputs(posefix::ReportMarkdown(*runs).c_str(), stdout);
  std::fprintf(stderr, "report written to %s\n", out_dir.c_str());
  return 0;
}
