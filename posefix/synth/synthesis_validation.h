#ifndef POSEFIX_SYNTH_SYNTHESIS_VALIDATION_H_
#define POSEFIX_SYNTH_SYNTHESIS_VALIDATION_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "posefix/core/types.h"
#include "posefix/synth/synthesizer.h"

namespace posefix {

// Observed (by posefix/eval's error taxonomy) against prescribed (by the
// ErrorModel, after renormalization) status frequencies of one set of joints.
struct StatusFrequencyRow {
  std::string name;
  std::vector<int> joints;
  int64_t keypoints = 0;  // labelled keypoints classified
  std::array<double, kNumErrorStatuses> prescribed{};
  std::array<double, kNumErrorStatuses> observed{};
  // max over statuses of |observed - prescribed|.
  double max_difference() const;
};

struct SynthesisValidation {
  int64_t persons = 0;
  // One row per joint group: the coarsest partition of the keypoints on
  // which every table of the model is constant (for the release: nose,
  // eyes+ears, shoulders, elbows+wrists, hips, knees, ankles), then a row
  // per joint, then "all".
  std::vector<StatusFrequencyRow> groups;
  std::vector<StatusFrequencyRow> joints;
  StatusFrequencyRow all;
};

// The joint groups described above, each sorted, ordered by first joint.
std::vector<std::vector<int>> CommonJointGroups(const ErrorModel& model, int num_keypoints);

// Synthesizes every person of `dataset` once per seed in `seeds` and
// classifies each synthesized pose's labelled keypoints against its own
// ground truth and the image's other persons with posefix/eval's
// ClassifyKeypoints (the match is known, so no detection matching is
// involved). The prescribed frequency of a status is the mean, over the
// classified keypoints, of the probability it was drawn with.
absl::StatusOr<SynthesisValidation> ValidateSynthesis(const CocoDataset& dataset,
                                                      const Synthesizer& synthesizer,
                                                      const std::vector<uint64_t>& seeds,
                                                      AreaSource area_source,
                                                      absl::string_view source);

// A fixed-width table of percentages.
std::string FormatSynthesisValidation(const SynthesisValidation& validation);

}  // namespace posefix

#endif  // POSEFIX_SYNTH_SYNTHESIS_VALIDATION_H_
