#ifndef POSEFIX_EVAL_OKS_H_
#define POSEFIX_EVAL_OKS_H_

#include <cstddef>
#include <vector>

#include "absl/types/span.h"
#include "posefix/core/keypoint_schema.pb.h"
#include "posefix/core/types.h"

namespace posefix {

// Sums `n` doubles in exactly the order numpy's np.sum uses for a contiguous
// float64 array (pairwise summation with an 8-way unrolled base case, over
// buffers of 8192 elements), so that means and OKS values agree with
// pycocotools bit for bit.
double NumpySum(const double* values, size_t n);

// The per-keypoint OKS variances (2 sigma)^2, computed as pycocotools does.
// pycocotools spells its sigmas as tenths divided by ten (.26 / 10.0), which
// differs in the last bit from the literal .026 for some keypoints; a sigma
// that is a three-decimal number is therefore reproduced in that spelling,
// any other sigma is used as given.
std::vector<double> OksVariances(absl::Span<const double> sigmas);
std::vector<double> OksVariances(const KeypointSchema& schema);

// A ground-truth person reduced to what OKS needs, in contiguous arrays.
struct OksGroundTruth {
  std::vector<double> x, y;
  std::vector<char> labelled;  // v > 0
  int num_labelled = 0;
  double area = 0;
  // The box grown by its own size on each side; used when no keypoint is
  // labelled (pycocotools then measures the distance to this region).
  double x0 = 0, x1 = 0, y0 = 0, y1 = 0;
};
OksGroundTruth MakeOksGroundTruth(const PersonAnnotation& annotation);

// Object keypoint similarity of `detection` against `gt`, exactly as
// pycocotools' COCOeval.computeOks: mean over the labelled keypoints of
// exp(-d^2 / (2 sigma)^2 / (area + eps) / 2), or over all keypoints measured
// to the enlarged box when the ground truth has none labelled.
// `scratch` must hold at least variances.size() doubles.
double ComputeOks(const OksGroundTruth& gt, absl::Span<const Keypoint> detection,
                  absl::Span<const double> variances, double* scratch);

// 1 / variance per keypoint, for OksUpperBound.
std::vector<double> InverseVariances(absl::Span<const double> variances);

// An upper bound of ComputeOks(gt, detection, variances) that needs no exp:
// each similarity exp(-e) is at most exp(-floor(4e) / 4), tabulated up to
// e = 16 (so, summed to the end, at most e^(1/4) times the OKS, plus 2e-7).
// The evaluator skips the exact OKS of a pair whose bound is below every
// threshold. The bound may fall short of the OKS by rounding, a few ulps at
// most. The sum stops once the keypoints left, each taken at the largest
// step, cannot lift the mean to `stop_below`; that mean is then the (looser)
// bound returned.
double OksUpperBound(const OksGroundTruth& gt, absl::Span<const Keypoint> detection,
                     absl::Span<const double> inverse_variances, double stop_below = 0);

// Per-keypoint similarity exp(-d^2 / (2 sigma)^2 / (area + eps) / 2).
double KeypointSimilarity(double dx, double dy, double variance, double area);

// OKS of every detection against every ground truth, row-major
// [detection][ground truth].
std::vector<double> ComputeOksMatrix(absl::Span<const OksGroundTruth> gts,
                                     absl::Span<const Pose* const> detections,
                                     absl::Span<const double> variances);

}  // namespace posefix

#endif  // POSEFIX_EVAL_OKS_H_
