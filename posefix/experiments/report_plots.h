#ifndef POSEFIX_EXPERIMENTS_REPORT_PLOTS_H_
#define POSEFIX_EXPERIMENTS_REPORT_PLOTS_H_

// The report's figures drawn with OpenCV (BGR, 8 bit, white background).

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "opencv2/core.hpp"
#include "posefix/experiments/run_metrics.pb.h"

namespace posefix {

// Figure 6: one bar per run (AP of the refined poses, %), with the input AP
// of each run as a dashed line across its bar and the value above the bar.
cv::Mat DrawFigure6(const std::vector<const RunMetrics*>& runs);

// Figure 7: the OKS of each person before (x) and after (y) refinement, with
// the identity line.
cv::Mat DrawFigure7(const RunMetrics& run);

// Figure 8: the share of each keypoint error type before and after
// refinement, grouped bars.
cv::Mat DrawFigure8(const RunMetrics& run);

// Encodes `image` as PNG and writes it atomically.
absl::Status WritePng(const std::string& path, const cv::Mat& image);

// Writes the whole report of `runs` into `out_dir` (created if needed):
// report.md, the CSV files of ReportCsvFiles and the PNGs the Markdown links.
absl::Status WriteReport(const std::vector<RunMetrics>& runs, const std::string& out_dir);

}  // namespace posefix

#endif  // POSEFIX_EXPERIMENTS_REPORT_PLOTS_H_
