#include "posefix/eval/coco_eval.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "posefix/core/file_util.h"
#include "posefix/core/parallel_for.h"
#include "posefix/core/status_macros.h"
#include "rapidjson/document.h"

namespace posefix {
namespace {

// np.linspace(start, stop, num): i * step + start, the last point = stop.
std::vector<double> Linspace(double start, double stop, int num) {
  std::vector<double> points(num);
  const double step = (stop - start) / (num - 1);
  for (int i = 0; i < num; ++i) points[i] = static_cast<double>(i) * step + start;
  points[num - 1] = stop;
  return points;
}

bool OutsideRange(double area, const AreaRange& range) {
  return area < range.min || area > range.max;
}

}  // namespace

double KeypointExtentArea(absl::Span<const Keypoint> pose) {
  if (pose.empty()) return 0;
  double x0 = pose[0].x, x1 = pose[0].x, y0 = pose[0].y, y1 = pose[0].y;
  for (const Keypoint& point : pose) {
    x0 = std::min(x0, point.x);
    x1 = std::max(x1, point.x);
    y0 = std::min(y0, point.y);
    y1 = std::max(y1, point.y);
  }
  return (x1 - x0) * (y1 - y0);
}

namespace {

// The raw JSON text of member `key` among the fields kept from the file.
const std::string* FindExtra(const ExtraFields& extra, absl::string_view key) {
  for (const auto& [name, value] : extra) {
    if (name == key) return &value;
  }
  return nullptr;
}

}  // namespace

absl::StatusOr<std::vector<double>> ResultAreas(absl::Span<const KeypointResult> results,
                                                absl::string_view source, int num_threads) {
  const std::string* first_box = results.empty() ? nullptr : FindExtra(results[0].extra, "bbox");
  const bool use_boxes = first_box != nullptr && absl::StripAsciiWhitespace(*first_box) != "[]";
  if (!use_boxes) {
    std::vector<double> areas(results.size());
    ParallelFor(num_threads, results.size(),
                [&](size_t r) { areas[r] = KeypointExtentArea(results[r].keypoints); });
    return areas;
  }
  std::vector<double> areas;
  areas.reserve(results.size());
  for (size_t r = 0; r < results.size(); ++r) {
    const std::string field = absl::StrCat("[", r, "].bbox");
    const std::string* box = FindExtra(results[r].extra, "bbox");
    if (box == nullptr) {
      return FieldError(source, field, "missing (the first result has a bbox)");
    }
    rapidjson::Document document;
    document.Parse<rapidjson::kParseFullPrecisionFlag>(box->data(), box->size());
    if (document.HasParseError() || !document.IsArray() || document.Size() != 4) {
      return FieldError(source, field, "expected [x, y, width, height]");
    }
    for (const rapidjson::Value& value : document.GetArray()) {
      if (!value.IsNumber()) return FieldError(source, field, "expected numbers");
    }
    areas.push_back(document[2].GetDouble() * document[3].GetDouble());
  }
  return areas;
}

std::vector<AreaRange> CocoKeypointAreaRanges() {
  return {{"all", 0, 1e10}, {"medium", 32 * 32, 96 * 96}, {"large", 96 * 96, 1e10}};
}

std::vector<double> CocoOksThresholds() { return Linspace(.5, .95, 10); }
std::vector<double> CocoRecallThresholds() { return Linspace(0., 1., 101); }

absl::Status ValidateCocoEvalParams(const CocoEvalParams& params) {
  constexpr absl::string_view kSource = "CocoEvalParams";
  if (params.variances.empty()) return FieldError(kSource, "variances", "is empty");
  for (size_t j = 0; j < params.variances.size(); ++j) {
    if (!(params.variances[j] > 0) || !std::isfinite(params.variances[j])) {
      return FieldError(kSource, absl::StrCat("variances[", j, "]"), "must be positive");
    }
  }
  if (params.max_dets <= 0) return FieldError(kSource, "max_dets", "must be positive");
  if (params.oks_thresholds.empty()) {
    return FieldError(kSource, "oks_thresholds", "is empty");
  }
  if (params.recall_thresholds.empty()) {
    return FieldError(kSource, "recall_thresholds", "is empty");
  }
  for (size_t r = 0; r < params.recall_thresholds.size(); ++r) {
    const double threshold = params.recall_thresholds[r];
    if (!(threshold >= 0 && threshold <= 1) ||
        (r > 0 && threshold < params.recall_thresholds[r - 1])) {
      return FieldError(kSource, absl::StrCat("recall_thresholds[", r, "]"),
                        "must be in [0, 1], in increasing order");
    }
  }
  if (params.area_ranges.empty()) return FieldError(kSource, "area_ranges", "is empty");
  return absl::OkStatus();
}

const std::array<const char*, CocoSummaryStats::kCount>& CocoKeypointStatNames() {
  static const std::array<const char*, CocoSummaryStats::kCount> kNames = {
      "AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75", "ARm", "ARl"};
  return kNames;
}

std::string FormatCocoSummary(const CocoSummaryStats& stats) {
  struct Line {
    bool precision;
    const char* iou;
    const char* area;
  };
  static constexpr Line kLines[CocoSummaryStats::kCount] = {
      {true, "0.50:0.95", "all"},    {true, "0.50", "all"},        {true, "0.75", "all"},
      {true, "0.50:0.95", "medium"}, {true, "0.50:0.95", "large"}, {false, "0.50:0.95", "all"},
      {false, "0.50", "all"},        {false, "0.75", "all"},       {false, "0.50:0.95", "medium"},
      {false, "0.50:0.95", "large"}};
  std::string text;
  for (int i = 0; i < CocoSummaryStats::kCount; ++i) {
    const Line& line = kLines[i];
    absl::StrAppendFormat(&text, " %-18s %s @[ IoU=%-9s | area=%6s | maxDets=%3d ] = %0.3f\n",
                          line.precision ? "Average Precision" : "Average Recall",
                          line.precision ? "(AP)" : "(AR)", line.iou, line.area, 20,
                          stats.values[i]);
  }
  return text;
}

absl::StatusOr<std::vector<EvalCell>> PrepareEvalCells(const CocoDataset& ground_truth,
                                                       const KeypointResultColumns& results,
                                                       const CocoEvalParams& params,
                                                       absl::Span<const double> result_areas,
                                                       int num_threads) {
  RETURN_IF_ERROR(ValidateCocoEvalParams(params));
  if (!result_areas.empty() && result_areas.size() != results.size()) {
    return FieldError(
        "results", "areas",
        absl::StrCat("has ", result_areas.size(), " values for ", results.size(), " results"));
  }
  const size_t num_keypoints = params.variances.size();
  if (results.size() > 0 && static_cast<size_t>(results.num_keypoints) != num_keypoints) {
    return FieldError(
        "results", "[0].keypoints",
        absl::StrCat("has ", results.num_keypoints, " keypoints, the schema ", num_keypoints));
  }

  std::vector<int64_t> image_ids;
  image_ids.reserve(ground_truth.images.size());
  for (const ImageInfo& image : ground_truth.images) image_ids.push_back(image.id);
  std::sort(image_ids.begin(), image_ids.end());
  image_ids.erase(std::unique(image_ids.begin(), image_ids.end()), image_ids.end());
  std::vector<int64_t> category_ids;
  for (const Category& category : ground_truth.categories) category_ids.push_back(category.id);
  std::sort(category_ids.begin(), category_ids.end());
  category_ids.erase(std::unique(category_ids.begin(), category_ids.end()), category_ids.end());

  absl::flat_hash_map<int64_t, int> image_index;
  image_index.reserve(image_ids.size());
  for (size_t i = 0; i < image_ids.size(); ++i) image_index[image_ids[i]] = i;
  absl::flat_hash_map<int64_t, int> category_index;
  for (size_t k = 0; k < category_ids.size(); ++k) category_index[category_ids[k]] = k;

  const size_t num_images = image_ids.size();
  std::vector<EvalCell> cells(category_ids.size() * num_images);
  for (size_t k = 0; k < category_ids.size(); ++k) {
    for (size_t i = 0; i < num_images; ++i) {
      EvalCell& cell = cells[k * num_images + i];
      cell.image_id = image_ids[i];
      cell.category_id = category_ids[k];
    }
  }
  for (size_t a = 0; a < ground_truth.annotations.size(); ++a) {
    const PersonAnnotation& annotation = ground_truth.annotations[a];
    auto image = image_index.find(annotation.image_id);
    auto category = category_index.find(annotation.category_id);
    if (image == image_index.end() || category == category_index.end()) continue;
    if (annotation.keypoints.size() != num_keypoints) {
      return FieldError("ground truth", absl::StrCat("annotations[", a, "].keypoints"),
                        absl::StrCat("has ", annotation.keypoints.size(), " keypoints, the schema ",
                                     num_keypoints));
    }
    cells[category->second * num_images + image->second].gts.push_back(&annotation);
  }
  // Each result's cell, looked up in parallel; -1: a category not evaluated.
  constexpr int kNoCategory = -1, kUnknownImage = -2;
  std::vector<int> result_cells(results.size());
  ParallelFor(num_threads, results.size(), [&](size_t r) {
    auto image = image_index.find(results.image_ids[r]);
    auto category = category_index.find(results.category_ids[r]);
    result_cells[r] = image == image_index.end() ? kUnknownImage
                      : category == category_index.end()
                          ? kNoCategory
                          : static_cast<int>(category->second * num_images + image->second);
  });
  std::vector<int> cell_sizes(cells.size());
  for (size_t r = 0; r < results.size(); ++r) {
    const int cell = result_cells[r];
    if (cell == kUnknownImage) {
      return FieldError(
          "results", absl::StrCat("[", r, "].image_id"),
          absl::StrCat("image ", results.image_ids[r], " is not in the ground truth"));
    }
    if (cell >= 0) ++cell_sizes[cell];
  }
  for (size_t c = 0; c < cells.size(); ++c) cells[c].dts.reserve(cell_sizes[c]);
  for (size_t r = 0; r < results.size(); ++r) {
    if (result_cells[r] >= 0) cells[result_cells[r]].dts.push_back(static_cast<int>(r));
  }

  // MatchCell compares an OKS with min(threshold, 1 - 1e-10); an OKS below
  // the lowest of those by more than any rounding never matches.
  const double never_matched =
      std::min(*std::min_element(params.oks_thresholds.begin(), params.oks_thresholds.end()),
               1 - 1e-10) -
      1e-9;
  const std::vector<double> inverse_variances = InverseVariances(params.variances);
  ParallelFor(num_threads, cells.size(), [&](size_t c) {
    EvalCell& cell = cells[c];
    // Best score first, file order among equal scores (a stable sort).
    absl::InlinedVector<std::pair<double, int>, 32> by_score;
    for (int r : cell.dts) by_score.emplace_back(results.scores[r], r);
    std::sort(by_score.begin(), by_score.end(), [](const auto& a, const auto& b) {
      return a.first > b.first || (a.first == b.first && a.second < b.second);
    });
    by_score.resize(std::min(by_score.size(), static_cast<size_t>(params.max_dets)));
    cell.dts.clear();
    cell.dt_areas.reserve(by_score.size());
    cell.dt_scores.reserve(by_score.size());
    for (const auto& [score, r] : by_score) {
      cell.dts.push_back(r);
      cell.dt_areas.push_back(result_areas.empty() ? KeypointExtentArea(results.pose(r))
                                                   : result_areas[r]);
      cell.dt_scores.push_back(score);
    }
    cell.oks_gts.reserve(cell.gts.size());
    for (const PersonAnnotation* gt : cell.gts) cell.oks_gts.push_back(MakeOksGroundTruth(*gt));
    if (cell.gts.empty() || cell.dts.empty()) return;
    const size_t num_gts = cell.gts.size();
    cell.oks.resize(cell.dts.size() * num_gts);
    std::vector<double> scratch(num_keypoints);
    for (size_t d = 0; d < cell.dts.size(); ++d) {
      const absl::Span<const Keypoint> pose = results.pose(cell.dts[d]);
      for (size_t g = 0; g < num_gts; ++g) {
        const double bound = OksUpperBound(cell.oks_gts[g], pose, inverse_variances, never_matched);
        cell.oks[d * num_gts + g] =
            bound < never_matched
                ? bound
                : ComputeOks(cell.oks_gts[g], pose, params.variances, scratch.data());
      }
    }
  });
  return cells;
}

CellMatches MatchCell(const EvalCell& cell, const AreaRange& area,
                      absl::Span<const double> thresholds) {
  const size_t num_gts = cell.gts.size();
  const size_t num_dts = cell.dts.size();
  const size_t num_thresholds = thresholds.size();
  CellMatches matches;
  matches.num_dts = static_cast<int>(num_dts);
  matches.dt_match.assign(num_thresholds * num_dts, -1);
  matches.dt_ignore.assign(num_thresholds * num_dts, 0);

  // Ground truths that count first, each group in file order.
  absl::InlinedVector<int, 16> order;
  absl::InlinedVector<char, 16> gt_ignore(num_gts), gt_crowd(num_gts), gt_taken(num_gts);
  for (size_t g = 0; g < num_gts; ++g) {
    const PersonAnnotation& gt = *cell.gts[g];
    gt_crowd[g] = gt.iscrowd;
    gt_ignore[g] = gt.iscrowd || gt.num_keypoints == 0 || OutsideRange(gt.area, area);
    if (!gt_ignore[g]) order.push_back(g);
  }
  matches.num_counted_gts = static_cast<int>(order.size());
  for (size_t g = 0; g < num_gts; ++g) {
    if (gt_ignore[g]) order.push_back(g);
  }
  // A detection below a threshold with every ground truth matches none.
  absl::InlinedVector<double, 32> best_oks(num_dts, -std::numeric_limits<double>::infinity());
  if (!cell.oks.empty()) {
    for (size_t d = 0; d < num_dts; ++d) {
      const double* row = &cell.oks[d * num_gts];
      best_oks[d] = *std::max_element(row, row + num_gts);
    }
  }

  for (size_t t = 0; t < num_thresholds; ++t) {
    int* dt_match = matches.dt_match.data() + t * num_dts;
    char* dt_ignore = matches.dt_ignore.data() + t * num_dts;
    const double threshold = std::min(thresholds[t], 1 - 1e-10);
    std::fill(gt_taken.begin(), gt_taken.end(), 0);
    for (size_t d = 0; d < num_dts && !cell.oks.empty(); ++d) {
      if (best_oks[d] < threshold) continue;
      double best = threshold;
      int m = -1;
      const double* row = &cell.oks[d * num_gts];
      for (int g : order) {
        if (gt_taken[g] && !gt_crowd[g]) continue;
        if (m > -1 && !gt_ignore[m] && gt_ignore[g]) break;
        if (row[g] < best) continue;
        best = row[g];
        m = g;
      }
      if (m == -1) continue;
      dt_ignore[d] = gt_ignore[m];
      dt_match[d] = m;
      gt_taken[m] = 1;
    }
    for (size_t d = 0; d < num_dts; ++d) {
      // pycocotools records the matched ground truth's id, and id 0 reads
      // as "no match".
      const bool matched = dt_match[d] >= 0 && cell.gts[dt_match[d]]->id != 0;
      if (!matched && OutsideRange(cell.dt_areas[d], area)) dt_ignore[d] = 1;
    }
  }
  return matches;
}

CocoEvalResult Accumulate(absl::Span<const EvalCell> cells, const CocoEvalParams& params,
                          int num_threads) {
  CocoEvalResult result;
  const int num_thresholds = params.oks_thresholds.size();
  const int num_recalls = params.recall_thresholds.size();
  const int num_areas = params.area_ranges.size();
  for (const EvalCell& cell : cells) {
    if (result.category_ids.empty() || result.category_ids.back() != cell.category_id) {
      result.category_ids.push_back(cell.category_id);
    }
  }
  const int num_categories = result.category_ids.size();
  result.num_thresholds = num_thresholds;
  result.num_recalls = num_recalls;
  result.num_categories = num_categories;
  result.num_areas = num_areas;
  result.precision.assign(
      static_cast<size_t>(num_thresholds) * num_recalls * num_categories * num_areas, -1.0);
  result.recall.assign(static_cast<size_t>(num_thresholds) * num_categories * num_areas, -1.0);
  if (num_categories == 0) return result;
  const size_t num_images = cells.size() / num_categories;
  constexpr double kEpsilon = 2.220446049250313e-16;

  for (int k = 0; k < num_categories; ++k) {
    const EvalCell* category_cells = cells.data() + k * num_images;
    // Every kept detection of the category, in image order, then sorted by
    // score (stable) as np.argsort(-scores, kind='mergesort').
    std::vector<size_t> offsets(num_images + 1, 0);
    for (size_t i = 0; i < num_images; ++i) {
      offsets[i + 1] = offsets[i] + category_cells[i].dts.size();
    }
    const size_t num_dts = offsets[num_images];
    std::vector<std::pair<double, uint32_t>> by_score(num_dts);
    for (size_t i = 0; i < num_images; ++i) {
      const std::vector<double>& cell_scores = category_cells[i].dt_scores;
      for (size_t d = 0; d < cell_scores.size(); ++d) {
        by_score[offsets[i] + d] = {cell_scores[d], static_cast<uint32_t>(offsets[i] + d)};
      }
    }
    // Unique indices make the order total; the two halves sort on two
    // threads, then merge.
    auto better = [](const std::pair<double, uint32_t>& a, const std::pair<double, uint32_t>& b) {
      return a.first > b.first || (a.first == b.first && a.second < b.second);
    };
    const auto middle = by_score.begin() + (num_threads > 1 ? num_dts / 2 : num_dts);
    ParallelFor(num_threads, 2, [&](size_t half) {
      std::sort(half == 0 ? by_score.begin() : middle, half == 0 ? middle : by_score.end(), better);
    });
    std::inplace_merge(by_score.begin(), middle, by_score.end(), better);
    std::vector<uint32_t> sorted(num_dts);
    for (size_t n = 0; n < num_dts; ++n) sorted[n] = by_score[n].second;

    // What each detection counts as, per row [area][threshold], in image
    // order; one sweep over the images matches every area range.
    enum Outcome : uint8_t { kFalsePositive, kTruePositive, kIgnored };
    const size_t num_rows = static_cast<size_t>(num_areas) * num_thresholds;
    // Rows are addressed through data(): with no detections the vector is
    // empty, and indexing it (even to take an address) is undefined.
    std::vector<uint8_t> outcomes(num_rows * num_dts);
    std::vector<int> counted(static_cast<size_t>(num_areas) * num_images, 0);
    ParallelFor(num_threads, num_images, [&](size_t i) {
      const EvalCell& cell = category_cells[i];
      if (cell.gts.empty() && cell.dts.empty()) return;
      for (int a = 0; a < num_areas; ++a) {
        const CellMatches matches = MatchCell(cell, params.area_ranges[a], params.oks_thresholds);
        counted[a * num_images + i] = matches.num_counted_gts;
        for (int t = 0; t < num_thresholds; ++t) {
          uint8_t* row = outcomes.data() + (a * num_thresholds + t) * num_dts + offsets[i];
          for (size_t d = 0; d < cell.dts.size(); ++d) {
            const int m = matches.Match(t, d);
            row[d] = matches.Ignored(t, d)              ? kIgnored
                     : m >= 0 && cell.gts[m]->id != 0 ? kTruePositive
                                                       : kFalsePositive;
          }
        }
      }
    });
    // The recall tp / num_counted reaches recall threshold r from
    // tp_needed[a][r] true positives on (a division is monotone).
    std::vector<int64_t> num_counted(num_areas);
    std::vector<int64_t> tp_needed(static_cast<size_t>(num_areas) * num_recalls);
    for (int a = 0; a < num_areas; ++a) {
      num_counted[a] = std::accumulate(counted.begin() + a * num_images,
                                       counted.begin() + (a + 1) * num_images, int64_t{0});
      for (int r = 0; r < num_recalls; ++r) {
        const double threshold = params.recall_thresholds[r];
        int64_t tp = std::max<int64_t>(0, static_cast<int64_t>(threshold * num_counted[a]) - 2);
        while (tp <= num_counted[a] &&
               static_cast<double>(tp) / static_cast<double>(num_counted[a]) < threshold) {
          ++tp;
        }
        tp_needed[a * num_recalls + r] = tp;
      }
    }
    // Rows are independent: one per thread at a time.
    ParallelFor(num_threads, num_rows, [&](size_t row) {
      const int a = static_cast<int>(row / num_thresholds);
      const int t = static_cast<int>(row % num_thresholds);
      if (num_counted[a] == 0) return;
      // Precision after each detection, best score first, and for each
      // recall threshold the first detection whose recall reaches it
      // (np.searchsorted(recall, thresholds, side='left')).
      std::vector<double> precision(num_dts);
      std::vector<size_t> reached(num_recalls, num_dts);
      const uint8_t* outcome = outcomes.data() + row * num_dts;
      const int64_t* needed = tp_needed.data() + a * num_recalls;
      int64_t tp = 0, fp = 0;
      int next_recall = 0;
      for (size_t n = 0; n < num_dts; ++n) {
        const uint8_t counts_as = outcome[sorted[n]];
        tp += counts_as == kTruePositive;
        fp += counts_as == kFalsePositive;
        const double tp_sum = static_cast<double>(tp);
        const double fp_sum = static_cast<double>(fp);
        precision[n] = tp_sum / (fp_sum + tp_sum + kEpsilon);
        while (next_recall < num_recalls && tp >= needed[next_recall]) reached[next_recall++] = n;
      }
      result.Recall(t, k, a) =
          num_dts > 0 ? static_cast<double>(tp) / static_cast<double>(num_counted[a]) : 0;
      // The precision envelope: each point the best precision from there on.
      double best = 0;
      for (size_t n = num_dts; n-- > 0;) {
        best = std::max(best, precision[n]);
        precision[n] = best;
      }
      for (int r = 0; r < num_recalls; ++r) {
        // Recall levels never reached keep precision 0.
        result.Precision(t, r, k, a) = reached[r] < num_dts ? precision[reached[r]] : 0;
      }
    });
  }
  return result;
}

namespace {

// Positions of `threshold` in the thresholds (all when threshold < 0); an
// exact comparison, as np.where(iouThr == p.iouThrs).
std::vector<int> ThresholdIndices(const CocoEvalParams& params, double threshold) {
  std::vector<int> indices;
  for (size_t t = 0; t < params.oks_thresholds.size(); ++t) {
    if (threshold < 0 || params.oks_thresholds[t] == threshold) indices.push_back(t);
  }
  return indices;
}

double MeanOfValid(const std::vector<double>& values) {
  std::vector<double> valid;
  valid.reserve(values.size());
  for (double value : values) {
    if (value > -1) valid.push_back(value);
  }
  if (valid.empty()) return -1;
  return NumpySum(valid.data(), valid.size()) / static_cast<double>(valid.size());
}

}  // namespace

double SummarizePrecision(const CocoEvalResult& result, const CocoEvalParams& params,
                          double threshold, int area) {
  if (area < 0 || area >= result.num_areas) return -1;
  std::vector<double> values;
  for (int t : ThresholdIndices(params, threshold)) {
    for (int r = 0; r < result.num_recalls; ++r) {
      for (int k = 0; k < result.num_categories; ++k)
        values.push_back(result.Precision(t, r, k, area));
    }
  }
  return MeanOfValid(values);
}

double SummarizeRecall(const CocoEvalResult& result, const CocoEvalParams& params, double threshold,
                       int area) {
  if (area < 0 || area >= result.num_areas) return -1;
  std::vector<double> values;
  for (int t : ThresholdIndices(params, threshold)) {
    for (int k = 0; k < result.num_categories; ++k) values.push_back(result.Recall(t, k, area));
  }
  return MeanOfValid(values);
}

CocoSummaryStats SummarizeKeypoints(const CocoEvalResult& result, const CocoEvalParams& params) {
  auto area_index = [&params](absl::string_view label) {
    for (size_t a = 0; a < params.area_ranges.size(); ++a) {
      if (params.area_ranges[a].label == label) return static_cast<int>(a);
    }
    return -1;
  };
  const int all = area_index("all");
  const int medium = area_index("medium");
  const int large = area_index("large");
  CocoSummaryStats stats;
  // COCOeval summarizes at maxDets=20 only.
  if (params.max_dets != 20) {
    stats.values.fill(-1);
    return stats;
  }
  stats.values[0] = SummarizePrecision(result, params, -1, all);
  stats.values[1] = SummarizePrecision(result, params, .5, all);
  stats.values[2] = SummarizePrecision(result, params, .75, all);
  stats.values[3] = SummarizePrecision(result, params, -1, medium);
  stats.values[4] = SummarizePrecision(result, params, -1, large);
  stats.values[5] = SummarizeRecall(result, params, -1, all);
  stats.values[6] = SummarizeRecall(result, params, .5, all);
  stats.values[7] = SummarizeRecall(result, params, .75, all);
  stats.values[8] = SummarizeRecall(result, params, -1, medium);
  stats.values[9] = SummarizeRecall(result, params, -1, large);
  return stats;
}

absl::StatusOr<CocoSummaryStats> EvaluateKeypoints(const CocoDataset& ground_truth,
                                                   const KeypointResultColumns& results,
                                                   const CocoEvalParams& params,
                                                   absl::Span<const double> result_areas,
                                                   int num_threads) {
  ASSIGN_OR_RETURN(const std::vector<EvalCell> cells,
                   PrepareEvalCells(ground_truth, results, params, result_areas, num_threads));
  return SummarizeKeypoints(Accumulate(cells, params, num_threads), params);
}

}  // namespace posefix
