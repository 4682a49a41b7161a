#ifndef POSEFIX_EVAL_COCO_EVAL_H_
#define POSEFIX_EVAL_COCO_EVAL_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "posefix/core/types.h"
#include "posefix/eval/oks.h"

namespace posefix {

// An object-size range on the annotation area, inclusive at both ends.
struct AreaRange {
  std::string label;
  double min = 0;
  double max = 0;
};

// COCO's keypoint area ranges: all [0, 1e5^2], medium [32^2, 96^2],
// large [96^2, 1e5^2] (keypoint evaluation has no "small").
std::vector<AreaRange> CocoKeypointAreaRanges();

// .50:.05:.95 as np.linspace computes it (i * step + start, the last = stop).
std::vector<double> CocoOksThresholds();
// 0:.01:1, 101 recall points, as np.linspace computes them.
std::vector<double> CocoRecallThresholds();

struct CocoEvalParams {
  // (2 sigma)^2 per keypoint; see OksVariances. Required.
  std::vector<double> variances;
  // Detections kept per image and category, best scores first.
  int max_dets = 20;
  std::vector<double> oks_thresholds = CocoOksThresholds();
  std::vector<double> recall_thresholds = CocoRecallThresholds();
  std::vector<AreaRange> area_ranges = CocoKeypointAreaRanges();
};

// Checks the parameters and the inputs (keypoint counts) once; the message
// names the field at fault.
absl::Status ValidateCocoEvalParams(const CocoEvalParams& params);

// The ten statistics of COCOeval.summarize() for keypoints, in its order.
struct CocoSummaryStats {
  static constexpr int kCount = 10;
  std::array<double, kCount> values{};
  double ap() const { return values[0]; }
};
// "AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75", "ARm", "ARl".
const std::array<const char*, CocoSummaryStats::kCount>& CocoKeypointStatNames();
// The summary lines pycocotools prints, one per statistic, value last.
std::string FormatCocoSummary(const CocoSummaryStats& stats);

// The ground truth and detections of one (image, category), in the order
// pycocotools evaluates them.
struct EvalCell {
  int64_t image_id = 0;
  int64_t category_id = 0;
  std::vector<const PersonAnnotation*> gts;  // file order
  std::vector<OksGroundTruth> oks_gts;
  // Indices into the results, best score first (stable), at most max_dets.
  std::vector<int> dts;
  std::vector<double> dt_areas;
  std::vector<double> dt_scores;
  // OKS [dt][gt], dts in the order above; a pair whose OKS is surely below
  // every threshold holds OksUpperBound instead (it never matches either
  // way, and the bound spares the exp calls).
  std::vector<double> oks;
};

// Groups ground truth and detections into cells, images sorted by id and
// categories by id (pycocotools' params.imgIds / params.catIds), and computes
// the OKS matrices. The order of `results` decides ties in score. Fails when
// a result names an unknown image or the poses have the wrong number of
// keypoints. `result_areas` (one per result) are the areas the area ranges
// test; empty: the area of each pose's keypoint extent, as pycocotools'
// loadRes derives it (see ResultAreas).
absl::StatusOr<std::vector<EvalCell>> PrepareEvalCells(const CocoDataset& ground_truth,
                                                       const KeypointResultColumns& results,
                                                       const CocoEvalParams& params,
                                                       absl::Span<const double> result_areas = {},
                                                       int num_threads = 1);

// The area pycocotools' loadRes gives each result: when the first result has
// a non-empty "bbox" member, width * height of every result's bbox (a result
// without one is an error); otherwise the area of the keypoints' extent.
// Reading the bbox needs the results read with keep_extra_fields.
// (max x - min x) * (max y - min y) over all keypoints, labelled or not.
double KeypointExtentArea(absl::Span<const Keypoint> pose);

absl::StatusOr<std::vector<double>> ResultAreas(absl::Span<const KeypointResult> results,
                                                absl::string_view source, int num_threads = 1);

// COCOeval.evaluateImg for one cell, one area range and every threshold.
struct CellMatches {
  int num_dts = 0;
  // [threshold * num_dts + detection] (cell order): the matched ground
  // truth's position in cell.gts, or -1; whether the detection is ignored.
  std::vector<int> dt_match;
  std::vector<char> dt_ignore;
  // Ground truths that count (not crowd, not keypoint-less, in range).
  int num_counted_gts = 0;
  int Match(int t, int d) const { return dt_match[t * num_dts + d]; }
  bool Ignored(int t, int d) const { return dt_ignore[t * num_dts + d]; }
};
// `thresholds` must not be below the lowest of the oks_thresholds the cell
// was prepared with (under it the cell holds bounds, not OKS values).
CellMatches MatchCell(const EvalCell& cell, const AreaRange& area,
                      absl::Span<const double> thresholds);

// COCOeval.accumulate: precision [T][R][K][A] and recall [T][K][A], -1 where a
// category has no counted ground truth in an area range.
struct CocoEvalResult {
  std::vector<int64_t> category_ids;
  int num_thresholds = 0, num_recalls = 0, num_categories = 0, num_areas = 0;
  std::vector<double> precision;
  std::vector<double> recall;
  double& Precision(int t, int r, int k, int a) {
    return precision[((static_cast<size_t>(t) * num_recalls + r) * num_categories + k) *
                         num_areas + a];
  }
  double& Recall(int t, int k, int a) {
    return recall[(static_cast<size_t>(t) * num_categories + k) * num_areas + a];
  }
  double Precision(int t, int r, int k, int a) const {
    return precision[((static_cast<size_t>(t) * num_recalls + r) * num_categories + k) *
                         num_areas + a];
  }
  double Recall(int t, int k, int a) const {
    return recall[(static_cast<size_t>(t) * num_categories + k) * num_areas + a];
  }
};
CocoEvalResult Accumulate(absl::Span<const EvalCell> cells, const CocoEvalParams& params,
                          int num_threads = 1);

// Mean of the entries > -1 of a slice, as COCOeval._summarize (-1 if none).
// `threshold` < 0 means every threshold; `area` indexes params.area_ranges.
double SummarizePrecision(const CocoEvalResult& result, const CocoEvalParams& params,
                          double threshold, int area);
double SummarizeRecall(const CocoEvalResult& result, const CocoEvalParams& params,
                       double threshold, int area);

// The ten statistics; needs the default thresholds and area ranges.
CocoSummaryStats SummarizeKeypoints(const CocoEvalResult& result,
                                     const CocoEvalParams& params);

// Everything above in one call: COCOeval(gt, dt, 'keypoints') evaluate,
// accumulate and summarize.
absl::StatusOr<CocoSummaryStats> EvaluateKeypoints(const CocoDataset& ground_truth,
                                                   const KeypointResultColumns& results,
                                                   const CocoEvalParams& params,
                                                   absl::Span<const double> result_areas = {},
                                                   int num_threads = 1);

}  // namespace posefix

#endif  // POSEFIX_EVAL_COCO_EVAL_H_
