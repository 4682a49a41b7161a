#ifndef POSEFIX_EXPERIMENTS_REPORT_H_
#define POSEFIX_EXPERIMENTS_REPORT_H_

// The paper's tables and figures, regenerated from run metrics alone
// (RunMetrics protos): Table 1, Figure 6, Table 2, Figure 7, Figure 8, as
// Markdown and CSV. report_plots.h draws the PNGs.

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "posefix/eval/metrics.pb.h"
#include "posefix/experiments/run_metrics.pb.h"

namespace posefix {

// A run's binary metrics file (metrics.pb). Only a complete record (with
// run_id and finished_at, which the runner always writes) is a finished run:
// an empty, truncated or foreign file is an error naming it.
absl::StatusOr<RunMetrics> ReadRunMetrics(const std::string& metrics_pb);

// The metrics of every finished run under `runs_dir`: each subfolder holding
// metrics.pb (or, failing that, metrics.pbtxt). Sorted by report.order, then
// name, then run id. A folder without metrics (an unfinished run) is skipped;
// an unreadable or incomplete metrics file is an error naming it.
absl::StatusOr<std::vector<RunMetrics>> ReadRuns(const std::string& runs_dir);

// Frequencies (fractions of the labelled keypoints of matched detections, in
// the error analysis' "all" range) of good, jitter, inversion, swap, miss;
// all zero when the metrics hold no error analysis.
std::vector<double> ErrorFrequencies(const EvaluationMetrics& metrics);
extern const char* const kErrorTypeNames[5];

// The label of a run in Table 1 and Figure 6 (report.label or the variant),
// and in Table 2 (report.label or the input label).
std::string VariantLabel(const RunMetrics& run);
// Table 1's label: report.label, or "E2E-refine", "IntegralPose",
// "MA-refine (C2F)".
std::string Table1Label(const RunMetrics& run);
std::string InputLabel(const RunMetrics& run);

// The runs a table or figure shows, in report order.
std::vector<const RunMetrics*> RunsFor(const std::vector<RunMetrics>& runs,
                                       bool (ReportSpec::*flag)() const);

// The whole report: a title, a table of runs, then every table and figure
// section that has runs, linking the PNGs report_plots.h draws.
std::string ReportMarkdown(const std::vector<RunMetrics>& runs);

// File name -> CSV content: table1.csv, figure6.csv, table2.csv, figure7.csv
// (every OKS pair of every Figure 7 run), figure8.csv.
std::map<std::string, std::string> ReportCsvFiles(const std::vector<RunMetrics>& runs);

// The PNG names the report links: figure6.png, figure7_<run>.png,
// figure8_<run>.png.
std::string Figure7PngName(const RunMetrics& run);
std::string Figure8PngName(const RunMetrics& run);

}  // namespace posefix

#endif  // POSEFIX_EXPERIMENTS_REPORT_H_
