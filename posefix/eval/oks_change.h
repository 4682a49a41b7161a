#ifndef POSEFIX_EVAL_OKS_CHANGE_H_
#define POSEFIX_EVAL_OKS_CHANGE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "posefix/core/types.h"
#include "posefix/eval/metrics.pb.h"

namespace posefix {

struct OksChangeOptions {
  // Each result set is matched to the ground truth by COCOeval's greedy
  // matching (best scores first, at most max_dets per image) at this OKS;
  // only persons that count (not crowd, with keypoints) are paired.
  double match_oks = 0.1;
  int max_dets = 20;
};

// Per-instance OKS of two result sets over the same ground truth (e.g. input
// poses and refined poses), paired through the ground truth each is matched
// to; pairs come in ground-truth file order. `*_areas` as for
// PrepareEvalCells.
absl::StatusOr<OksChange> ComputeOksChange(const CocoDataset& ground_truth,
                                           const KeypointResultColumns& before,
                                           absl::Span<const double> before_areas,
                                           const KeypointResultColumns& after,
                                           absl::Span<const double> after_areas,
                                           absl::Span<const double> variances,
                                           const OksChangeOptions& options = {});

// The pairs as CSV with a header line, for plotting.
std::string OksChangeToCsv(const OksChange& change);

}  // namespace posefix

#endif  // POSEFIX_EVAL_OKS_CHANGE_H_
