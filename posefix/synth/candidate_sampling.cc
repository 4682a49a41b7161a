#include "posefix/synth/candidate_sampling.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "absl/types/span.h"

namespace posefix {
namespace {

constexpr double kPi = 3.14159265358979323846;

double Distance2(const CandidatePoint& a, const CandidatePoint& b) {
  const double dx = a.x - b.x, dy = a.y - b.y;
  return dx * dx + dy * dy;
}

// Whether every candidate of `draw` satisfies its constraint, because all
// other sources are too far away to interfere (a margin covers rounding).
bool AlwaysAccepted(const std::vector<CandidatePoint>& sources, const CandidateDraw& draw) {
  const double clearance = draw.constraint == Constraint::kClosestToSelf
                               ? 2 * draw.max_length
                               : draw.max_length + draw.reach;
  const double limit2 = clearance * clearance * (1 + 1e-9);
  for (int i = 0; i < static_cast<int>(sources.size()); ++i) {
    if (i != draw.self && Distance2(sources[i], sources[draw.self]) <= limit2) return false;
  }
  return true;
}

// Survivors a draw of weight `fraction` needs before floor(n * fraction) >= 1.
int NeededSurvivors(double fraction) {
  if (!(fraction > 0)) return std::numeric_limits<int>::max();
  double needed = std::ceil(1 / fraction);
  if (std::floor(needed * fraction) < 1) needed += 1;
  return needed > 1e9 ? std::numeric_limits<int>::max() : static_cast<int>(needed);
}

// A source that can reject candidates, seen from the centre: at distance
// `distance` in direction `angle`. At length r it rejects the directions
// within HalfWidth(r) of `angle`.
struct Obstacle {
  double distance = 0;
  double angle = 0;
};

class RejectedArcs {
 public:
  RejectedArcs(Constraint constraint, double reach) : constraint_(constraint), reach_(reach) {}

  // The half-width of the arc of directions `obstacle` rejects at length r
  // (pi: all of them).
  double HalfWidth(const Obstacle& obstacle, double r) const {
    const double d = obstacle.distance;
    double cosine;
    if (constraint_ == Constraint::kFarFromAll) {
      // |c + r u - x| <= reach  <=>  cos(theta - angle) >= (r^2 + d^2 - reach^2) / (2 r d).
      if (r <= 0 || d <= 0) return r * r + d * d - 2 * r * d <= reach_ * reach_ ? kPi : 0;
      cosine = (r * r + d * d - reach_ * reach_) / (2 * r * d);
    } else {
      // |c + r u - x| <= r  <=>  cos(theta - angle) >= d / (2 r).
      if (r <= 0) return 0;
      cosine = d / (2 * r);
    }
    if (cosine <= -1) return kPi;
    if (cosine >= 1) return 0;
    return std::acos(cosine);
  }

  // The measure of the union of the rejected arcs at length r, in [0, 2 pi].
  double Covered(absl::Span<const Obstacle> obstacles, double r) const {
    intervals_.clear();
    for (const Obstacle& o : obstacles) {
      const double half = HalfWidth(o, r);
      if (half <= 0) continue;
      if (half >= kPi) return 2 * kPi;
      double start = o.angle - half;  // angle in [-pi, pi], so start >= -2 pi
      if (start < 0) start += 2 * kPi;
      const double end = start + 2 * half;
      if (end > 2 * kPi) {
        intervals_.push_back({start, 2 * kPi});
        intervals_.push_back({0, end - 2 * kPi});
      } else {
        intervals_.push_back({start, end});
      }
    }
    if (intervals_.empty()) return 0;
    if (intervals_.size() == 1) return intervals_[0].second - intervals_[0].first;
    std::sort(intervals_.begin(), intervals_.end());
    double covered = 0, open = intervals_[0].first, close = intervals_[0].second;
    for (const auto& [start, end] : intervals_) {
      if (start > close) {
        covered += close - open;
        open = start;
        close = end;
      } else {
        close = std::max(close, end);
      }
    }
    covered += close - open;
    return std::min(covered, 2 * kPi);
  }

 private:
  Constraint constraint_;
  double reach_;
  mutable absl::InlinedVector<std::pair<double, double>, 16> intervals_;
};

// Gauss-Legendre on [0, 1] (nodes by Newton's method on the Legendre
// polynomial of degree kGaussOrder) after the substitution
// r = a + width (1 - cos(pi t)) / 2, which makes the square-root ends of a
// piece smooth in t: per node, the length's place in the piece and the
// weight times dr/dt / width.
constexpr int kGaussOrder = 8;
struct GaussRule {
  std::array<double, kGaussOrder> place;
  std::array<double, kGaussOrder> weight;
};

GaussRule MakeGaussRule() {
  GaussRule rule;
  const int n = kGaussOrder;
  for (int i = 0; i < n; ++i) {
    double x = std::cos(kPi * (i + 0.75) / (n + 0.5));
    double derivative = 1;
    for (int iteration = 0; iteration < 100; ++iteration) {
      double p0 = 1, p1 = x;
      for (int k = 2; k <= n; ++k) {
        const double p2 = ((2 * k - 1) * x * p1 - (k - 1) * p0) / k;
        p0 = p1;
        p1 = p2;
      }
      derivative = n * (x * p1 - p0) / (x * x - 1);
      const double step = p1 / derivative;
      x -= step;
      if (std::abs(step) < 1e-16) break;
    }
    const double t = (1 - x) / 2;
    const double weight = 1 / ((1 - x * x) * derivative * derivative);  // 2/(...) halved for [0, 1]
    rule.place[i] = (1 - std::cos(kPi * t)) / 2;
    rule.weight[i] = weight * std::sin(kPi * t) * kPi / 2;
  }
  return rule;
}

const GaussRule& Gauss() {
  static const GaussRule rule = MakeGaussRule();
  return rule;
}

// Lengths at which the union of rejected arcs can change shape: where an
// arc appears, vanishes or covers everything, and where the boundaries of
// two obstacles' rejected regions cross (the arcs' ends meet there).
absl::InlinedVector<double, 32> Breakpoints(const CandidatePoint& centre,
                                            absl::Span<const CandidatePoint> at,
                                            absl::Span<const Obstacle> obstacles,
                                            const CandidateDraw& draw) {
  absl::InlinedVector<double, 32> lengths;
  const double reach = draw.reach;
  for (const Obstacle& o : obstacles) {
    if (draw.constraint == Constraint::kFarFromAll) {
      lengths.push_back(std::abs(o.distance - reach));
      lengths.push_back(o.distance + reach);
    } else {
      lengths.push_back(o.distance / 2);
    }
  }
  for (size_t i = 0; i < at.size(); ++i) {
    for (size_t j = i + 1; j < at.size(); ++j) {
      if (draw.constraint == Constraint::kFarFromAll) {
        // The two circles of radius `reach` around at[i] and at[j].
        const double dx = at[j].x - at[i].x, dy = at[j].y - at[i].y;
        const double d2 = dx * dx + dy * dy;
        if (d2 <= 0 || d2 > 4 * reach * reach) continue;
        const double h = std::sqrt(std::max(0.0, reach * reach - d2 / 4) / d2);
        const CandidatePoint mid{(at[i].x + at[j].x) / 2, (at[i].y + at[j].y) / 2};
        lengths.push_back(std::sqrt(Distance2(centre, {mid.x - h * dy, mid.y + h * dx})));
        lengths.push_back(std::sqrt(Distance2(centre, {mid.x + h * dy, mid.y - h * dx})));
      } else {
        // The two bisectors meet at the point equidistant from the centre,
        // at[i] and at[j]: the circumcentre, at the circumradius.
        const double ax = at[i].x - centre.x, ay = at[i].y - centre.y;
        const double bx = at[j].x - centre.x, by = at[j].y - centre.y;
        const double cross = 2 * (ax * by - ay * bx);
        if (cross == 0) continue;
        const double a2 = ax * ax + ay * ay, b2 = bx * bx + by * by;
        const double ux = (by * a2 - ay * b2) / cross, uy = (ax * b2 - bx * a2) / cross;
        lengths.push_back(std::hypot(ux, uy));
      }
    }
  }
  return lengths;
}

// log(n choose k) + k log p + (n - k) log(1 - p), for 0 < p < 1.
double LogBinomialPmf(int n, int k, double log_p, double log_q) {
  return std::lgamma(n + 1.0) - std::lgamma(k + 1.0) - std::lgamma(n - k + 1.0) + k * log_p +
         (n - k) * log_q;
}

}  // namespace

bool DrawCandidate(const std::vector<CandidatePoint>& sources, const CandidateDraw& draw,
                   DeterministicRandom* rng, CandidatePoint* out) {
  const double length = rng->Uniform(draw.min_length, draw.max_length);
  double dx, dy;
  rng->UnitVector(&dx, &dy);
  const CandidatePoint& centre = sources[draw.self];
  const CandidatePoint candidate{centre.x + length * dx, centre.y + length * dy};
  // The distance to the centre is measured on the candidate itself, so that a
  // source at the centre's very position ties (and is rejected) exactly.
  const double limit2 = draw.constraint == Constraint::kClosestToSelf ? Distance2(candidate, centre)
                                                                      : draw.reach * draw.reach;
  for (int i = 0; i < static_cast<int>(sources.size()); ++i) {
    if (i == draw.self) continue;
    if (Distance2(candidate, sources[i]) <= limit2) return false;
  }
  *out = candidate;
  return true;
}

bool FirstSurvivor(const std::vector<CandidatePoint>& sources, const CandidateDraw& draw, int count,
                   DeterministicRandom* rng, CandidatePoint* out) {
  for (int i = 0; i < count; ++i) {
    if (DrawCandidate(sources, draw, rng, out)) return true;
  }
  return false;
}

double AcceptanceProbability(const std::vector<CandidatePoint>& sources,
                             const CandidateDraw& draw) {
  if (AlwaysAccepted(sources, draw)) return 1;
  const CandidatePoint& centre = sources[draw.self];
  const double lo = draw.min_length, hi = draw.max_length;
  absl::InlinedVector<Obstacle, 16> obstacles;
  absl::InlinedVector<CandidatePoint, 16> at;
  for (int i = 0; i < static_cast<int>(sources.size()); ++i) {
    if (i == draw.self) continue;
    const double dx = sources[i].x - centre.x, dy = sources[i].y - centre.y;
    const double d = std::hypot(dx, dy);
    if (draw.constraint == Constraint::kClosestToSelf) {
      if (d == 0) return 0;  // every candidate ties with it
      if (d / 2 >= hi) continue;
    } else if (d - hi > draw.reach) {
      continue;
    }
    obstacles.push_back({d, std::atan2(dy, dx)});
    at.push_back(sources[i]);
  }
  if (obstacles.empty()) return 1;
  const RejectedArcs arcs(draw.constraint, draw.reach);
  if (!(hi > lo)) return 1 - arcs.Covered(obstacles, lo) / (2 * kPi);

  absl::InlinedVector<double, 32> cuts = {lo, hi};
  for (double r : Breakpoints(centre, at, obstacles, draw)) {
    if (r > lo && r < hi) cuts.push_back(r);
  }
  std::sort(cuts.begin(), cuts.end());
  const GaussRule& gauss = Gauss();
  double integral = 0;
  for (size_t piece = 0; piece + 1 < cuts.size(); ++piece) {
    const double a = cuts[piece], width = cuts[piece + 1] - a;
    if (!(width > 0)) continue;
    double sum = 0;
    for (int i = 0; i < kGaussOrder; ++i) {
      sum += gauss.weight[i] * arcs.Covered(obstacles, a + width * gauss.place[i]);
    }
    integral += sum * width;
  }
  return std::clamp(1 - integral / (2 * kPi * (hi - lo)), 0.0, 1.0);
}

int SampleBinomial(int n, double p, int lo, int hi, DeterministicRandom* rng) {
  if (lo == hi || p <= 0 || p >= 1) return std::clamp(p >= 1 ? n : 0, lo, hi);
  const double log_p = std::log(p), log_q = std::log1p(-p);
  auto pmf = [&](int k) { return std::exp(LogBinomialPmf(n, k, log_p, log_q)); };
  // The probability of the range, summed over whichever side is shorter.
  double mass = 0;
  if (hi - lo < n / 2) {
    for (int k = lo; k <= hi; ++k) mass += pmf(k);
  } else {
    mass = 1;
    for (int k = 0; k < lo; ++k) mass -= pmf(k);
    for (int k = hi + 1; k <= n; ++k) mass -= pmf(k);
  }
  // Inversion over the outcomes in the order mode, mode - 1, mode + 1,
  // mode - 2, ... (the mode clamped to the range), each probability from its
  // neighbour's: pmf(k + 1) = pmf(k) (n - k) / (k + 1) p / q.
  const double odds = p / (1 - p);
  const int mode = std::clamp(static_cast<int>(std::floor((n + 1) * p)), lo, hi);
  const double p_mode = pmf(mode);
  double u = rng->Uniform01() * mass;
  if (u < p_mode) return mode;
  u -= p_mode;
  int below = mode - 1, above = mode + 1;
  double p_below = p_mode, p_above = p_mode;
  while (below >= lo || above <= hi) {
    if (below >= lo) {
      p_below *= (below + 1) / ((n - below) * odds);
      if (u < p_below) return below;
      u -= p_below;
      --below;
    }
    if (above <= hi) {
      p_above *= (n - above + 1) * odds / above;
      if (u < p_above) return above;
      u -= p_above;
      ++above;
    }
  }
  return mode;  // rounding left a sliver of u
}

SurvivorPool::SurvivorPool(const std::vector<CandidatePoint>& sources, Draws draws,
                           Fractions fractions, int count)
    : sources_(sources), draws_(std::move(draws)), fractions_(std::move(fractions)), count_(count) {
  for (double fraction : fractions_) needed_.push_back(NeededSurvivors(fraction));
}

bool SurvivorPool::PickFromBatches(DeterministicRandom* rng, CandidatePoint* out) const {
  std::vector<std::vector<CandidatePoint>> survivors(draws_.size());
  absl::InlinedVector<int64_t, 8> weights(draws_.size());
  int64_t total = 0;
  for (size_t s = 0; s < draws_.size(); ++s) {
    CandidatePoint candidate;
    for (int i = 0; i < count_; ++i) {
      if (DrawCandidate(sources_, draws_[s], rng, &candidate)) survivors[s].push_back(candidate);
    }
    weights[s] = static_cast<int64_t>(std::floor(survivors[s].size() * fractions_[s]));
    total += weights[s];
  }
  if (total == 0) return false;
  int64_t pick = static_cast<int64_t>(rng->UniformInt(static_cast<uint64_t>(total)));
  for (size_t s = 0; s < draws_.size(); ++s) {
    if (pick < weights[s]) {
      *out = survivors[s][rng->UniformInt(survivors[s].size())];
      return true;
    }
    pick -= weights[s];
  }
  return false;  // not reached: pick < total
}

bool SurvivorPool::HasSurvivors(DeterministicRandom* rng) {
  first_with_survivors_ = -1;
  for (size_t s = 0; s < draws_.size(); ++s) {
    const int needed = needed_[s];
    if (needed > count_) continue;
    CandidatePoint candidate;
    int found = 0;
    for (int i = 0; i < count_ && found < needed && count_ - i >= needed - found; ++i) {
      if (DrawCandidate(sources_, draws_[s], rng, &candidate)) ++found;
    }
    if (found >= needed) {
      first_with_survivors_ = static_cast<int>(s);
      return true;
    }
  }
  return false;
}

CandidatePoint SurvivorPool::Pick(DeterministicRandom* rng) const {
  // N_s for draws before the first with survivors: fewer than needed; for
  // that draw: at least needed; for the ones after it: unconstrained.
  absl::InlinedVector<int64_t, 8> weights(draws_.size());
  int64_t total = 0;
  for (int s = 0; s < static_cast<int>(draws_.size()); ++s) {
    int lo = 0, hi = count_;
    if (s < first_with_survivors_) hi = std::min(count_, needed_[s] - 1);
    if (s == first_with_survivors_) lo = needed_[s];
    const double p = AcceptanceProbability(sources_, draws_[s]);
    const int survivors = SampleBinomial(count_, p, lo, hi, rng);
    weights[s] = static_cast<int64_t>(std::floor(survivors * fractions_[s]));
    total += weights[s];
  }
  int64_t pick = static_cast<int64_t>(rng->UniformInt(static_cast<uint64_t>(total)));
  size_t chosen = 0;
  while (pick >= weights[chosen]) pick -= weights[chosen++];
  CandidatePoint candidate;
  while (!DrawCandidate(sources_, draws_[chosen], rng, &candidate)) {
  }
  return candidate;
}

}  // namespace posefix
