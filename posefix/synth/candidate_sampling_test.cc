#include "posefix/synth/candidate_sampling.h"

#include <cmath>
#include <map>
#include <vector>

#include "gtest/gtest.h"
#include "posefix/core/random.h"

namespace posefix {
namespace {

constexpr double kPi = 3.14159265358979323846;

// The fraction of `trials` candidates of `draw` that survive.
double SurvivalFrequency(const std::vector<CandidatePoint>& sources, const CandidateDraw& draw,
                         int trials, uint64_t seed) {
  DeterministicRandom rng(seed);
  CandidatePoint candidate;
  int survived = 0;
  for (int i = 0; i < trials; ++i) survived += DrawCandidate(sources, draw, &rng, &candidate);
  return static_cast<double>(survived) / trials;
}

struct Case {
  const char* name;
  std::vector<CandidatePoint> sources;
  CandidateDraw draw;
};

// Misses (far from all others by `reach`) and closest-to-self draws among
// obstacles that overlap, cover the centre, coincide or sit far away.
std::vector<Case> Cases() {
  const CandidateDraw miss{0, 10, 13.2, Constraint::kFarFromAll, 10};
  const CandidateDraw jitter{0, 0, 10, Constraint::kClosestToSelf, 0};
  return {
      {"miss, one obstacle", {{0, 0}, {15, 0}}, miss},
      {"miss, overlapping obstacles", {{0, 0}, {15, 0}, {12, 9}, {-14, 3}, {-3, -16}}, miss},
      {"miss, obstacle at the centre", {{0, 0}, {0, 0}, {20, 0}}, miss},
      {"miss, obstacle covering the centre", {{0, 0}, {2, 1}}, miss},
      {"miss, around a neighbour",
       {{0, 0}, {22, 0}, {25, 7}},
       {1, 10, 13.2, Constraint::kFarFromAll, 10}},
      {"miss, nothing near", {{0, 0}, {40, 0}}, miss},
      {"jitter, one obstacle", {{0, 0}, {8, 0}}, jitter},
      {"jitter, a ring of obstacles", {{0, 0}, {8, 0}, {-6, 5}, {1, -9}, {7, 7}, {-2, 12}}, jitter},
      {"swap-like, collinear",
       {{0, 0}, {5, 0}, {10, 0}, {-7, 0}},
       {1, 0, 6, Constraint::kClosestToSelf, 0}},
  };
}

TEST(AcceptanceProbabilityTest, EqualsTheSurvivalFrequencyOfDrawnCandidates) {
  constexpr int kTrials = 1000000;
  for (const Case& c : Cases()) {
    const double p = AcceptanceProbability(c.sources, c.draw);
    const double frequency = SurvivalFrequency(c.sources, c.draw, kTrials, 7);
    // Five standard errors of the frequency (and at least 1e-4 near 0 and 1).
    const double tolerance = 5 * std::sqrt(std::max(p * (1 - p), 2e-5) / kTrials);
    EXPECT_NEAR(p, frequency, tolerance) << c.name;
  }
}

TEST(AcceptanceProbabilityTest, KnownValues) {
  // Nothing within reach, or a source at the very centre (every candidate
  // ties with it).
  EXPECT_EQ(AcceptanceProbability({{0, 0}, {40, 0}}, {0, 10, 13.2, Constraint::kFarFromAll, 10}),
            1);
  EXPECT_EQ(AcceptanceProbability({{0, 0}, {0, 0}}, {0, 0, 10, Constraint::kClosestToSelf, 0}), 0);
  // An obstacle whose reach covers the whole annulus.
  EXPECT_NEAR(AcceptanceProbability({{0, 0}, {1, 0}}, {0, 2, 3, Constraint::kFarFromAll, 5}), 0,
              1e-14);
  // One obstacle at distance d, closest-to-self, length uniform in [0, b):
  // the rejected arc at length r > d/2 has half-width acos(d / 2r), whose
  // integral is r acos(h/r) - h ln(r + sqrt(r^2 - h^2)), h = d/2.
  const double d = 8, b = 10, h = d / 2;
  auto integral = [h](double r) {
    return r * std::acos(h / r) - h * std::log(r + std::sqrt(r * r - h * h));
  };
  const double expected = 1 - (integral(b) - integral(h)) / (kPi * b);
  EXPECT_NEAR(AcceptanceProbability({{0, 0}, {d, 0}}, {0, 0, b, Constraint::kClosestToSelf, 0}),
              expected, 1e-10);
}

// Independent of the breakpoints: the midpoint rule on a fine grid of the
// survival frequency of each length, measured by drawing directions only.
TEST(AcceptanceProbabilityTest, AgreesWithAFineLengthGrid) {
  for (const Case& c : Cases()) {
    const CandidateDraw& draw = c.draw;
    constexpr int kLengths = 4000;
    double sum = 0;
    for (int i = 0; i < kLengths; ++i) {
      const double r = draw.min_length + (draw.max_length - draw.min_length) * (i + 0.5) / kLengths;
      CandidateDraw fixed = draw;
      fixed.min_length = fixed.max_length = r;
      sum += AcceptanceProbability(c.sources, fixed);
    }
    EXPECT_NEAR(AcceptanceProbability(c.sources, draw), sum / kLengths, 2e-5) << c.name;
  }
}

double BinomialPmf(int n, int k, double p) {
  return std::exp(std::lgamma(n + 1.0) - std::lgamma(k + 1.0) - std::lgamma(n - k + 1.0) +
                  k * std::log(p) + (n - k) * std::log1p(-p));
}

// Pearson's statistic of the sample against Binomial(n, p) restricted to
// [lo, hi], over outcomes of expected count >= 5 (the rest pooled).
double ChiSquare(const std::map<int, int>& counts, int samples, int n, double p, int lo, int hi,
                 int* degrees) {
  double mass = 0;
  for (int k = lo; k <= hi; ++k) mass += BinomialPmf(n, k, p);
  double statistic = 0, pooled_expected = 0, pooled_observed = 0;
  *degrees = -1;
  for (int k = lo; k <= hi; ++k) {
    const double expected = samples * BinomialPmf(n, k, p) / mass;
    const auto it = counts.find(k);
    const double observed = it == counts.end() ? 0 : it->second;
    if (expected < 5) {
      pooled_expected += expected;
      pooled_observed += observed;
      continue;
    }
    statistic += (observed - expected) * (observed - expected) / expected;
    ++*degrees;
  }
  if (pooled_expected > 0) {
    statistic +=
        (pooled_observed - pooled_expected) * (pooled_observed - pooled_expected) / pooled_expected;
    ++*degrees;
  }
  return statistic;
}

// The chi-square quantile of upper-tail probability 1e-4 (Wilson-Hilferty).
double ChiSquareCritical(int degrees) {
  const double z = 3.719, v = 2.0 / (9 * degrees);
  return degrees * std::pow(1 - v + z * std::sqrt(v), 3);
}

TEST(SampleBinomialTest, FollowsTheTruncatedBinomialLaw) {
  struct Range {
    int n;
    double p;
    int lo, hi;
  };
  for (const Range& range : std::vector<Range>{{2000, 0.3, 0, 2000},
                                               {2000, 0.97, 0, 2000},
                                               {2000, 0.001, 0, 3},
                                               {2000, 0.001, 4, 2000},
                                               {125, 0.5, 60, 70},
                                               {500, 0.9999, 0, 500}}) {
    DeterministicRandom rng(11);
    constexpr int kSamples = 200000;
    std::map<int, int> counts;
    for (int i = 0; i < kSamples; ++i) {
      const int k = SampleBinomial(range.n, range.p, range.lo, range.hi, &rng);
      ASSERT_GE(k, range.lo);
      ASSERT_LE(k, range.hi);
      ++counts[k];
    }
    int degrees = 0;
    const double statistic =
        ChiSquare(counts, kSamples, range.n, range.p, range.lo, range.hi, &degrees);
    if (degrees > 0) {
      EXPECT_LT(statistic, ChiSquareCritical(degrees))
          << "n " << range.n << " p " << range.p << " [" << range.lo << ", " << range.hi << "]";
    }
  }
  DeterministicRandom rng(1);
  EXPECT_EQ(SampleBinomial(10, 1.0, 0, 10, &rng), 10);
  EXPECT_EQ(SampleBinomial(10, 0.0, 0, 10, &rng), 0);
  EXPECT_EQ(SampleBinomial(10, 0.5, 4, 4, &rng), 4);
}

// A cell of the plane around the origin: 12 directions by 6 distance rings.
int Cell(const CandidatePoint& point) {
  const double angle = std::atan2(point.y, point.x) + kPi;  // [0, 2 pi]
  const int direction = std::min(11, static_cast<int>(angle / (2 * kPi) * 12));
  const double distance = std::hypot(point.x, point.y);
  int ring = 0;
  for (double edge : {10.0, 13.2, 20.0, 25.0, 32.0}) ring += distance >= edge;
  return direction * 6 + ring;
}

// The exact sampler against the release's batches, on a miss whose own
// source rarely has a survivor (so the other sources' conditioning is
// exercised): how often the pool is empty, and where the picked survivor
// lands (12 x 6 cells of the plane).
TEST(SurvivorPoolTest, ExactSamplerHasTheLawOfTheReleaseBatches) {
  // Own keypoint hemmed in by a ring of six others, each with few survivors
  // in a batch of 20; two more sources farther out, which take no draws.
  std::vector<CandidatePoint> sources = {{0, 0}};
  for (int k = 0; k < 6; ++k) {
    sources.push_back({18.2 * std::cos(k * kPi / 3), 18.2 * std::sin(k * kPi / 3)});
  }
  sources.push_back({40, 20});
  sources.push_back({-38, -18});
  SurvivorPool::Draws draws;
  SurvivorPool::Fractions fractions;
  for (int s = 0; s < 7; ++s) {
    draws.push_back({s, 10, 13.2, Constraint::kFarFromAll, 10});
    fractions.push_back(s == 0 ? 1.0 : 1.0 / 14);  // 14 survivors for a weight of 1
  }
  const double own = AcceptanceProbability(sources, draws[0]);
  ASSERT_GT(own, 2e-2);
  ASSERT_LT(own, 5e-2);
  SurvivorPool pool(sources, draws, fractions, 20);

  constexpr int kTrials = 100000;
  constexpr int kEmpty = 72;  // the cell of "no survivor"
  std::vector<double> release(kEmpty + 1), exact(kEmpty + 1);
  DeterministicRandom release_rng(3), exact_rng(4);
  for (int i = 0; i < kTrials; ++i) {
    CandidatePoint point;
    ++release[pool.PickFromBatches(&release_rng, &point) ? Cell(point) : kEmpty];
    ++exact[pool.HasSurvivors(&exact_rng) ? Cell(pool.Pick(&exact_rng)) : kEmpty];
  }
  // Two-sample chi-square over the cells.
  double statistic = 0;
  int degrees = -1;
  for (size_t k = 0; k < release.size(); ++k) {
    const double total = release[k] + exact[k];
    if (total == 0) continue;
    statistic += (release[k] - exact[k]) * (release[k] - exact[k]) / total;
    ++degrees;
  }
  ASSERT_GE(degrees, 10);
  EXPECT_LT(statistic, ChiSquareCritical(degrees));
  // Every branch is taken: survivors near the own keypoint (ring 1) and
  // near the others (rings 2 and beyond), and an empty pool.
  double near_own = 0, others = 0;
  for (int k = 0; k < kEmpty; ++k) (k % 6 == 1 ? near_own : others) += release[k];
  EXPECT_GT(near_own, kTrials / 20);
  EXPECT_GT(others, kTrials / 100);
  EXPECT_GT(release[kEmpty], kTrials / 5);
}

}  // namespace
}  // namespace posefix
