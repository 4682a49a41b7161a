#ifndef POSEFIX_SYNTH_CANDIDATE_SAMPLING_H_
#define POSEFIX_SYNTH_CANDIDATE_SAMPLING_H_

// The release's way of placing a synthesized keypoint: candidates drawn at a
// uniform length and a uniform direction around a source point, kept when
// they satisfy a constraint relative to the other sources, one survivor
// picked. Two samplers of that law: the release's literal batches, and an
// exact one that draws what the law needs and no more.

#include <vector>

#include "absl/container/inlined_vector.h"
#include "posefix/core/random.h"

namespace posefix {

struct CandidatePoint {
  double x = 0;
  double y = 0;
};

// Where a candidate may lie relative to the points it could be confused
// with (`sources`; the candidate was drawn around sources[self]).
enum class Constraint {
  // Strictly closer to sources[self] than to every other source (good,
  // jitter, inversion, swap).
  kClosestToSelf,
  // Farther than `reach` from every other source (miss; its length already
  // keeps it that far from sources[self]).
  kFarFromAll,
};

// One kind of candidate: length uniform in [min_length, max_length), a
// uniformly distributed direction, around sources[self].
struct CandidateDraw {
  int self = 0;
  double min_length = 0;
  double max_length = 0;
  Constraint constraint = Constraint::kClosestToSelf;
  double reach = 0;  // kFarFromAll only
};

// Draws one candidate; true (and `out` set) when it satisfies the constraint.
bool DrawCandidate(const std::vector<CandidatePoint>& sources, const CandidateDraw& draw,
                   DeterministicRandom* rng, CandidatePoint* out);

// Draws up to `count` candidates and stops at the first survivor: exactly
// the release's uniform pick among the survivors of a batch of `count` (a
// survivor's law does not depend on its place in the batch, and a batch has
// one exactly when the first comes within `count` draws).
bool FirstSurvivor(const std::vector<CandidatePoint>& sources, const CandidateDraw& draw, int count,
                   DeterministicRandom* rng, CandidatePoint* out);

// The probability that one candidate of `draw` satisfies its constraint,
// computed, not sampled: the rejected directions at each length form a union
// of arcs, integrated over the length between the lengths at which that
// union changes shape (Gauss-Legendre after a substitution that smooths the
// square-root ends of each piece; about 1e-10 absolute: a difference a
// sample could reveal only after some 1e20 draws).
double AcceptanceProbability(const std::vector<CandidatePoint>& sources, const CandidateDraw& draw);

// Binomial(n, p) conditioned on lo <= N <= hi, by inversion (outcomes taken
// from the mode outwards). Requires 0 <= lo <= hi <= n and a positive
// probability of the range.
int SampleBinomial(int n, double p, int lo, int hi, DeterministicRandom* rng);

// The release's pick among candidates drawn around several sources: a batch
// of `count` candidates per draw, the N_s survivors of draw s weighted
// floor(N_s * fractions[s]), one of the weighted survivors picked uniformly.
// (A single draw with fraction 1 is the release's single-source status.)
class SurvivorPool {
 public:
  using Draws = absl::InlinedVector<CandidateDraw, 8>;
  using Fractions = absl::InlinedVector<double, 8>;
  SurvivorPool(const std::vector<CandidatePoint>& sources, Draws draws, Fractions fractions,
               int count);

  // The release, literally: every batch drawn, false when the weighted pool
  // is empty.
  bool PickFromBatches(DeterministicRandom* rng, CandidatePoint* out) const;

  // The same law, drawing only what decides it. Whether the pool is
  // non-empty: the draws are tried in order, each until it has the survivors
  // its weight needs (or `count` candidates failed); the first that has them
  // is remembered, so that Pick can complete the batch counts consistently.
  bool HasSurvivors(DeterministicRandom* rng);
  // After HasSurvivors returned true: the survivor counts of all draws,
  // sampled from their binomial laws conditioned on what HasSurvivors saw
  // (AcceptanceProbability), then the release's weighted pick; the picked
  // survivor is a fresh candidate of its draw, which has the law of any
  // survivor of that draw.
  CandidatePoint Pick(DeterministicRandom* rng) const;

 private:
  const std::vector<CandidatePoint>& sources_;
  Draws draws_;
  Fractions fractions_;
  int count_;
  // Survivors draw s needs for a weight of at least 1.
  absl::InlinedVector<int, 8> needed_;
  int first_with_survivors_ = -1;
};

}  // namespace posefix

#endif  // POSEFIX_SYNTH_CANDIDATE_SAMPLING_H_
