#include "posefix/eval/error_analysis.h"

#include <cmath>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "posefix/core/coco_io.h"
#include "posefix/core/file_util.h"
#include "posefix/core/keypoint_schema.h"
#include "posefix/core/status_macros.h"
#include "posefix/eval/coco_eval.h"
#include "posefix/eval/oks.h"

namespace posefix {
namespace {

constexpr double kEpsilon = 2.220446049250313e-16;
constexpr KeypointErrorType kErrorOrder[] = {MISS, SWAP, INVERSION, JITTER};

void Count(KeypointErrorType type, KeypointErrorCounts* counts) {
  switch (type) {
    case GOOD:
      counts->set_good(counts->good() + 1);
      break;
    case JITTER:
      counts->set_jitter(counts->jitter() + 1);
      break;
    case INVERSION:
      counts->set_inversion(counts->inversion() + 1);
      break;
    case SWAP:
      counts->set_swap(counts->swap() + 1);
      break;
    case MISS:
      counts->set_miss(counts->miss() + 1);
      break;
    default:
      break;
  }
}

// One matched detection of an area range and its classification.
struct AnalyzedDetection {
  int result = 0;
  KeypointClassification classification;
};

struct ApTriple {
  double ap = -1, ap50 = -1, ap75 = -1;
};

absl::StatusOr<ApTriple> EvaluateInRange(const CocoDataset& ground_truth,
                                         const KeypointResultColumns& results,
                                         absl::Span<const double> result_areas,
                                         const CocoEvalParams& params) {
  ASSIGN_OR_RETURN(const std::vector<EvalCell> cells,
                   PrepareEvalCells(ground_truth, results, params, result_areas));
  const CocoEvalResult accumulated = Accumulate(cells, params);
  ApTriple triple;
  triple.ap = SummarizePrecision(accumulated, params, -1, 0);
  triple.ap50 = SummarizePrecision(accumulated, params, .5, 0);
  triple.ap75 = SummarizePrecision(accumulated, params, .75, 0);
  return triple;
}

}  // namespace

KeypointClassification ClassifyKeypoints(absl::Span<const Keypoint> detection,
                                         const PersonAnnotation& matched,
                                         absl::Span<const PersonAnnotation* const> others,
                                         absl::Span<const double> variances,
                                         absl::Span<const int> flip,
                                         absl::Span<const int> ignored_keypoints,
                                         const ErrorAnalysisOptions& options) {
  const size_t num_keypoints = variances.size();
  const size_t num_people = 1 + others.size();
  auto person = [&](size_t p) -> const PersonAnnotation& {
    return p == 0 ? matched : *others[p - 1];
  };
  KeypointClassification classification;
  classification.types.assign(num_keypoints, KEYPOINT_ERROR_TYPE_UNSPECIFIED);
  classification.corrected.assign(detection.begin(), detection.end());
  for (size_t j = 0; j < num_keypoints; ++j) {
    if (matched.keypoints[j].v <= 0) continue;
    bool ignored = false;
    for (int i : ignored_keypoints) ignored |= static_cast<size_t>(i) == j;
    if (ignored) continue;
    // Rows: people as labelled, then people flipped; first highest wins.
    double best = -1;
    size_t best_row = 0;
    for (size_t row = 0; row < 2 * num_people; ++row) {
      const PersonAnnotation& target = person(row % num_people);
      const size_t source = row < num_people ? j : flip[j];
      const Keypoint& point = target.keypoints[source];
      double ks = -1;
      if (point.v > 0) {
        const double dx = point.x - detection[j].x;
        const double dy = point.y - detection[j].y;
        ks = std::exp(-(dx * dx + dy * dy) / variances[j] / (target.area + kEpsilon) / 2);
      }
      if (ks > best) {
        best = ks;
        best_row = row;
      }
    }
    if (best < 0) best = 0;
    KeypointErrorType type;
    if (best < options.jitter_ks) {
      type = MISS;
    } else if (best_row == 0) {
      type = best > options.good_ks ? GOOD : JITTER;
    } else if (best_row == num_people) {
      type = INVERSION;
    } else {
      type = SWAP;
    }
    classification.types[j] = type;
    if (type == GOOD) continue;
    // The distance along x at which KS against the matched person equals
    // `ks`, with sigma^2 = variance / 4 (coco-analyze's convention).
    auto distance_at = [&](double ks) {
      return std::sqrt(-std::log(ks) * 2 * matched.area * (variances[j] / 4));
    };
    double target_ks = options.jitter_ks;
    if (type == JITTER) {
      target_ks = options.good_ks;
    } else if (type == INVERSION || type == SWAP) {
      target_ks = best == 1 ? 1 - kEpsilon : best;
    }
    classification.corrected[j].x = matched.keypoints[j].x + distance_at(target_ks);
    classification.corrected[j].y = matched.keypoints[j].y;
  }
  return classification;
}

absl::StatusOr<ErrorAnalysis> AnalyzeKeypointErrors(const CocoDataset& ground_truth,
                                                    const KeypointResultColumns& results,
                                                    absl::Span<const double> result_areas,
                                                    const KeypointSchema& schema,
                                                    const ErrorAnalysisOptions& options) {
  constexpr absl::string_view kSource = "ErrorAnalysisOptions";
  if (!(options.match_oks > 0 && options.match_oks < 1)) {
    return FieldError(kSource, "match_oks", "must be in (0, 1)");
  }
  if (!(options.jitter_ks > 0 && options.jitter_ks < options.good_ks && options.good_ks < 1)) {
    return FieldError(kSource, "jitter_ks", "must satisfy 0 < jitter_ks < good_ks < 1");
  }
  const std::vector<double> variances = OksVariances(schema);
  const std::vector<int> flip = FlipPermutation(schema);
  const std::vector<int> ignored(schema.ignored_keypoints().begin(),
                                 schema.ignored_keypoints().end());
  CocoEvalParams match_params;
  match_params.variances = variances;
  match_params.max_dets = options.max_dets;
  // The cells' OKS are exact from the lowest threshold up.
  match_params.oks_thresholds = {options.match_oks};
  ASSIGN_OR_RETURN(const std::vector<EvalCell> cells,
                   PrepareEvalCells(ground_truth, results, match_params, result_areas));
  const absl::flat_hash_map<int64_t, std::vector<int>> by_image =
      GroupAnnotationsByImage(ground_truth);

  ErrorAnalysis analysis;
  analysis.set_match_oks(options.match_oks);
  // coco-analyze's "all" starts at 32^2: small people carry no keypoints.
  const std::vector<AreaRange> ranges = {
      {"all", 32 * 32, 1e10}, {"medium", 32 * 32, 96 * 96}, {"large", 96 * 96, 1e10}};
  for (const AreaRange& range : ranges) {
    AreaErrorAnalysis* area = analysis.add_area_ranges();
    area->set_area_range(range.label);
    area->set_min_area(range.min);
    area->set_max_area(range.max);
    KeypointErrorCounts* total = area->mutable_total();
    for (int j = 0; j < schema.keypoint_names_size(); ++j) {
      area->add_per_keypoint()->set_keypoint(schema.keypoint_names(j));
    }
    std::vector<AnalyzedDetection> analyzed;
    for (const EvalCell& cell : cells) {
      if (cell.dts.empty() || cell.gts.empty()) continue;
      const CellMatches matches = MatchCell(cell, range, match_params.oks_thresholds);
      for (size_t d = 0; d < cell.dts.size(); ++d) {
        const int m = matches.Match(0, d);
        if (m < 0 || cell.gts[m]->id == 0) continue;
        const PersonAnnotation& gt = *cell.gts[m];
        // Only persons of this area range with labelled keypoints (a match to
        // an ignored ground truth says nothing about this range).
        if (gt.num_keypoints == 0 || matches.Ignored(0, d)) continue;
        std::vector<const PersonAnnotation*> others;
        for (int a : by_image.at(cell.image_id)) {
          const PersonAnnotation* candidate = &ground_truth.annotations[a];
          if (candidate != &gt) others.push_back(candidate);
        }
        AnalyzedDetection detection;
        detection.result = cell.dts[d];
        detection.classification = ClassifyKeypoints(results.pose(cell.dts[d]), gt, others,
                                                     variances, flip, ignored, options);
        for (size_t j = 0; j < detection.classification.types.size(); ++j) {
          Count(detection.classification.types[j], total);
          Count(detection.classification.types[j], area->mutable_per_keypoint(j));
        }
        analyzed.push_back(std::move(detection));
      }
    }
    area->set_matched_detections(analyzed.size());

    CocoEvalParams range_params = match_params;
    range_params.oks_thresholds = CocoOksThresholds();
    range_params.area_ranges = {range};
    ASSIGN_OR_RETURN(const ApTriple baseline,
                     EvaluateInRange(ground_truth, results, result_areas, range_params));
    area->set_ap(baseline.ap);
    area->set_ap50(baseline.ap50);
    area->set_ap75(baseline.ap75);
    for (bool cumulative : {false, true}) {
      KeypointResultColumns corrected = results;
      for (KeypointErrorType type : kErrorOrder) {
        if (!cumulative) corrected.keypoints = results.keypoints;
        for (const AnalyzedDetection& detection : analyzed) {
          const absl::Span<Keypoint> pose = corrected.mutable_pose(detection.result);
          for (size_t j = 0; j < pose.size(); ++j) {
            if (detection.classification.types[j] == type) {
              pose[j] = detection.classification.corrected[j];
            }
          }
        }
        ASSIGN_OR_RETURN(const ApTriple ap,
                         EvaluateInRange(ground_truth, corrected, result_areas, range_params));
        CorrectedAp* entry = area->add_corrected();
        entry->set_error_type(type);
        entry->set_cumulative(cumulative);
        entry->set_ap(ap.ap);
        entry->set_ap50(ap.ap50);
        entry->set_ap75(ap.ap75);
      }
    }
  }
  return analysis;
}

std::string FormatErrorAnalysis(const ErrorAnalysis& analysis) {
  std::string text;
  for (const AreaErrorAnalysis& area : analysis.area_ranges()) {
    const KeypointErrorCounts& total = area.total();
    const int64_t sum =
        total.good() + total.jitter() + total.inversion() + total.swap() + total.miss();
    absl::StrAppendFormat(&text,
                          "Keypoint errors, area %s [%g, %g], %d matched detections "
                          "(OKS >= %g), %d keypoints\n",
                          area.area_range(), area.min_area(), area.max_area(),
                          area.matched_detections(), analysis.match_oks(), sum);
    absl::StrAppendFormat(&text, "  %-16s %8s %8s %9s %8s %8s\n", "keypoint", "good", "jitter",
                          "inversion", "swap", "miss");
    auto row = [&text](absl::string_view name, const KeypointErrorCounts& counts) {
      absl::StrAppendFormat(&text, "  %-16s %8d %8d %9d %8d %8d\n", name, counts.good(),
                            counts.jitter(), counts.inversion(), counts.swap(), counts.miss());
    };
    for (const KeypointErrorCounts& counts : area.per_keypoint()) row(counts.keypoint(), counts);
    row("total", total);
    absl::StrAppendFormat(&text, "  AP %.4f (AP50 %.4f, AP75 %.4f) before correction\n",
                          area.ap(), area.ap50(), area.ap75());
    for (const CorrectedAp& corrected : area.corrected()) {
      absl::StrAppendFormat(&text, "  AP %.4f (AP50 %.4f, AP75 %.4f) correcting %s%s\n",
                            corrected.ap(), corrected.ap50(), corrected.ap75(),
                            corrected.cumulative() ? "up to " : "only ",
                            KeypointErrorType_Name(corrected.error_type()));
    }
  }
  return text;
}

}  // namespace posefix
