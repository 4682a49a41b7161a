#ifndef POSEFIX_EVAL_OKS_NMS_H_
#define POSEFIX_EVAL_OKS_NMS_H_

#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "posefix/core/types.h"

namespace posefix {

struct OksNmsOptions {
  // A pose is dropped when its OKS with a better-scored kept pose of the same
  // image and category exceeds this (PoseFix's release: 0.9).
  double threshold = 0.9;
  // The area that scales each result's OKS, one per result (the release:
  // the area of the box the pose was refined in). Empty: the keypoints'
  // extent.
  std::vector<double> areas;
};

// OKS between two poses as OKS-NMS measures it: every keypoint counts, and
// the scale is the mean of the two poses' areas.
double PoseOks(const Pose& a, double area_a, const Pose& b, double area_b,
               absl::Span<const double> variances);

// Greedy OKS non-maximum suppression per image and category, best scores
// first (ties in input order). Returns the indices of the kept results in
// input order.
absl::StatusOr<std::vector<int>> OksNms(absl::Span<const KeypointResult> results,
                                        absl::Span<const double> variances,
                                        const OksNmsOptions& options = {});

}  // namespace posefix

#endif  // POSEFIX_EVAL_OKS_NMS_H_
