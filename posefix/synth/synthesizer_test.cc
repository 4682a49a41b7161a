#include "posefix/synth/synthesizer.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "posefix/core/coco_io.h"
#include "posefix/core/geometry.h"
#include "posefix/core/keypoint_schema.h"
#include "posefix/core/status_macros.h"
#include "posefix/core/text_proto.h"
#include "posefix/synth/test_poses.h"

namespace posefix {
namespace {

constexpr char kFixtureGt[] = "testdata/coco/annotations/person_keypoints_val2017_fixture.json";

Synthesizer ReleaseSynthesizer() {
  absl::StatusOr<Synthesizer> synthesizer = Synthesizer::Create(ErrorModel(), CocoSchema());
  EXPECT_TRUE(synthesizer.ok()) << synthesizer.status();
  return *std::move(synthesizer);
}

double Dist(const Keypoint& a, double x, double y) { return std::hypot(a.x - x, a.y - y); }

// The points keypoint j can be confused with, computed independently of the
// implementation: [0] own, then counterpart (or none), then neighbours.
struct Sources {
  Keypoint own;
  std::vector<Keypoint> counterpart;
  std::vector<Keypoint> neighbours;  // same and counterpart joint
};

Sources SourcesOf(const SynthesisInput& input, int j) {
  const std::vector<int> flip = FlipPermutation(CocoSchema());
  Sources s;
  s.own = input.target[j];
  if (flip[j] != j && input.target[flip[j]].v > 0) s.counterpart.push_back(input.target[flip[j]]);
  for (const Pose& n : input.neighbours) {
    if (n[j].v > 0) s.neighbours.push_back(n[j]);
    if (flip[j] != j && n[flip[j]].v > 0) s.neighbours.push_back(n[flip[j]]);
  }
  return s;
}

// Checks the constraint of the status drawn for keypoint j.
void ExpectConstraintHolds(const SynthesisInput& input, const SynthesizedPose& out, int j) {
  const double sigma = CocoSchema().sigmas(j);
  const double d85 = KsDistance(0.85, sigma, input.area);
  const double d50 = KsDistance(0.5, sigma, input.area);
  const double d10 = KsDistance(0.1, sigma, input.area);
  const Keypoint& p = out.pose[j];
  const Sources s = SourcesOf(input, j);
  const double to_own = Dist(p, s.own.x, s.own.y);
  double to_counterpart = 1e300, to_neighbour = 1e300;
  for (const Keypoint& c : s.counterpart) to_counterpart = Dist(p, c.x, c.y);
  for (const Keypoint& n : s.neighbours) to_neighbour = std::min(to_neighbour, Dist(p, n.x, n.y));
  const double eps = 1e-9;
  const std::string where =
      "joint " + std::to_string(j) + " status " + SynthesisStatusName(out.status[j]);
  switch (out.status[j]) {
    case SynthesisStatus::kGood:
      EXPECT_LE(to_own, d85 + eps) << where;
      EXPECT_LT(to_own, std::min(to_counterpart, to_neighbour)) << where;
      break;
    case SynthesisStatus::kJitter:
      EXPECT_GE(to_own, d85 - eps) << where;
      EXPECT_LE(to_own, d50 + eps) << where;
      EXPECT_LT(to_own, std::min(to_counterpart, to_neighbour)) << where;
      break;
    case SynthesisStatus::kInversion:
      ASSERT_FALSE(s.counterpart.empty()) << where;
      EXPECT_LE(to_counterpart, d50 + eps) << where;
      EXPECT_LT(to_counterpart, std::min(to_own, to_neighbour)) << where;
      break;
    case SynthesisStatus::kSwap:
      ASSERT_FALSE(s.neighbours.empty()) << where;
      EXPECT_LE(to_neighbour, d50 + eps) << where;
      EXPECT_LT(to_neighbour, std::min(to_own, to_counterpart)) << where;
      break;
    case SynthesisStatus::kMiss:
      EXPECT_GE(std::min({to_own, to_counterpart, to_neighbour}), d50 - eps) << where;
      EXPECT_LE(std::min({to_own, to_counterpart, to_neighbour}), d10 + eps) << where;
      break;
    default:
      ADD_FAILURE() << where;
  }
  EXPECT_EQ(p.v, 1) << where;
}

TEST(KsDistanceTest, IsWhereKeypointSimilarityEqualsK) {
  for (double k : {0.85, 0.5, 0.1}) {
    for (double sigma : {0.026, 0.079, 0.107}) {
      for (double area : {100.0, 4321.0, 250000.0}) {
        const double d = KsDistance(k, sigma, area);
        const double kappa = 2 * sigma;
        EXPECT_NEAR(std::exp(-d * d / (2 * area * kappa * kappa)), k, 1e-12);
      }
    }
  }
  // sqrt(-2 * 10000 * 0.158^2 * ln 0.5) for a shoulder of a 100 x 100 box.
  EXPECT_NEAR(KsDistance(0.5, 0.079, 10000), 18.60308, 1e-5);
  EXPECT_LT(KsDistance(0.85, 0.079, 10000), KsDistance(0.5, 0.079, 10000));
}

TEST(SynthesizerTest, EveryStatusKeepsItsConstraint) {
  const Synthesizer synthesizer = ReleaseSynthesizer();
  // A crowded scene: two neighbours close by, one with unlabelled joints.
  SynthesisInput input;
  input.target = StandingPerson(100, 100);
  input.neighbours = {StandingPerson(130, 110), StandingPerson(75, 95)};
  input.neighbours[1][9].v = 0;
  input.neighbours[1][3].v = 0;
  input.area = 100 * 250;
  std::map<SynthesisStatus, int> seen;
  for (uint64_t seed = 0; seed < 400; ++seed) {
    DeterministicRandom rng(seed);
    absl::StatusOr<SynthesizedPose> out = synthesizer.Synthesize(input, &rng);
    ASSERT_TRUE(out.ok()) << out.status();
    for (int j = 0; j < 17; ++j) {
      ExpectConstraintHolds(input, *out, j);
      ++seen[out->status[j]];
    }
  }
  for (int s = 0; s < kNumErrorStatuses; ++s) {
    EXPECT_GT(seen[static_cast<SynthesisStatus>(s)], 0) << s;
  }
}

TEST(SynthesizerTest, FrequenciesFollowTheModel) {
  const Synthesizer synthesizer = ReleaseSynthesizer();
  // One neighbour far enough that no status is ever impossible; n = 17,
  // o = 1, so the "n > 10" and swap "otherwise" rules apply.
  SynthesisInput input;
  input.target = StandingPerson(100, 100);
  input.neighbours = {StandingPerson(180, 100)};
  input.area = 100 * 250;
  constexpr int kPersons = 6000;
  std::vector<std::array<int, kNumErrorStatuses>> counts(17);
  for (int i = 0; i < kPersons; ++i) {
    DeterministicRandom rng = DeterministicRandom::ForKey({11, static_cast<uint64_t>(i)});
    absl::StatusOr<SynthesizedPose> out = synthesizer.Synthesize(input, &rng);
    ASSERT_TRUE(out.ok());
    for (int j = 0; j < 17; ++j) {
      ASSERT_LT(static_cast<int>(out->status[j]), kNumErrorStatuses);
      ++counts[j][static_cast<int>(out->status[j])];
    }
  }
  const int kInversion = static_cast<int>(ErrorStatus::kInversion);
  for (int j = 0; j < 17; ++j) {
    StatusProbabilities p = synthesizer.tables().Probabilities(j, 17, 1);
    if (j == 0) {  // the nose has no counterpart: inversion renormalized away
      const double total = 1 - p[kInversion];
      p[kInversion] = 0;
      for (double& value : p) value /= total;
    }
    for (int s = 0; s < kNumErrorStatuses; ++s) {
      const double frequency = counts[j][s] / static_cast<double>(kPersons);
      // 4.5 standard deviations of a binomial proportion.
      const double tolerance = 4.5 * std::sqrt(p[s] * (1 - p[s]) / kPersons) + 1e-3;
      EXPECT_NEAR(frequency, p[s], tolerance)
          << "joint " << j << " " << ErrorStatusName(static_cast<ErrorStatus>(s));
    }
  }
}

TEST(SynthesizerTest, StatusesWithoutCandidatesAreRenormalizedAway) {
  const Synthesizer synthesizer = ReleaseSynthesizer();
  SynthesisInput input;
  input.target = StandingPerson(0, 0);
  input.target[6].v = 0;  // right shoulder: the left one has no counterpart
  input.area = 100 * 250;
  constexpr int kPersons = 3000;
  int left_shoulder_good = 0;
  for (int i = 0; i < kPersons; ++i) {
    DeterministicRandom rng(i);
    absl::StatusOr<SynthesizedPose> out = synthesizer.Synthesize(input, &rng);
    ASSERT_TRUE(out.ok());
    for (int j = 0; j < 17; ++j) {
      if (j == 6) continue;
      // No neighbour: never a swap. The nose and the left shoulder: never an
      // inversion.
      EXPECT_NE(out->status[j], SynthesisStatus::kSwap);
      EXPECT_EQ(out->probabilities[j][static_cast<int>(ErrorStatus::kSwap)], 0);
      double sum = 0;
      for (double p : out->probabilities[j]) sum += p;
      EXPECT_NEAR(sum, 1, 1e-12);
    }
    EXPECT_NE(out->status[0], SynthesisStatus::kInversion);
    EXPECT_NE(out->status[5], SynthesisStatus::kInversion);
    if (out->status[5] == SynthesisStatus::kGood) ++left_shoulder_good;
    // Renormalized: the shoulder (n = 16, o = 0) loses swap .06 and
    // inversion .03, so good = (1 - .15 - .05 - .03 - .06) / (1 - .03 - .06).
    const StatusProbabilities& p = out->probabilities[5];
    EXPECT_NEAR(p[static_cast<int>(ErrorStatus::kGood)], 0.71 / 0.91, 1e-12);
    EXPECT_NEAR(p[static_cast<int>(ErrorStatus::kJitter)], 0.15 / 0.91, 1e-12);
    EXPECT_NEAR(p[static_cast<int>(ErrorStatus::kMiss)], 0.05 / 0.91, 1e-12);
  }
  EXPECT_NEAR(left_shoulder_good / static_cast<double>(kPersons), 0.71 / 0.91, 0.035);

  // A neighbour standing exactly on the target: every candidate of good,
  // jitter, inversion and swap is as close to another source as to its own,
  // so only a miss survives.
  input.target = StandingPerson(0, 0);
  input.neighbours = {input.target};
  for (int i = 0; i < 50; ++i) {
    DeterministicRandom rng(i);
    absl::StatusOr<SynthesizedPose> out = synthesizer.Synthesize(input, &rng);
    ASSERT_TRUE(out.ok());
    for (int j = 0; j < 17; ++j) {
      EXPECT_EQ(out->status[j], SynthesisStatus::kMiss) << j;
      EXPECT_EQ(out->probabilities[j][static_cast<int>(ErrorStatus::kMiss)], 1);
    }
  }
}

// Misses so rare that the pick after the existence check can fail all its
// 1000 rounds: one candidate per source, drawn around the nose only, six
// neighbours' noses on a ring that leaves a sliver of about 2e-4 of the
// band free. Every miss must still keep its constraint (a failed pick once
// placed it at the origin).
TEST(SynthesizerTest, ARareMissKeepsTheSurvivorItFound) {
  ErrorModel model;
  ASSERT_TRUE(
      ParseTextProto(
          "rare_miss", R"pb(
            good_candidates: 1
            jitter_candidates: 1
            inversion_candidates: 1
            swap_candidates_per_source: 1
            miss_candidates_per_source: 1
            miss_other_source_fraction: 0
            jitter {
              groups { joints: [ 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 ] }
              rules { probability: 0 }
            }
            miss {
              groups { joints: [ 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 ] }
              rules { probability: 1 }
            }
            inversion {
              groups { joints: [ 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 ] }
              rules { probability: 0 }
            }
            swap {
              groups { joints: [ 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 ] }
              rules { probability: 0 }
            }
          )pb",
          &model)
          .ok());
  absl::StatusOr<Synthesizer> synthesizer = Synthesizer::Create(model, CocoSchema());
  ASSERT_TRUE(synthesizer.ok()) << synthesizer.status();
  SynthesisInput input;
  input.target = Pose(17, Keypoint{0, 0, 0});
  input.target[0] = {500, 400, 2};
  input.area = 100 * 250;
  const double ring = 1.14 * KsDistance(0.5, CocoSchema().sigmas(0), input.area);
  for (int k = 0; k < 6; ++k) {
    Pose neighbour(17, Keypoint{0, 0, 0});
    neighbour[0] = {500 + ring * std::cos(k * M_PI / 3), 400 + ring * std::sin(k * M_PI / 3), 2};
    input.neighbours.push_back(neighbour);
  }
  int misses = 0;
  for (int i = 0; i < 100000; ++i) {
    DeterministicRandom rng(i);
    absl::StatusOr<SynthesizedPose> out = synthesizer->Synthesize(input, &rng);
    ASSERT_TRUE(out.ok());
    if (out->status[0] != SynthesisStatus::kMiss) continue;
    ++misses;
    ExpectConstraintHolds(input, *out, 0);
  }
  EXPECT_GE(misses, 5);
}

TEST(SynthesizerTest, KeypointsOutsideTheCropAreUnlabelled) {
  SynthesisInput input;
  input.target = StandingPerson(0, 0);  // x 18..82, y 15..240
  input.neighbours = {StandingPerson(60, 10)};
  input.area = 100 * 250;
  input.center = {50, 120};
  const SynthesisInput cropped = DropKeypointsOutsideCrop(input, cv::Size(80, 200));
  for (int j = 0; j < 17; ++j) {
    const Keypoint& k = input.target[j];
    EXPECT_EQ(cropped.target[j].v, k.x < 80 && k.y < 200 ? 2 : 0) << j;
    EXPECT_EQ(cropped.target[j].x, k.x);
    const Keypoint& n = input.neighbours[0][j];
    EXPECT_EQ(cropped.neighbours[0][j].v, n.x < 80 && n.y < 200 ? 2 : 0) << j;
  }
  EXPECT_EQ(cropped.target[16].v, 0);  // right ankle (65, 240)
  EXPECT_EQ(cropped.target[10].v, 0);  // right wrist (82, 140)
  EXPECT_EQ(cropped.target[0].v, 2);
  EXPECT_EQ(cropped.area, input.area);
  EXPECT_EQ(cropped.center, input.center);
  // They are synthesized as unlabelled keypoints.
  const Synthesizer synthesizer = ReleaseSynthesizer();
  DeterministicRandom rng(3);
  absl::StatusOr<SynthesizedPose> out = synthesizer.Synthesize(cropped, &rng);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->status[16], SynthesisStatus::kUnlabelled);
  EXPECT_NE(out->status[0], SynthesisStatus::kUnlabelled);
}

TEST(SynthesizerTest, UnlabelledKeypointsGetAPointNearThePerson) {
  const Synthesizer synthesizer = ReleaseSynthesizer();
  SynthesisInput input;
  input.target = StandingPerson(0, 0);
  for (int j : {0, 1, 2, 3, 4, 15}) input.target[j] = {0, 0, 0};
  input.area = 100 * 250;
  double cx = 0, cy = 0;
  for (const Keypoint& k : input.target) {
    if (k.v > 0) cx += k.x / 11, cy += k.y / 11;
  }
  DeterministicRandom rng(5);
  absl::StatusOr<SynthesizedPose> out = synthesizer.Synthesize(input, &rng);
  ASSERT_TRUE(out.ok());
  for (int j : {0, 1, 2, 3, 4, 15}) {
    EXPECT_EQ(out->status[j], SynthesisStatus::kUnlabelled);
    EXPECT_EQ(out->pose[j].v, 1);
    EXPECT_LE(Dist(out->pose[j], cx, cy),
              KsDistance(0.5, CocoSchema().sigmas(j), input.area) + 1e-9);
  }
  // Nobody labelled: around the given centre.
  for (Keypoint& k : input.target) k.v = 0;
  input.center = {500, 300};
  out = synthesizer.Synthesize(input, &rng);
  ASSERT_TRUE(out.ok());
  for (int j = 0; j < 17; ++j) {
    EXPECT_EQ(out->status[j], SynthesisStatus::kUnlabelled);
    EXPECT_LE(Dist(out->pose[j], 500, 300), KsDistance(0.5, CocoSchema().sigmas(j), input.area));
  }
}

TEST(SynthesizerTest, UnlabelledKeypointsAreSynthesizedAroundTheEstimate) {
  const Synthesizer synthesizer = ReleaseSynthesizer();
  SynthesisInput input;
  input.target = StandingPerson(0, 0);
  input.target[9].v = input.target[15].v = 0;  // left wrist and ankle unlabelled
  input.area = 100 * 250;
  input.center = {50, 120};
  // The estimator saw them 200 px to the right; its other keypoints do not
  // matter, and keypoint 15 has no estimate.
  input.estimate = StandingPerson(200, 0);
  for (Keypoint& k : input.estimate) k.v = 1;
  input.estimate[15].v = 0;
  const double d_half = KsDistance(0.5, CocoSchema().sigmas(9), input.area);
  double cx = 0, cy = 0;  // the labelled keypoints' mean
  for (const Keypoint& k : input.target) {
    if (k.v > 0) cx += k.x / 15, cy += k.y / 15;
  }
  int near_estimate = 0, near_person = 0;
  constexpr int kDraws = 200;
  for (int seed = 0; seed < kDraws; ++seed) {
    DeterministicRandom rng(seed);
    absl::StatusOr<SynthesizedPose> out = synthesizer.Synthesize(input, &rng);
    ASSERT_TRUE(out.ok()) << out.status();
    for (int j : {9, 15}) {
      EXPECT_EQ(out->status[j], SynthesisStatus::kUnlabelled);
      EXPECT_EQ(out->probabilities[j], StatusProbabilities{});
    }
    ASSERT_EQ(out->pose[9].v, 1);
    // Good or jitter around the estimate (about 86% with n = 15, no
    // neighbour), otherwise an inversion or a miss.
    if (Dist(out->pose[9], input.estimate[9].x, input.estimate[9].y) <= d_half) ++near_estimate;
    // Keypoint 15 has no estimate: near the labelled keypoints' mean.
    if (Dist(out->pose[15], cx, cy) <=
        KsDistance(0.5, CocoSchema().sigmas(15), input.area) + 1e-9) {
      ++near_person;
    }
  }
  EXPECT_GT(near_estimate, kDraws * 3 / 4);
  EXPECT_EQ(near_person, kDraws);
}

TEST(SynthesizerTest, BadInputIsAnError) {
  const Synthesizer synthesizer = ReleaseSynthesizer();
  DeterministicRandom rng(1);
  SynthesisInput input;
  input.target = StandingPerson(0, 0);
  input.area = 0;
  EXPECT_NE(synthesizer.Synthesize(input, &rng).status().message().find("area"), std::string::npos);
  input.area = 100;
  input.target.pop_back();
  EXPECT_NE(synthesizer.Synthesize(input, &rng).status().message().find("target.keypoints"),
            std::string::npos);
  input.target = StandingPerson(0, 0);
  input.neighbours = {StandingPerson(0, 0)};
  input.neighbours[0][4].x = std::nan("");
  EXPECT_NE(synthesizer.Synthesize(input, &rng).status().message().find("neighbours[0][4]"),
            std::string::npos);
}

absl::StatusOr<std::vector<SynthesizedPerson>> SynthesizeFixture(
    uint64_t seed, CocoDataset* dataset_out = nullptr) {
  ASSIGN_OR_RETURN(const CocoDataset dataset, ReadCocoDataset(kFixtureGt));
  if (dataset_out != nullptr) *dataset_out = dataset;
  return SynthesizeDataset(dataset, ReleaseSynthesizer(), seed, AreaSource::kAnnotation,
                           kFixtureGt);
}

TEST(SynthesizerTest, SameSeedSamePosesDifferentSeedDifferentPoses) {
  CocoDataset dataset;
  absl::StatusOr<std::vector<SynthesizedPerson>> a = SynthesizeFixture(3, &dataset);
  absl::StatusOr<std::vector<SynthesizedPerson>> b = SynthesizeFixture(3);
  absl::StatusOr<std::vector<SynthesizedPerson>> c = SynthesizeFixture(4);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok()) << a.status();
  ASSERT_EQ(a->size(), 80u);  // 82 annotations, 2 crowd regions
  int differing = 0;
  for (size_t i = 0; i < a->size(); ++i) {
    EXPECT_EQ((*a)[i].synthesized.pose, (*b)[i].synthesized.pose);
    EXPECT_EQ((*a)[i].synthesized.status, (*b)[i].synthesized.status);
    if ((*a)[i].synthesized.pose != (*c)[i].synthesized.pose) ++differing;
  }
  EXPECT_EQ(differing, 80);

  // A person's result depends on (seed, image, annotation) only, not on the
  // order of the file.
  std::reverse(dataset.annotations.begin(), dataset.annotations.end());
  absl::StatusOr<std::vector<SynthesizedPerson>> reversed =
      SynthesizeDataset(dataset, ReleaseSynthesizer(), 3, AreaSource::kAnnotation, "reversed");
  ASSERT_TRUE(reversed.ok());
  std::map<int64_t, Pose> by_id;
  for (const SynthesizedPerson& p : *reversed) by_id[p.annotation_id] = p.synthesized.pose;
  for (const SynthesizedPerson& p : *a) EXPECT_EQ(by_id[p.annotation_id], p.synthesized.pose);
}

constexpr double kPinnedFirstX = 305.49598568548242, kPinnedFirstY = 124.76153707970518,
                 kPinnedSum = 1172970.699386531;
constexpr std::array<int, kNumSynthesisStatuses> kPinnedCounts = {339, 82, 16, 11, 35, 0, 877};

TEST(SynthesizerTest, OutputIsPinned) {
  // Golden numbers: positions come from exact IEEE arithmetic, sqrt and log
  // only. The miss and swap picks also compare a uniform number with
  // probabilities computed with acos, cos, sin, atan2, exp and lgamma, whose
  // last bit may differ between math libraries: that changes a result with a
  // probability of about 1e-15 per pick.
  absl::StatusOr<std::vector<SynthesizedPerson>> people = SynthesizeFixture(0);
  ASSERT_TRUE(people.ok()) << people.status();
  double sum = 0;
  std::array<int, kNumSynthesisStatuses> counts{};
  for (const SynthesizedPerson& p : *people) {
    for (int j = 0; j < 17; ++j) {
      sum += p.synthesized.pose[j].x + 2 * p.synthesized.pose[j].y;
      ++counts[static_cast<int>(p.synthesized.status[j])];
    }
  }
  const Keypoint& first = (*people)[0].synthesized.pose[0];
  RecordProperty("sum", std::to_string(sum));
  EXPECT_NEAR(first.x, kPinnedFirstX, 1e-9);
  EXPECT_NEAR(first.y, kPinnedFirstY, 1e-9);
  EXPECT_NEAR(sum, kPinnedSum, 1e-6);
  EXPECT_EQ(counts, kPinnedCounts);
}

TEST(SynthesizerTest, EstimatesFollowTheCropAndFlip) {
  SynthesisInput input;
  input.target = StandingPerson(0, 0);
  input.estimate = StandingPerson(10, 0);
  input.area = 100 * 250;
  EXPECT_EQ(DropKeypointsOutsideCrop(input, cv::Size(80, 200)).estimate[16].v, 0);  // (75, 240)
  EXPECT_EQ(DropKeypointsOutsideCrop(input, cv::Size(80, 200)).estimate[0].v, 2);
  const cv::Matx23d shift(1, 0, -5, 0, 1, 7);
  EXPECT_EQ(TransformSynthesisInput(input, shift).estimate[0].x, input.estimate[0].x - 5);
  EXPECT_EQ(TransformSynthesisInput(input, shift).estimate[0].y, input.estimate[0].y + 7);
  const SynthesisInput flipped = FlipSynthesisInput(input, 200, FlipPermutation(CocoSchema()));
  EXPECT_EQ(flipped.estimate[6].x, 199 - input.estimate[5].x);  // left shoulder -> right
  EXPECT_TRUE(TransformSynthesisInput(SynthesisInput{}, shift).estimate.empty());
}

TEST(SynthesizerTest, AttachEstimatesMatchesEachPersonToTheMostOverlappingResult) {
  CocoDataset dataset;
  PersonAnnotation a, b, crowd, alone;
  a.id = 1, a.image_id = 7, a.keypoints = StandingPerson(0, 0), a.bbox = {0, 0, 100, 250};
  b.id = 2, b.image_id = 7, b.keypoints = StandingPerson(300, 0), b.bbox = {300, 0, 100, 250};
  crowd = a;
  crowd.id = 3, crowd.iscrowd = true;
  alone.id = 4, alone.image_id = 8, alone.keypoints = StandingPerson(0, 0);
  alone.bbox = {0, 0, 100, 250};
  dataset.annotations = {a, b, crowd, alone};
  KeypointResult near_b, near_a, elsewhere;
  near_b.image_id = 7, near_b.keypoints = StandingPerson(305, 5);
  for (Keypoint& k : near_b.keypoints) k.v = 0.8;
  near_b.keypoints[3].v = 0;  // no point
  near_a.image_id = 7, near_a.keypoints = StandingPerson(2, 2);
  elsewhere.image_id = 9, elsewhere.keypoints = StandingPerson(0, 0);
  EXPECT_EQ(AttachEstimates({near_b, near_a, elsewhere}, dataset), 2);
  ASSERT_EQ(dataset.annotations[0].estimate.size(), 17u);
  EXPECT_EQ(dataset.annotations[0].estimate[0].x, near_a.keypoints[0].x);
  EXPECT_EQ(dataset.annotations[0].estimate[0].v, 1);
  ASSERT_EQ(dataset.annotations[1].estimate.size(), 17u);
  EXPECT_EQ(dataset.annotations[1].estimate[0].x, near_b.keypoints[0].x);
  EXPECT_EQ(dataset.annotations[1].estimate[3].v, 0);
  EXPECT_TRUE(dataset.annotations[2].estimate.empty());  // crowd
  EXPECT_TRUE(dataset.annotations[3].estimate.empty());  // no result on its image
  // The synthesis input carries it.
  const std::vector<const PersonAnnotation*> persons = {&dataset.annotations[0],
                                                        &dataset.annotations[1]};
  EXPECT_EQ(ImageSynthesisInput(persons, 1, 0.1, AreaSource::kBox, cv::Size(640, 480)).estimate,
            dataset.annotations[1].estimate);
}

TEST(SynthesizerTest, WholeImageInputUsesOverlappingPersons) {
  PersonAnnotation a, b, c, crowd, unlabelled, no_box;
  a.keypoints = StandingPerson(0, 0);
  a.bbox = {0, 0, 100, 250};
  a.area = 12345;
  b.keypoints = StandingPerson(50, 0);
  b.bbox = {50, 0, 100, 250};  // IoU 1/3 with a
  c.keypoints = StandingPerson(500, 0);
  c.bbox = {500, 0, 100, 250};  // IoU 0
  crowd.bbox = {0, 0, 100, 250};
  crowd.iscrowd = true;
  crowd.keypoints = StandingPerson(0, 0);
  unlabelled.bbox = {10, 0, 100, 250};  // no keypoints
  unlabelled.keypoints = Pose(17, Keypoint{0, 0, 0});
  no_box.keypoints = StandingPerson(0, 0);
  no_box.bbox = {0, 0, 0, 250};
  const std::vector<const PersonAnnotation*> persons = {&a, &b, &c, &crowd, &unlabelled, &no_box};
  EXPECT_EQ(OverlappingPersons(persons, 0, 0.1), std::vector<int>({1}));
  EXPECT_EQ(OverlappingPersons(persons, 0, 0.5), std::vector<int>());
  const cv::Size image(640, 480);
  const SynthesisInput input = ImageSynthesisInput(persons, 0, 0.1, AreaSource::kAnnotation, image);
  ASSERT_EQ(input.neighbours.size(), 1u);
  EXPECT_EQ(input.neighbours[0], b.keypoints);
  EXPECT_EQ(input.area, 12345);
  // The release's box: 99 x 249 inside the image, 99 x 199 when the image
  // ends at y = 200.
  EXPECT_EQ(ImageSynthesisInput(persons, 0, 0.1, AreaSource::kBox, image).area, 99 * 249);
  EXPECT_EQ(ImageSynthesisInput(persons, 0, 0.1, AreaSource::kBox, cv::Size(640, 200)).area,
            99 * 199);
  EXPECT_EQ(input.center, cv::Point2d(50, 125));
}

TEST(SynthesizerTest, CropModeTransformsTheNeighboursAlike) {
  SynthesisInput image;
  image.target = StandingPerson(200, 100);
  image.neighbours = {StandingPerson(230, 120)};
  image.area = 100 * 250;
  image.center = {250, 225};

  // Scale 0.8, rotation 30 degrees, as the data pipeline's augmentation.
  absl::StatusOr<CropTransform> crop =
      MakeCropTransform(Box{133, 69, 234, 312}, 30, cv::Size(192, 256));
  ASSERT_TRUE(crop.ok());
  const SynthesisInput in_crop = TransformSynthesisInput(image, crop->image_to_crop);
  const double scale = 256.0 / 312;
  EXPECT_NEAR(in_crop.area, image.area * scale * scale, 1e-6);
  const auto distance = [](const Pose& pose, int a, int b) {
    return std::hypot(pose[a].x - pose[b].x, pose[a].y - pose[b].y);
  };
  EXPECT_NEAR(distance(in_crop.target, 0, 16) / distance(image.target, 0, 16), scale, 1e-12);
  for (int j = 0; j < 17; ++j) {
    const cv::Point2d t = Apply(crop->image_to_crop, {image.target[j].x, image.target[j].y});
    const cv::Point2d n =
        Apply(crop->image_to_crop, {image.neighbours[0][j].x, image.neighbours[0][j].y});
    EXPECT_NEAR(in_crop.target[j].x, t.x, 1e-9);
    EXPECT_NEAR(in_crop.neighbours[0][j].y, n.y, 1e-9);
  }
  // Distances between any two points scale by the crop's scale, so d^k with
  // the scaled area keeps every status's constraint in crop pixels.
  const Synthesizer synthesizer = ReleaseSynthesizer();
  for (int i = 0; i < 100; ++i) {
    DeterministicRandom rng(i);
    absl::StatusOr<SynthesizedPose> out = synthesizer.Synthesize(in_crop, &rng);
    ASSERT_TRUE(out.ok());
    for (int j = 0; j < 17; ++j) ExpectConstraintHolds(in_crop, *out, j);
  }

  // Without rotation the crop's synthesis is the image's, transformed.
  absl::StatusOr<CropTransform> straight =
      MakeCropTransform(Box{133, 69, 234, 312}, 0, cv::Size(192, 256));
  ASSERT_TRUE(straight.ok());
  const SynthesisInput straight_crop = TransformSynthesisInput(image, straight->image_to_crop);
  for (int i = 0; i < 20; ++i) {
    DeterministicRandom rng_image(i), rng_crop(i);
    absl::StatusOr<SynthesizedPose> in_image = synthesizer.Synthesize(image, &rng_image);
    absl::StatusOr<SynthesizedPose> in_crop_out = synthesizer.Synthesize(straight_crop, &rng_crop);
    ASSERT_TRUE(in_image.ok() && in_crop_out.ok());
    EXPECT_EQ(in_image->status, in_crop_out->status);
    const Pose mapped = TransformPose(straight->image_to_crop, in_image->pose);
    for (int j = 0; j < 17; ++j) {
      EXPECT_NEAR(mapped[j].x, in_crop_out->pose[j].x, 1e-6);
      EXPECT_NEAR(mapped[j].y, in_crop_out->pose[j].y, 1e-6);
    }
  }

  // Flipping mirrors everyone and swaps left and right.
  const SynthesisInput flipped = FlipSynthesisInput(in_crop, 192, FlipPermutation(CocoSchema()));
  EXPECT_EQ(flipped.area, in_crop.area);
  EXPECT_NEAR(flipped.target[5].x, 191 - in_crop.target[6].x, 1e-12);
  EXPECT_NEAR(flipped.neighbours[0][9].x, 191 - in_crop.neighbours[0][10].x, 1e-12);
  EXPECT_NEAR(flipped.neighbours[0][9].y, in_crop.neighbours[0][10].y, 1e-12);
  EXPECT_NEAR(flipped.center.x, 191 - in_crop.center.x, 1e-12);
}

}  // namespace
}  // namespace posefix

namespace posefix {
namespace {

TEST(SynthesizerToolsTest, ParsesTheAreaSourceNames) {
  EXPECT_EQ(*ParseAreaSource("annotation"), AreaSource::kAnnotation);
  EXPECT_EQ(*ParseAreaSource("box"), AreaSource::kBox);
  absl::StatusOr<AreaSource> bad = ParseAreaSource("mask");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "must be 'annotation' or 'box', got 'mask'");
}

TEST(SynthesizerToolsTest, LoadsTheReleaseModelWithoutAFile) {
  absl::StatusOr<Synthesizer> synthesizer = LoadSynthesizer("", CocoSchema());
  ASSERT_TRUE(synthesizer.ok()) << synthesizer.status();
  EXPECT_EQ(synthesizer->model().overlap_iou(), ReleaseErrorModel().overlap_iou());
  absl::StatusOr<Synthesizer> missing = LoadSynthesizer("no/such/model.pbtxt", CocoSchema());
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("no/such/model.pbtxt"), std::string::npos);
}

}  // namespace
}  // namespace posefix
