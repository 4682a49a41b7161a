#include "posefix/experiments/report.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "posefix/core/file_util.h"
#include "posefix/core/status_macros.h"
#include "posefix/core/text_proto.h"

namespace posefix {

const char* const kErrorTypeNames[5] = {"Good", "Jitter", "Inversion", "Swap", "Miss"};

namespace {

bool IsFile(const std::string& path) {
  struct stat info;
  return stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode);
}

absl::Status CheckComplete(const std::string& path, const RunMetrics& metrics) {
  if (metrics.run_id().empty() || metrics.finished_at().empty()) {
    return FieldError(path, metrics.run_id().empty() ? "run_id" : "finished_at",
                      "missing: an incomplete record, not a finished run");
  }
  return absl::OkStatus();
}

absl::StatusOr<RunMetrics> ReadRunMetricsFile(const std::string& folder) {
  const std::string binary = absl::StrCat(folder, "/metrics.pb");
  if (IsFile(binary)) return ReadRunMetrics(binary);
  const std::string text = absl::StrCat(folder, "/metrics.pbtxt");
  RunMetrics metrics;
  RETURN_IF_ERROR(ReadTextProto(text, &metrics));
  RETURN_IF_ERROR(CheckComplete(text, metrics));
  return metrics;
}

// AP-style statistic as the paper prints it: percent with one decimal; "-"
// where COCOeval reports -1.
std::string Percent(double value) {
  if (value < 0) return "-";
  return absl::StrFormat("%.1f", 100 * value);
}

std::string Delta(double before, double after) {
  if (before < 0 || after < 0) return "-";
  // Round each side first so that the printed delta is their difference.
  const double b = std::round(1000 * before) / 10;
  const double a = std::round(1000 * after) / 10;
  return absl::StrFormat("%+.1f", a - b);
}

std::vector<double> StatsValues(const CocoKeypointStats& s) {
  return {s.ap(), s.ap50(), s.ap75(), s.ap_medium(), s.ap_large(),
          s.ar(), s.ar50(), s.ar75(), s.ar_medium(), s.ar_large()};
}

const char* const kStatNames[10] = {"AP", "AP50", "AP75", "APM", "APL",
                                    "AR", "AR50", "AR75", "ARM", "ARL"};

// CSV cell: quoted when it holds a comma or a quote.
std::string CsvCell(const std::string& value) {
  if (value.find_first_of(",\"\n") == std::string::npos) return value;
  std::string quoted = "\"";
  for (char c : value) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

std::string CsvRow(const std::vector<std::string>& cells) {
  std::vector<std::string> quoted;
  for (const std::string& cell : cells) quoted.push_back(CsvCell(cell));
  return absl::StrCat(absl::StrJoin(quoted, ","), "\n");
}

std::string Number(double value) { return absl::StrFormat("%.6g", value); }

std::string MarkdownRow(const std::vector<std::string>& cells) {
  return absl::StrCat("| ", absl::StrJoin(cells, " | "), " |\n");
}

std::string MarkdownRule(int label_columns, int number_columns) {
  std::string rule = "|";
  for (int i = 0; i < label_columns; ++i) rule += "---|";
  for (int i = 0; i < number_columns; ++i) rule += "---:|";
  return rule + "\n";
}

struct OksChangeSummary {
  int pairs = 0;
  int improved = 0;
  int worsened = 0;
  double mean_before = 0;
  double mean_after = 0;
};

OksChangeSummary Summarize(const OksChange& change) {
  OksChangeSummary summary;
  summary.pairs = change.pairs_size();
  summary.mean_before = change.mean_oks_before();
  summary.mean_after = change.mean_oks_after();
  for (const OksChangePair& pair : change.pairs()) {
    // Changes below 1e-9 are rounding, not refinement.
    if (pair.oks_after() > pair.oks_before() + 1e-9) ++summary.improved;
    if (pair.oks_after() < pair.oks_before() - 1e-9) ++summary.worsened;
  }
  return summary;
}

std::string RunsSection(const std::vector<RunMetrics>& runs) {
  std::string md = "## Runs\n\n";
  md += MarkdownRow({"Run", "Variant", "Input", "Epochs", "Train s", "Refine s", "Eval s", "Device",
                     "Seed", "Revision"});
  md += "|---|---|---|---:|---:|---:|---:|---|---:|---|\n";
  for (const RunMetrics& run : runs) {
    const int epochs = run.training_curve().empty()
                           ? 0
                           : run.training_curve(run.training_curve_size() - 1).epoch();
    md += MarkdownRow({run.run_id(), run.variant(), InputLabel(run), absl::StrCat(epochs),
                       absl::StrFormat("%.1f", run.timings().train_seconds()),
                       absl::StrFormat("%.1f", run.timings().refine_seconds()),
                       absl::StrFormat("%.1f", run.timings().evaluate_seconds()), run.device(),
                       absl::StrCat(run.seed()), run.source_revision().substr(0, 12)});
  }
  return md + "\n";
}

std::string Table1Section(const std::vector<const RunMetrics*>& runs) {
  std::string md =
      "## Table 1: model-agnostic vs end-to-end refinement\n\n"
      "AP of the input poses and of their refinement (COCO OKS AP, %).\n\n";
  md += MarkdownRow({"Method", "Input", "Input AP", "AP", "Δ AP"});
  md += MarkdownRule(2, 3);
  for (const RunMetrics* run : runs) {
    md += MarkdownRow({Table1Label(*run), InputLabel(*run), Percent(run->before().stats().ap()),
                       Percent(run->after().stats().ap()),
                       Delta(run->before().stats().ap(), run->after().stats().ap())});
  }
  return md + "\n";
}

std::string Figure6Section(const std::vector<const RunMetrics*>& runs) {
  std::string md =
      "## Figure 6: input and output encodings, losses\n\n"
      "![Figure 6](figure6.png)\n\n";
  md += MarkdownRow({"Variant", "Input", "Input AP", "AP", "Δ AP"});
  md += MarkdownRule(2, 3);
  for (const RunMetrics* run : runs) {
    md += MarkdownRow({VariantLabel(*run), InputLabel(*run), Percent(run->before().stats().ap()),
                       Percent(run->after().stats().ap()),
                       Delta(run->before().stats().ap(), run->after().stats().ap())});
  }
  return md + "\n";
}

std::string Table2Section(const std::vector<const RunMetrics*>& runs) {
  std::string md =
      "## Table 2: input poses vs + PoseFix\n\n"
      "The ten COCO keypoint statistics (%) of each input and of its refinement.\n\n";
  std::vector<std::string> header = {"Method"};
  for (const char* name : kStatNames) header.push_back(name);
  md += MarkdownRow(header);
  md += MarkdownRule(1, 10);
  for (const RunMetrics* run : runs) {
    std::vector<std::string> before = {InputLabel(*run)};
    const std::string& label = run->spec().report().label();
    std::vector<std::string> after = {label.empty() ? absl::StrCat(InputLabel(*run), " + PoseFix")
                                                    : label};
    for (double v : StatsValues(run->before().stats())) before.push_back(Percent(v));
    for (double v : StatsValues(run->after().stats())) after.push_back(Percent(v));
    md += MarkdownRow(before);
    md += MarkdownRow(after);
  }
  return md + "\n";
}

std::string Figure7Section(const std::vector<const RunMetrics*>& runs) {
  std::string md =
      "## Figure 7: OKS of each person before and after refinement\n\n"
      "Persons matched in both the input and the refined poses (OKS >= 0.1); above the identity "
      "line the refinement helped.\n\n";
  md += MarkdownRow({"Run", "Persons", "Mean OKS before", "Mean OKS after", "Improved", "Worsened",
                     "Keypoints moved", "KS of moved before", "KS of moved after"});
  md += MarkdownRule(1, 8);
  for (const RunMetrics* run : runs) {
    const OksChange& change = run->after().oks_change();
    const OksChangeSummary s = Summarize(change);
    md += MarkdownRow({run->name(), absl::StrCat(s.pairs), absl::StrFormat("%.3f", s.mean_before),
                       absl::StrFormat("%.3f", s.mean_after), absl::StrCat(s.improved),
                       absl::StrCat(s.worsened),
                       absl::StrCat(change.moved_keypoints(), " of ", change.keypoints()),
                       absl::StrFormat("%.3f", change.moved_mean_ks_before()),
                       absl::StrFormat("%.3f", change.moved_mean_ks_after())});
  }
  md += "\n";
  for (const RunMetrics* run : runs) {
    absl::StrAppend(&md, "![Figure 7: ", run->name(), "](", Figure7PngName(*run), ")\n");
  }
  return md + "\n";
}

std::string Figure8Section(const std::vector<const RunMetrics*>& runs) {
  std::string md =
      "## Figure 8: keypoint error types before and after refinement\n\n"
      "Share (%) of the labelled keypoints of matched persons in each class of Ronchi & "
      "Perona's taxonomy.\n\n";
  std::vector<std::string> header = {"Run", "Poses"};
  for (const char* name : kErrorTypeNames) header.push_back(name);
  md += MarkdownRow(header);
  md += MarkdownRule(2, 5);
  for (const RunMetrics* run : runs) {
    std::vector<std::string> before = {run->name(), "input"};
    std::vector<std::string> after = {run->name(), "refined"};
    for (double f : ErrorFrequencies(run->before())) before.push_back(Percent(f));
    for (double f : ErrorFrequencies(run->after())) after.push_back(Percent(f));
    md += MarkdownRow(before);
    md += MarkdownRow(after);
  }
  md += "\n";
  for (const RunMetrics* run : runs) {
    absl::StrAppend(&md, "![Figure 8: ", run->name(), "](", Figure8PngName(*run), ")\n");
  }
  return md + "\n";
}

}  // namespace

absl::StatusOr<RunMetrics> ReadRunMetrics(const std::string& metrics_pb) {
  ASSIGN_OR_RETURN(const std::string bytes, ReadFileToString(metrics_pb));
  RunMetrics metrics;
  if (!metrics.ParseFromString(bytes)) {
    return absl::InvalidArgumentError(absl::StrCat(metrics_pb, ": not a binary RunMetrics proto"));
  }
  RETURN_IF_ERROR(CheckComplete(metrics_pb, metrics));
  return metrics;
}

absl::StatusOr<std::vector<RunMetrics>> ReadRuns(const std::string& runs_dir) {
  DIR* dir = opendir(runs_dir.c_str());
  if (dir == nullptr) {
    return absl::NotFoundError(absl::StrCat(runs_dir, ": cannot open the runs folder"));
  }
  std::vector<std::string> folders;
  while (dirent* entry = readdir(dir)) {
    const std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    const std::string folder = absl::StrCat(runs_dir, "/", name);
    if (IsFile(absl::StrCat(folder, "/metrics.pb")) ||
        IsFile(absl::StrCat(folder, "/metrics.pbtxt"))) {
      folders.push_back(folder);
    }
  }
  closedir(dir);
  std::vector<RunMetrics> runs;
  for (const std::string& folder : folders) {
    ASSIGN_OR_RETURN(RunMetrics metrics, ReadRunMetricsFile(folder));
    runs.push_back(std::move(metrics));
  }
  std::sort(runs.begin(), runs.end(), [](const RunMetrics& a, const RunMetrics& b) {
    return std::make_tuple(a.spec().report().order(), a.name(), a.run_id()) <
           std::make_tuple(b.spec().report().order(), b.name(), b.run_id());
  });
  return runs;
}

std::vector<double> ErrorFrequencies(const EvaluationMetrics& metrics) {
  std::vector<double> frequencies(5, 0.0);
  for (const AreaErrorAnalysis& area : metrics.error_analysis().area_ranges()) {
    if (area.area_range() != "all") continue;
    const KeypointErrorCounts& t = area.total();
    const double counts[5] = {static_cast<double>(t.good()), static_cast<double>(t.jitter()),
                              static_cast<double>(t.inversion()), static_cast<double>(t.swap()),
                              static_cast<double>(t.miss())};
    double total = 0;
    for (double c : counts) total += c;
    if (total <= 0) break;
    for (int i = 0; i < 5; ++i) frequencies[i] = counts[i] / total;
    break;
  }
  return frequencies;
}

std::string VariantLabel(const RunMetrics& run) {
  if (!run.spec().report().label().empty()) return run.spec().report().label();
  return run.variant();
}

std::string Table1Label(const RunMetrics& run) {
  if (!run.spec().report().label().empty()) return run.spec().report().label();
  if (run.variant() == "E2E-refine" || run.variant() == "IntegralPose") return run.variant();
  // Every model-agnostic variant is a PoseFix trained on synthesized poses.
  return absl::StrCat("MA-refine (", run.variant(), ")");
}

std::string InputLabel(const RunMetrics& run) {
  if (!run.input_label().empty()) return run.input_label();
  return run.name();
}

std::vector<const RunMetrics*> RunsFor(const std::vector<RunMetrics>& runs,
                                       bool (ReportSpec::*flag)() const) {
  std::vector<const RunMetrics*> selected;
  for (const RunMetrics& run : runs) {
    if ((run.spec().report().*flag)()) selected.push_back(&run);
  }
  return selected;
}

std::string Figure7PngName(const RunMetrics& run) {
  return absl::StrCat("figure7_", run.name(), ".png");
}

std::string Figure8PngName(const RunMetrics& run) {
  return absl::StrCat("figure8_", run.name(), ".png");
}

std::string ReportMarkdown(const std::vector<RunMetrics>& runs) {
  std::string md =
      "# PoseFix experiments\n\n"
      "Regenerated from the runs' metrics by `//posefix/experiments:report`. AP and AR are "
      "COCO OKS keypoint statistics in percent.\n\n";
  // What the runs are, in their specs' words (e.g. that a smoke suite is a
  // pipeline check, not a result).
  std::vector<std::string> descriptions;
  for (const RunMetrics& run : runs) {
    const std::string& description = run.spec().description();
    if (!description.empty() &&
        std::find(descriptions.begin(), descriptions.end(), description) == descriptions.end()) {
      descriptions.push_back(description);
    }
  }
  for (const std::string& description : descriptions) absl::StrAppend(&md, "> ", description, "\n");
  if (!descriptions.empty()) md += "\n";
  md += RunsSection(runs);
  if (auto selected = RunsFor(runs, &ReportSpec::table1); !selected.empty()) {
    md += Table1Section(selected);
  }
  if (auto selected = RunsFor(runs, &ReportSpec::figure6); !selected.empty()) {
    md += Figure6Section(selected);
  }
  if (auto selected = RunsFor(runs, &ReportSpec::table2); !selected.empty()) {
    md += Table2Section(selected);
  }
  if (auto selected = RunsFor(runs, &ReportSpec::figure7); !selected.empty()) {
    md += Figure7Section(selected);
  }
  if (auto selected = RunsFor(runs, &ReportSpec::figure8); !selected.empty()) {
    md += Figure8Section(selected);
  }
  return md;
}

std::map<std::string, std::string> ReportCsvFiles(const std::vector<RunMetrics>& runs) {
  std::map<std::string, std::string> files;
  const std::vector<std::string> ap_header = {"run",      "method", "input",
                                              "input_ap", "ap",     "delta_ap"};
  for (const auto& [file, flag] : std::vector<std::pair<std::string, bool (ReportSpec::*)() const>>{
           {"table1.csv", &ReportSpec::table1}, {"figure6.csv", &ReportSpec::figure6}}) {
    std::string csv = CsvRow(ap_header);
    for (const RunMetrics* run : RunsFor(runs, flag)) {
      csv += CsvRow({run->run_id(), file == "table1.csv" ? Table1Label(*run) : VariantLabel(*run),
                     InputLabel(*run), Number(run->before().stats().ap()),
                     Number(run->after().stats().ap()),
                     Number(run->after().stats().ap() - run->before().stats().ap())});
    }
    files[file] = csv;
  }

  std::vector<std::string> header = {"run", "method", "poses"};
  for (const char* name : kStatNames) header.push_back(name);
  std::string table2 = CsvRow(header);
  for (const RunMetrics* run : RunsFor(runs, &ReportSpec::table2)) {
    for (const bool refined : {false, true}) {
      std::vector<std::string> row = {run->run_id(), InputLabel(*run),
                                      refined ? "refined" : "input"};
      for (double v : StatsValues(refined ? run->after().stats() : run->before().stats())) {
        row.push_back(Number(v));
      }
      table2 += CsvRow(row);
    }
  }
  files["table2.csv"] = table2;

  std::string figure7 = CsvRow({"run", "image_id", "ground_truth_id", "oks_before", "oks_after"});
  for (const RunMetrics* run : RunsFor(runs, &ReportSpec::figure7)) {
    for (const OksChangePair& pair : run->after().oks_change().pairs()) {
      figure7 += CsvRow({run->run_id(), absl::StrCat(pair.image_id()),
                         absl::StrCat(pair.ground_truth_id()), Number(pair.oks_before()),
                         Number(pair.oks_after())});
    }
  }
  files["figure7.csv"] = figure7;

  std::string figure8 = CsvRow({"run", "error_type", "before", "after"});
  for (const RunMetrics* run : RunsFor(runs, &ReportSpec::figure8)) {
    const std::vector<double> before = ErrorFrequencies(run->before());
    const std::vector<double> after = ErrorFrequencies(run->after());
    for (int i = 0; i < 5; ++i) {
      figure8 += CsvRow({run->run_id(), kErrorTypeNames[i], Number(before[i]), Number(after[i])});
    }
  }
  files["figure8.csv"] = figure8;
  return files;
}

}  // namespace posefix
