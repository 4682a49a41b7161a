#include "posefix/experiments/report_plots.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "opencv2/imgcodecs.hpp"
#include "opencv2/imgproc.hpp"
#include "posefix/core/file_util.h"
#include "posefix/core/status_macros.h"
#include "posefix/experiments/report.h"

namespace posefix {
namespace {

const cv::Scalar kBlack(0, 0, 0);
const cv::Scalar kGrid(225, 225, 225);
const cv::Scalar kBlue(180, 119, 31);    // the "before"/main series
const cv::Scalar kOrange(14, 127, 255);  // the "after" series
const cv::Scalar kGray(110, 110, 110);
constexpr int kFont = cv::FONT_HERSHEY_SIMPLEX;

// A rectangle of data coordinates [x0, x1] x [y0, y1] mapped onto a plot
// area of the canvas.
class Axes {
 public:
  Axes(cv::Mat* canvas, cv::Rect area, double x0, double x1, double y0, double y1)
      : canvas_(canvas), area_(area), x0_(x0), x1_(x1), y0_(y0), y1_(y1) {}

  cv::Point Map(double x, double y) const {
    const double u = (x - x0_) / (x1_ - x0_);
    const double v = (y - y0_) / (y1_ - y0_);
    return {area_.x + static_cast<int>(std::lround(u * area_.width)),
            area_.y + area_.height - static_cast<int>(std::lround(v * area_.height))};
  }
  const cv::Rect& area() const { return area_; }

  // Horizontal grid lines and labels at every `step` of y.
  void YTicks(double step, const char* format) const {
    for (double y = y0_; y <= y1_ + 1e-9; y += step) {
      const cv::Point p = Map(x0_, y);
      cv::line(*canvas_, p, {area_.x + area_.width, p.y}, kGrid, 1);
      cv::line(*canvas_, p, {p.x - 5, p.y}, kBlack, 1);
      const std::string label = absl::StrFormat(format, y);
      TextRightAligned(label, {p.x - 9, p.y + 5}, 0.45);
    }
  }
  void XTicks(double step, const char* format) const {
    for (double x = x0_; x <= x1_ + 1e-9; x += step) {
      const cv::Point p = Map(x, y0_);
      cv::line(*canvas_, p, {p.x, area_.y}, kGrid, 1);
      cv::line(*canvas_, p, {p.x, p.y + 5}, kBlack, 1);
      TextCentered(absl::StrFormat(format, x), {p.x, p.y + 22}, 0.45);
    }
  }
  void Frame() const { cv::rectangle(*canvas_, area_, kBlack, 1); }

  void TextCentered(const std::string& text, cv::Point at, double scale,
                    const cv::Scalar& color = kBlack, int thickness = 1) const {
    int baseline = 0;
    const cv::Size size = cv::getTextSize(text, kFont, scale, thickness, &baseline);
    cv::putText(*canvas_, text, {at.x - size.width / 2, at.y}, kFont, scale, color, thickness,
                cv::LINE_AA);
  }
  void TextRightAligned(const std::string& text, cv::Point at, double scale) const {
    int baseline = 0;
    const cv::Size size = cv::getTextSize(text, kFont, scale, 1, &baseline);
    cv::putText(*canvas_, text, {at.x - size.width, at.y}, kFont, scale, kBlack, 1, cv::LINE_AA);
  }

 private:
  cv::Mat* canvas_;
  cv::Rect area_;
  double x0_, x1_, y0_, y1_;
};

cv::Mat WhiteCanvas(int width, int height) {
  return cv::Mat(height, width, CV_8UC3, cv::Scalar(255, 255, 255));
}

void Title(cv::Mat* canvas, const std::string& title) {
  int baseline = 0;
  const cv::Size size = cv::getTextSize(title, kFont, 0.6, 1, &baseline);
  cv::putText(*canvas, title, {(canvas->cols - size.width) / 2, 28}, kFont, 0.6, kBlack, 1,
              cv::LINE_AA);
}

// Text rotated by 90 degrees (reading upwards), centred at `center`.
void VerticalText(cv::Mat* canvas, const std::string& text, cv::Point center) {
  int baseline = 0;
  const cv::Size size = cv::getTextSize(text, kFont, 0.5, 1, &baseline);
  cv::Mat strip(size.height + baseline + 4, size.width + 4, CV_8UC3, cv::Scalar(255, 255, 255));
  cv::putText(strip, text, {2, size.height + 2}, kFont, 0.5, kBlack, 1, cv::LINE_AA);
  cv::Mat rotated;
  cv::rotate(strip, rotated, cv::ROTATE_90_COUNTERCLOCKWISE);
  const cv::Rect target(center.x - rotated.cols / 2, center.y - rotated.rows / 2, rotated.cols,
                        rotated.rows);
  const cv::Rect clipped = target & cv::Rect(0, 0, canvas->cols, canvas->rows);
  rotated(cv::Rect(clipped.x - target.x, clipped.y - target.y, clipped.width, clipped.height))
      .copyTo((*canvas)(clipped));
}

void DashedLine(cv::Mat* canvas, cv::Point a, cv::Point b, const cv::Scalar& color, int thickness) {
  const double length = std::hypot(b.x - a.x, b.y - a.y);
  const int dashes = std::max(1, static_cast<int>(length / 8));
  for (int i = 0; i < dashes; i += 2) {
    const double t0 = static_cast<double>(i) / dashes;
    const double t1 = std::min(1.0, static_cast<double>(i + 1) / dashes);
    cv::line(*canvas,
             {a.x + static_cast<int>((b.x - a.x) * t0), a.y + static_cast<int>((b.y - a.y) * t0)},
             {a.x + static_cast<int>((b.x - a.x) * t1), a.y + static_cast<int>((b.y - a.y) * t1)},
             color, thickness, cv::LINE_AA);
  }
}

// A legend box at the top-left corner of the axes: (swatch, label) pairs.
// kind 0: filled square, 1: dashed line, 2: dot, 3: solid line.
struct LegendEntry {
  cv::Scalar color;
  int kind;
  std::string label;
};

void Legend(cv::Mat* canvas, cv::Point top_left, const std::vector<LegendEntry>& entries) {
  int width = 0;
  for (const LegendEntry& e : entries) {
    int baseline = 0;
    width = std::max(width, cv::getTextSize(e.label, kFont, 0.45, 1, &baseline).width);
  }
  const cv::Rect box(top_left.x, top_left.y, width + 50, 22 * static_cast<int>(entries.size()) + 8);
  cv::rectangle(*canvas, box, cv::Scalar(255, 255, 255), cv::FILLED);
  cv::rectangle(*canvas, box, kGray, 1);
  for (size_t i = 0; i < entries.size(); ++i) {
    const LegendEntry& e = entries[i];
    const int y = box.y + 18 + 22 * static_cast<int>(i);
    const cv::Point a(box.x + 8, y - 5), b(box.x + 34, y - 5);
    switch (e.kind) {
      case 0:
        cv::rectangle(*canvas, cv::Rect(box.x + 12, y - 12, 16, 13), e.color, cv::FILLED);
        break;
      case 1:
        DashedLine(canvas, a, b, e.color, 2);
        break;
      case 2:
        cv::circle(*canvas, {box.x + 21, y - 5}, 4, e.color, cv::FILLED, cv::LINE_AA);
        break;
      default:
        cv::line(*canvas, a, b, e.color, 2, cv::LINE_AA);
    }
    cv::putText(*canvas, e.label, {box.x + 42, y}, kFont, 0.45, kBlack, 1, cv::LINE_AA);
  }
}

double NiceCeiling(double value, double step) {
  return std::max(step, std::ceil(value / step - 1e-9) * step);
}

}  // namespace

cv::Mat DrawFigure6(const std::vector<const RunMetrics*>& runs) {
  const int bar_slot = 110;
  const int width = std::max(520, 110 + bar_slot * static_cast<int>(runs.size()) + 40);
  cv::Mat canvas = WhiteCanvas(width, 460);
  Title(&canvas, "Figure 6: AP of the ablations (refined poses)");
  double top = 0;
  for (const RunMetrics* run : runs) {
    top = std::max({top, 100 * run->after().stats().ap(), 100 * run->before().stats().ap()});
  }
  // Leave head room for the legend and the value labels.
  const double y_max = std::min(100.0, NiceCeiling(top * 1.3, 10));
  const double step = y_max <= 50 ? 5 : 10;
  Axes axes(&canvas, cv::Rect(80, 50, width - 120, 320), 0, std::max<size_t>(1, runs.size()), 0,
            y_max);
  axes.YTicks(step, "%.0f");
  for (size_t i = 0; i < runs.size(); ++i) {
    const RunMetrics& run = *runs[i];
    const double ap = std::max(0.0, 100 * run.after().stats().ap());
    const double input = 100 * run.before().stats().ap();
    const cv::Point base = axes.Map(i + 0.2, 0);
    const cv::Point peak = axes.Map(i + 0.8, ap);
    cv::rectangle(canvas, cv::Rect(base, peak), kBlue, cv::FILLED);
    axes.TextCentered(absl::StrFormat("%.1f", ap), {(base.x + peak.x) / 2, peak.y - 6}, 0.45);
    if (input >= 0) {
      DashedLine(&canvas, axes.Map(i + 0.05, input), axes.Map(i + 0.95, input), kOrange, 2);
    }
    axes.TextCentered(VariantLabel(run), {(base.x + peak.x) / 2, base.y + 22}, 0.45);
  }
  axes.Frame();
  VerticalText(&canvas, "AP (%)", {25, 50 + 160});
  axes.TextCentered("variant", {axes.area().x + axes.area().width / 2, 420}, 0.5);
  Legend(&canvas, {axes.area().x + 8, axes.area().y + 8},
         {{kBlue, 0, "refined poses"}, {kOrange, 1, "input poses"}});
  return canvas;
}

cv::Mat DrawFigure7(const RunMetrics& run) {
  cv::Mat canvas = WhiteCanvas(560, 560);
  Title(&canvas, absl::StrCat("Figure 7: OKS before vs after (", run.name(), ")"));
  Axes axes(&canvas, cv::Rect(80, 50, 440, 440), 0, 1, 0, 1);
  axes.YTicks(0.2, "%.1f");
  axes.XTicks(0.2, "%.1f");
  cv::line(canvas, axes.Map(0, 0), axes.Map(1, 1), kGray, 1, cv::LINE_AA);
  int improved = 0, worsened = 0;
  for (const OksChangePair& pair : run.after().oks_change().pairs()) {
    const double before = std::clamp(pair.oks_before(), 0.0, 1.0);
    const double after = std::clamp(pair.oks_after(), 0.0, 1.0);
    if (after > before + 1e-9) ++improved;
    if (after < before - 1e-9) ++worsened;
    cv::circle(canvas, axes.Map(before, after), 4, kBlue, cv::FILLED, cv::LINE_AA);
  }
  axes.Frame();
  axes.TextCentered("OKS of the input pose", {300, 535}, 0.5);
  VerticalText(&canvas, "OKS of the refined pose", {25, 270});
  Legend(&canvas, {axes.area().x + 8, axes.area().y + 8},
         {{kBlue, 2,
           absl::StrCat(run.after().oks_change().pairs_size(), " persons (", improved, " up, ",
                        worsened, " down)")},
          {kGray, 3, "identity (no change)"}});
  return canvas;
}

cv::Mat DrawFigure8(const RunMetrics& run) {
  cv::Mat canvas = WhiteCanvas(640, 460);
  Title(&canvas, absl::StrCat("Figure 8: keypoint errors (", run.name(), ")"));
  const std::vector<double> before = ErrorFrequencies(run.before());
  const std::vector<double> after = ErrorFrequencies(run.after());
  // The error types; "good" is the rest and would flatten the chart.
  double top = 0;
  for (int i = 1; i < 5; ++i) top = std::max({top, 100 * before[i], 100 * after[i]});
  // Percentages: never above 100.
  const double y_max = std::min(100.0, NiceCeiling(top * 1.35, 5));
  Axes axes(&canvas, cv::Rect(80, 50, 520, 320), 0, 4, 0, y_max);
  axes.YTicks(y_max <= 25 ? 2.5 : y_max <= 50 ? 5 : 10, y_max <= 25 ? "%.1f" : "%.0f");
  for (int i = 1; i < 5; ++i) {
    const double slot = i - 1;
    for (int series = 0; series < 2; ++series) {
      const double value = 100 * (series == 0 ? before[i] : after[i]);
      const double x0 = slot + 0.15 + 0.35 * series;
      const cv::Point base = axes.Map(x0, 0);
      const cv::Point peak = axes.Map(x0 + 0.33, value);
      cv::rectangle(canvas, cv::Rect(base, peak), series == 0 ? kBlue : kOrange, cv::FILLED);
      axes.TextCentered(absl::StrFormat("%.1f", value), {(base.x + peak.x) / 2, peak.y - 6}, 0.4);
    }
    const cv::Point label = axes.Map(slot + 0.5, 0);
    axes.TextCentered(kErrorTypeNames[i], {label.x, label.y + 22}, 0.5);
  }
  axes.Frame();
  VerticalText(&canvas, "share of keypoints (%)", {25, 210});
  axes.TextCentered("error type (Ronchi & Perona)", {340, 420}, 0.5);
  Legend(&canvas, {axes.area().x + axes.area().width - 150, axes.area().y + 8},
         {{kBlue, 0, "input poses"}, {kOrange, 0, "refined"}});
  return canvas;
}

absl::Status WritePng(const std::string& path, const cv::Mat& image) {
  std::vector<unsigned char> bytes;
  if (!cv::imencode(".png", image, bytes)) {
    return absl::InternalError(absl::StrCat(path, ": PNG encoding failed"));
  }
  return WriteFileAtomically(
      path, absl::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

absl::Status WriteReport(const std::vector<RunMetrics>& runs, const std::string& out_dir) {
  RETURN_IF_ERROR(CreateDirectories(out_dir));
  for (const auto& [name, csv] : ReportCsvFiles(runs)) {
    RETURN_IF_ERROR(WriteFileAtomically(absl::StrCat(out_dir, "/", name), csv));
  }
  if (auto selected = RunsFor(runs, &ReportSpec::figure6); !selected.empty()) {
    RETURN_IF_ERROR(WritePng(absl::StrCat(out_dir, "/figure6.png"), DrawFigure6(selected)));
  }
  for (const RunMetrics* run : RunsFor(runs, &ReportSpec::figure7)) {
    RETURN_IF_ERROR(WritePng(absl::StrCat(out_dir, "/", Figure7PngName(*run)), DrawFigure7(*run)));
  }
  for (const RunMetrics* run : RunsFor(runs, &ReportSpec::figure8)) {
    RETURN_IF_ERROR(WritePng(absl::StrCat(out_dir, "/", Figure8PngName(*run)), DrawFigure8(*run)));
  }
  // Last, so that a report.md always comes with its files.
  return WriteFileAtomically(absl::StrCat(out_dir, "/report.md"), ReportMarkdown(runs));
}

}  // namespace posefix
