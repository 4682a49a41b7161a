#include "posefix/eval/oks_change.h"

#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_format.h"
#include "posefix/core/file_util.h"
#include "posefix/core/status_macros.h"
#include "posefix/eval/coco_eval.h"
#include "posefix/eval/oks.h"

namespace posefix {
namespace {

struct Match {
  int result = -1;
  double oks = 0;
};

// Ground truth -> the result matched to it at params' one threshold.
absl::StatusOr<absl::flat_hash_map<const PersonAnnotation*, Match>> MatchResults(
    const CocoDataset& ground_truth, const KeypointResultColumns& results,
    absl::Span<const double> areas, const CocoEvalParams& params) {
  ASSIGN_OR_RETURN(const std::vector<EvalCell> cells,
                   PrepareEvalCells(ground_truth, results, params, areas));
  absl::flat_hash_map<const PersonAnnotation*, Match> matches;
  for (const EvalCell& cell : cells) {
    if (cell.gts.empty() || cell.dts.empty()) continue;
    const CellMatches cell_matches = MatchCell(cell, params.area_ranges[0], params.oks_thresholds);
    for (size_t d = 0; d < cell.dts.size(); ++d) {
      const int m = cell_matches.Match(0, d);
      if (m < 0 || cell_matches.Ignored(0, d)) continue;
      matches[cell.gts[m]] = {cell.dts[d], cell.oks[d * cell.gts.size() + m]};
    }
  }
  return matches;
}

}  // namespace

absl::StatusOr<OksChange> ComputeOksChange(const CocoDataset& ground_truth,
                                           const KeypointResultColumns& before,
                                           absl::Span<const double> before_areas,
                                           const KeypointResultColumns& after,
                                           absl::Span<const double> after_areas,
                                           absl::Span<const double> variances,
                                           const OksChangeOptions& options) {
  if (!(options.match_oks > 0 && options.match_oks < 1)) {
    return FieldError("OksChangeOptions", "match_oks", "must be in (0, 1)");
  }
  CocoEvalParams params;
  params.variances.assign(variances.begin(), variances.end());
  params.max_dets = options.max_dets;
  params.area_ranges = {CocoKeypointAreaRanges()[0]};
  params.oks_thresholds = {options.match_oks};
  ASSIGN_OR_RETURN(const auto before_matches,
                   MatchResults(ground_truth, before, before_areas, params));
  ASSIGN_OR_RETURN(const auto after_matches,
                   MatchResults(ground_truth, after, after_areas, params));

  OksChange change;
  change.set_match_oks(options.match_oks);
  double sum_before = 0, sum_after = 0, ks_before = 0, ks_after = 0;
  for (const PersonAnnotation& gt : ground_truth.annotations) {
    auto b = before_matches.find(&gt);
    auto a = after_matches.find(&gt);
    const bool in_before = b != before_matches.end();
    const bool in_after = a != after_matches.end();
    if (in_before && !in_after) change.set_matched_before_only(change.matched_before_only() + 1);
    if (!in_before && in_after) change.set_matched_after_only(change.matched_after_only() + 1);
    if (!in_before || !in_after) continue;
    OksChangePair* pair = change.add_pairs();
    pair->set_image_id(gt.image_id);
    pair->set_ground_truth_id(gt.id);
    pair->set_before_index(b->second.result);
    pair->set_after_index(a->second.result);
    pair->set_oks_before(b->second.oks);
    pair->set_oks_after(a->second.oks);
    sum_before += b->second.oks;
    sum_after += a->second.oks;
    const absl::Span<const Keypoint> from = before.pose(b->second.result);
    const absl::Span<const Keypoint> to = after.pose(a->second.result);
    for (size_t j = 0; j < gt.keypoints.size() && j < variances.size(); ++j) {
      if (gt.keypoints[j].v <= 0) continue;
      change.set_keypoints(change.keypoints() + 1);
      if (from[j].x == to[j].x && from[j].y == to[j].y) continue;
      change.set_moved_keypoints(change.moved_keypoints() + 1);
      const Keypoint& truth = gt.keypoints[j];
      ks_before +=
          KeypointSimilarity(from[j].x - truth.x, from[j].y - truth.y, variances[j], gt.area);
      ks_after += KeypointSimilarity(to[j].x - truth.x, to[j].y - truth.y, variances[j], gt.area);
    }
  }
  if (change.pairs_size() > 0) {
    change.set_mean_oks_before(sum_before / change.pairs_size());
    change.set_mean_oks_after(sum_after / change.pairs_size());
  }
  if (change.moved_keypoints() > 0) {
    change.set_moved_mean_ks_before(ks_before / change.moved_keypoints());
    change.set_moved_mean_ks_after(ks_after / change.moved_keypoints());
  }
  return change;
}

std::string OksChangeToCsv(const OksChange& change) {
  std::string csv = "image_id,ground_truth_id,before_index,after_index,oks_before,oks_after\n";
  for (const OksChangePair& pair : change.pairs()) {
    absl::StrAppendFormat(&csv, "%d,%d,%d,%d,%.17g,%.17g\n", pair.image_id(),
                          pair.ground_truth_id(), pair.before_index(), pair.after_index(),
                          pair.oks_before(), pair.oks_after());
  }
  return csv;
}

}  // namespace posefix
