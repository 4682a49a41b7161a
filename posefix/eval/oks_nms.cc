#include "posefix/eval/oks_nms.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "posefix/core/file_util.h"
#include "posefix/eval/coco_eval.h"

namespace posefix {

double PoseOks(const Pose& a, double area_a, const Pose& b, double area_b,
               absl::Span<const double> variances) {
  const double scale = (area_a + area_b) / 2 + 2.220446049250313e-16;
  double sum = 0;
  for (size_t j = 0; j < variances.size(); ++j) {
    const double dx = a[j].x - b[j].x;
    const double dy = a[j].y - b[j].y;
    sum += std::exp(-((dx * dx + dy * dy) / variances[j] / scale / 2));
  }
  return sum / static_cast<double>(variances.size());
}

absl::StatusOr<std::vector<int>> OksNms(absl::Span<const KeypointResult> results,
                                        absl::Span<const double> variances,
                                        const OksNmsOptions& options) {
  if (!std::isfinite(options.threshold)) {
    return FieldError("OksNmsOptions", "threshold", "must be finite");
  }
  if (variances.empty()) return FieldError("OksNms", "variances", "is empty");
  absl::flat_hash_map<std::pair<int64_t, int64_t>, std::vector<int>> groups;
  for (size_t r = 0; r < results.size(); ++r) {
    if (results[r].keypoints.size() != variances.size()) {
      return FieldError("results", absl::StrCat("[", r, "].keypoints"),
                        absl::StrCat("has ", results[r].keypoints.size(), " keypoints, the schema ",
                                     variances.size()));
    }
    groups[{results[r].image_id, results[r].category_id}].push_back(r);
  }
  std::vector<double> areas = options.areas;
  if (areas.empty()) {
    areas.resize(results.size());
    for (size_t r = 0; r < results.size(); ++r) {
      areas[r] = KeypointExtentArea(results[r].keypoints);
    }
  } else if (areas.size() != results.size()) {
    return FieldError(
        "OksNmsOptions", "areas",
        absl::StrCat("has ", areas.size(), " values for ", results.size(), " results"));
  }
  std::vector<int> kept;
  kept.reserve(results.size());
  for (auto& [key, members] : groups) {
    std::stable_sort(members.begin(), members.end(),
                     [&results](int a, int b) { return results[a].score > results[b].score; });
    std::vector<int> group_kept;
    for (int candidate : members) {
      bool suppressed = false;
      for (int keeper : group_kept) {
        if (PoseOks(results[keeper].keypoints, areas[keeper], results[candidate].keypoints,
                    areas[candidate], variances) > options.threshold) {
          suppressed = true;
          break;
        }
      }
      if (!suppressed) group_kept.push_back(candidate);
    }
    kept.insert(kept.end(), group_kept.begin(), group_kept.end());
  }
  std::sort(kept.begin(), kept.end());
  return kept;
}

}  // namespace posefix
