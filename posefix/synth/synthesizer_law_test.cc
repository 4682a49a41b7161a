// The exact candidate sampler (CandidateSampling::kExact) against the
// release's whole batches (kReleaseBatches) on a large sample: the status
// frequencies of every keypoint and, per status, the distribution of the
// synthesized point's offset from its ground truth must be the same.
#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "posefix/core/keypoint_schema.h"
#include "posefix/synth/synthesizer.h"
#include "posefix/synth/test_poses.h"

namespace posefix {
namespace {

struct Sample {
  // (keypoint, status) -> count.
  std::map<std::pair<int, int>, double> counts;
  // Per status: the offsets from the ground truth in units of sqrt(area).
  std::map<int, std::vector<double>> dx, dy, distance;
};

Sample Synthesize(const SynthesisInput& input, CandidateSampling sampling, int persons,
                  uint64_t seed) {
  const Synthesizer synthesizer =
      *Synthesizer::Create(ErrorModel(), CocoSchema(), "release error model", sampling);
  const double scale = std::sqrt(input.area);
  Sample sample;
  for (int i = 0; i < persons; ++i) {
    DeterministicRandom rng = DeterministicRandom::ForKey({seed, static_cast<uint64_t>(i)});
    const SynthesizedPose out = *synthesizer.Synthesize(input, &rng);
    for (int j = 0; j < static_cast<int>(out.status.size()); ++j) {
      const int status = static_cast<int>(out.status[j]);
      ++sample.counts[{j, status}];
      if (input.target[j].v <= 0 || out.status[j] == SynthesisStatus::kDropped) continue;
      const double x = (out.pose[j].x - input.target[j].x) / scale;
      const double y = (out.pose[j].y - input.target[j].y) / scale;
      sample.dx[status].push_back(x);
      sample.dy[status].push_back(y);
      sample.distance[status].push_back(std::hypot(x, y));
    }
  }
  return sample;
}

// The two-sample Kolmogorov-Smirnov statistic.
double KolmogorovSmirnov(std::vector<double> a, std::vector<double> b) {
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  size_t i = 0, j = 0;
  double largest = 0;
  while (i < a.size() && j < b.size()) {
    const double x = std::min(a[i], b[j]);
    while (i < a.size() && a[i] <= x) ++i;
    while (j < b.size() && b[j] <= x) ++j;
    largest = std::max(
        largest, std::abs(static_cast<double>(i) / a.size() - static_cast<double>(j) / b.size()));
  }
  return largest;
}

// Rejection thresholds at a significance of 1e-4 per comparison.
double KolmogorovSmirnovCritical(size_t n, size_t m) {
  const double c = std::sqrt(-std::log(1e-4 / 2) / 2);
  return c * std::sqrt(static_cast<double>(n + m) / (static_cast<double>(n) * m));
}
double ChiSquareCritical(int degrees) {  // Wilson-Hilferty
  const double z = 3.719, v = 2.0 / (9 * degrees);
  return degrees * std::pow(1 - v + z * std::sqrt(v), 3);
}

void ExpectSameLaw(const SynthesisInput& input, int persons, const std::string& name) {
  const Sample release = Synthesize(input, CandidateSampling::kReleaseBatches, persons, 1);
  const Sample exact = Synthesize(input, CandidateSampling::kExact, persons, 2);

  // Status frequencies per keypoint: two samples of equal size, so Pearson's
  // statistic is sum (a - b)^2 / (a + b) over the cells seen.
  std::map<std::pair<int, int>, std::pair<double, double>> cells;
  for (const auto& [cell, count] : release.counts) cells[cell].first = count;
  for (const auto& [cell, count] : exact.counts) cells[cell].second = count;
  double statistic = 0;
  int degrees = -static_cast<int>(input.target.size());  // each keypoint's counts sum to `persons`
  for (const auto& [cell, pair] : cells) {
    const auto [a, b] = pair;
    statistic += (a - b) * (a - b) / (a + b);
    ++degrees;
  }
  ASSERT_GT(degrees, 0) << name;
  EXPECT_LT(statistic, ChiSquareCritical(degrees)) << name << ": status frequencies";

  for (int status = 0; status < kNumErrorStatuses; ++status) {
    const auto& a = release.distance.find(status);
    const auto& b = exact.distance.find(status);
    if (a == release.distance.end() || b == exact.distance.end()) continue;
    if (a->second.size() < 50 || b->second.size() < 50) continue;
    const std::string what = absl::StrCat(
        name, ": ", SynthesisStatusName(static_cast<SynthesisStatus>(status)), " offsets");
    const double critical = KolmogorovSmirnovCritical(a->second.size(), b->second.size());
    EXPECT_LT(KolmogorovSmirnov(release.dx.at(status), exact.dx.at(status)), critical) << what;
    EXPECT_LT(KolmogorovSmirnov(release.dy.at(status), exact.dy.at(status)), critical) << what;
    EXPECT_LT(KolmogorovSmirnov(a->second, b->second), critical) << what;
  }
}

TEST(SynthesizerLawTest, AlonePerson) {
  SynthesisInput input;
  input.target = StandingPerson(0, 0);
  input.area = 100 * 250;
  ExpectSameLaw(input, 3000, "alone");
}

// Two neighbours close enough that swaps and misses drawn around their
// keypoints compete with the person's own; two keypoints unlabelled.
TEST(SynthesizerLawTest, TwoOverlappingNeighbours) {
  SynthesisInput input;
  input.target = StandingPerson(0, 0);
  input.target[3].v = 0;
  input.target[14].v = 0;
  input.neighbours = {StandingPerson(18, 6), StandingPerson(-20, -4)};
  input.area = 100 * 250;
  ExpectSameLaw(input, 2000, "two neighbours");
}

// A crowd at a small scale: four neighbours a few pixels away, so that many
// candidates fail their constraints and the own miss source is often empty.
TEST(SynthesizerLawTest, SmallPersonInACrowd) {
  SynthesisInput input;
  input.target = StandingPerson(0, 0);
  for (int i = 0; i < 4; ++i) {
    input.neighbours.push_back(StandingPerson((i % 2 ? 1 : -1) * (6 + 4 * i), (i < 2 ? 3 : -3)));
  }
  input.area = 50 * 125;
  ExpectSameLaw(input, 1000, "crowd");
}

}  // namespace
}  // namespace posefix
