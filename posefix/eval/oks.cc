#include "posefix/eval/oks.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "posefix/core/keypoint_schema.h"

namespace posefix {
namespace {

// np.spacing(1): the gap between 1.0 and the next double.
constexpr double kEpsilon = 2.220446049250313e-16;

// numpy's pairwise_sum for float64: below 8 elements a plain loop, up to 128
// eight interleaved partial sums, above that the halves (cut at a multiple
// of 8) summed recursively.
double PairwiseSum(const double* a, size_t n) {
  if (n < 8) {
    double sum = 0.;
    for (size_t i = 0; i < n; ++i) sum += a[i];
    return sum;
  }
  if (n <= 128) {
    double r[8];
    for (int j = 0; j < 8; ++j) r[j] = a[j];
    size_t i = 8;
    for (; i < n - (n % 8); i += 8) {
      for (int j = 0; j < 8; ++j) r[j] += a[i + j];
    }
    double sum = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) sum += a[i];
    return sum;
  }
  size_t half = n / 2;
  half -= half % 8;
  return PairwiseSum(a, half) + PairwiseSum(a + half, n - half);
}

}  // namespace

double NumpySum(const double* values, size_t n) {
  // The ufunc reduction hands the inner loop at most one buffer at a time.
  constexpr size_t kBufferSize = 8192;
  double sum = 0.;
  for (size_t start = 0; start < n; start += kBufferSize) {
    sum += PairwiseSum(values + start, std::min(kBufferSize, n - start));
  }
  return sum;
}

std::vector<double> OksVariances(absl::Span<const double> sigmas) {
  std::vector<double> variances;
  variances.reserve(sigmas.size());
  for (double sigma : sigmas) {
    double value = sigma;
    const double thousandths = std::round(sigma * 1000);
    if (thousandths > 0 && thousandths < 1e6) {
      // Nearest double to thousandths / 100 (the tenths literal), then / 10.
      const double tenths_spelling = thousandths / 100.0 / 10.0;
      const double literal = thousandths / 1000.0;
      if (literal == sigma) value = tenths_spelling;
    }
    const double kappa = value * 2;
    variances.push_back(kappa * kappa);
  }
  return variances;
}

std::vector<double> OksVariances(const KeypointSchema& schema) {
  return OksVariances(Sigmas(schema));
}

OksGroundTruth MakeOksGroundTruth(const PersonAnnotation& annotation) {
  OksGroundTruth gt;
  const size_t k = annotation.keypoints.size();
  gt.x.resize(k);
  gt.y.resize(k);
  gt.labelled.resize(k);
  for (size_t j = 0; j < k; ++j) {
    const Keypoint& point = annotation.keypoints[j];
    gt.x[j] = point.x;
    gt.y[j] = point.y;
    gt.labelled[j] = point.v > 0;
    gt.num_labelled += gt.labelled[j];
  }
  gt.area = annotation.area;
  const Box& box = annotation.bbox;
  gt.x0 = box.x - box.width;
  gt.x1 = box.x + box.width * 2;
  gt.y0 = box.y - box.height;
  gt.y1 = box.y + box.height * 2;
  return gt;
}

double KeypointSimilarity(double dx, double dy, double variance, double area) {
  return std::exp(-((dx * dx + dy * dy) / variance / (area + kEpsilon) / 2));
}

namespace {

// Calls offset(j, dx, dy) for every keypoint j OKS averages, in keypoint
// order, while it returns true: from the labelled keypoint, or from the
// enlarged box when none is.
template <typename Offset>
void ForEachOksOffset(const OksGroundTruth& gt, absl::Span<const Keypoint> detection,
                      size_t num_keypoints, const Offset& offset) {
  if (gt.num_labelled > 0) {
    for (size_t j = 0; j < num_keypoints; ++j) {
      if (!gt.labelled[j]) continue;
      if (!offset(j, detection[j].x - gt.x[j], detection[j].y - gt.y[j])) return;
    }
  } else {
    for (size_t j = 0; j < num_keypoints; ++j) {
      const double xd = detection[j].x;
      const double yd = detection[j].y;
      if (!offset(j, std::max(0.0, gt.x0 - xd) + std::max(0.0, xd - gt.x1),
                  std::max(0.0, gt.y0 - yd) + std::max(0.0, yd - gt.y1))) {
        return;
      }
    }
  }
}

// exp(-k / 4) rounded up, for k < kBoundSteps: exp(-e) <= BoundSteps()[floor(4e)].
constexpr int kBoundSteps = 64;
const std::array<double, kBoundSteps>& BoundSteps() {
  static const std::array<double, kBoundSteps> steps = [] {
    std::array<double, kBoundSteps> values;
    for (int k = 0; k < kBoundSteps; ++k) values[k] = std::nextafter(std::exp(-k / 4.0), 2.0);
    return values;
  }();
  return steps;
}

}  // namespace

double ComputeOks(const OksGroundTruth& gt, absl::Span<const Keypoint> detection,
                  absl::Span<const double> variances, double* scratch) {
  size_t n = 0;
  ForEachOksOffset(gt, detection, variances.size(), [&](size_t j, double dx, double dy) {
    scratch[n++] = KeypointSimilarity(dx, dy, variances[j], gt.area);
    return true;
  });
  return NumpySum(scratch, n) / static_cast<double>(n);
}

std::vector<double> InverseVariances(absl::Span<const double> variances) {
  std::vector<double> inverse;
  inverse.reserve(variances.size());
  for (double variance : variances) inverse.push_back(1 / variance);
  return inverse;
}

double OksUpperBound(const OksGroundTruth& gt, absl::Span<const Keypoint> detection,
                     absl::Span<const double> inverse_variances, double stop_below) {
  // A negative area (never read from a file: the reader refuses it) makes
  // similarities above 1; no bound then.
  if (!(gt.area + kEpsilon > 0)) return std::numeric_limits<double>::infinity();
  const std::array<double, kBoundSteps>& steps = BoundSteps();
  // 4e, by products instead of the three divisions (a few ulps apart).
  const double scale = 2 / (gt.area + kEpsilon);
  const size_t count = gt.num_labelled > 0 ? gt.num_labelled : inverse_variances.size();
  // The mean if every similarity not yet summed were the largest step.
  const auto mean_at_most = [&](double sum, size_t n) {
    return (sum + static_cast<double>(count - n) * steps[0]) / static_cast<double>(count);
  };
  double sum = 0;
  size_t n = 0;
  bool stopped = false;
  ForEachOksOffset(gt, detection, inverse_variances.size(), [&](size_t j, double dx, double dy) {
    const double quarters = (dx * dx + dy * dy) * inverse_variances[j] * scale;
    sum += steps[quarters < kBoundSteps - 1 ? static_cast<int>(quarters) : kBoundSteps - 1];
    ++n;
    stopped = n < count && mean_at_most(sum, n) < stop_below;
    return !stopped;
  });
  return stopped ? mean_at_most(sum, n) : sum / static_cast<double>(n);
}

std::vector<double> ComputeOksMatrix(absl::Span<const OksGroundTruth> gts,
                                     absl::Span<const Pose* const> detections,
                                     absl::Span<const double> variances) {
  std::vector<double> matrix(detections.size() * gts.size());
  std::vector<double> scratch(variances.size());
  for (size_t d = 0; d < detections.size(); ++d) {
    for (size_t g = 0; g < gts.size(); ++g) {
      matrix[d * gts.size() + g] = ComputeOks(gts[g], *detections[d], variances, scratch.data());
    }
  }
  return matrix;
}

}  // namespace posefix
