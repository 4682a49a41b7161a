#include "posefix/synth/synthesis_validation.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "posefix/core/coco_io.h"
#include "posefix/core/keypoint_schema.h"
#include "posefix/core/status_macros.h"
#include "posefix/eval/error_analysis.h"
#include "posefix/eval/metrics.pb.h"
#include "posefix/eval/oks.h"

namespace posefix {
namespace {

int StatusIndex(KeypointErrorType type) {
  switch (type) {
    case GOOD:
      return static_cast<int>(ErrorStatus::kGood);
    case JITTER:
      return static_cast<int>(ErrorStatus::kJitter);
    case INVERSION:
      return static_cast<int>(ErrorStatus::kInversion);
    case SWAP:
      return static_cast<int>(ErrorStatus::kSwap);
    case MISS:
      return static_cast<int>(ErrorStatus::kMiss);
    default:
      return -1;
  }
}

struct Accumulator {
  int64_t keypoints = 0;
  std::array<double, kNumErrorStatuses> prescribed{};
  std::array<int64_t, kNumErrorStatuses> observed{};
};

StatusFrequencyRow ToRow(std::string name, std::vector<int> joints, const Accumulator& a) {
  StatusFrequencyRow row;
  row.name = std::move(name);
  row.joints = std::move(joints);
  row.keypoints = a.keypoints;
  for (int s = 0; s < kNumErrorStatuses; ++s) {
    row.prescribed[s] = a.keypoints ? a.prescribed[s] / a.keypoints : 0;
    row.observed[s] = a.keypoints ? static_cast<double>(a.observed[s]) / a.keypoints : 0;
  }
  return row;
}

}  // namespace

double StatusFrequencyRow::max_difference() const {
  double worst = 0;
  for (int s = 0; s < kNumErrorStatuses; ++s) {
    worst = std::max(worst, std::abs(observed[s] - prescribed[s]));
  }
  return worst;
}

std::vector<std::vector<int>> CommonJointGroups(const ErrorModel& model, int num_keypoints) {
  // Joints with the same group in every table share a signature.
  std::map<std::vector<int>, std::vector<int>> by_signature;
  const StatusTable* tables[] = {&model.jitter(), &model.miss(), &model.inversion(), &model.swap()};
  for (int j = 0; j < num_keypoints; ++j) {
    std::vector<int> signature;
    for (const StatusTable* table : tables) {
      int group = -1;
      for (int g = 0; g < table->groups_size(); ++g) {
        const auto& joints = table->groups(g).joints();
        if (std::find(joints.begin(), joints.end(), j) != joints.end()) group = g;
      }
      signature.push_back(group);
    }
    by_signature[signature].push_back(j);
  }
  std::vector<std::vector<int>> groups;
  for (auto& [signature, joints] : by_signature) groups.push_back(joints);
  std::sort(groups.begin(), groups.end());
  return groups;
}

absl::StatusOr<SynthesisValidation> ValidateSynthesis(const CocoDataset& dataset,
                                                      const Synthesizer& synthesizer,
                                                      const std::vector<uint64_t>& seeds,
                                                      AreaSource area_source,
                                                      absl::string_view source) {
  const KeypointSchema& schema = synthesizer.schema();
  const int num_keypoints = schema.keypoint_names_size();
  const std::vector<double> variances = OksVariances(schema);
  const std::vector<int> flip = FlipPermutation(schema);
  const std::vector<int> ignored(schema.ignored_keypoints().begin(),
                                 schema.ignored_keypoints().end());
  const absl::flat_hash_map<int64_t, std::vector<int>> by_image = GroupAnnotationsByImage(dataset);
  ErrorAnalysisOptions options;
  options.good_ks = synthesizer.model().good_ks();
  options.jitter_ks = synthesizer.model().jitter_ks();

  std::vector<Accumulator> per_joint(num_keypoints);
  SynthesisValidation validation;
  for (uint64_t seed : seeds) {
    ASSIGN_OR_RETURN(const std::vector<SynthesizedPerson> people,
                     SynthesizeDataset(dataset, synthesizer, seed, area_source, source));
    for (const SynthesizedPerson& person : people) {
      const PersonAnnotation& gt = dataset.annotations[person.annotation_index];
      std::vector<const PersonAnnotation*> others;
      for (int a : by_image.at(person.image_id)) {
        if (a != person.annotation_index) others.push_back(&dataset.annotations[a]);
      }
      const KeypointClassification classification =
          ClassifyKeypoints(person.synthesized.pose, gt, others, variances, flip, ignored, options);
      ++validation.persons;
      for (int j = 0; j < num_keypoints; ++j) {
        const int observed = StatusIndex(classification.types[j]);
        if (observed < 0) continue;
        Accumulator& a = per_joint[j];
        ++a.keypoints;
        ++a.observed[observed];
        for (int s = 0; s < kNumErrorStatuses; ++s) {
          a.prescribed[s] += person.synthesized.probabilities[j][s];
        }
      }
    }
  }
  auto merge = [&per_joint](const std::vector<int>& joints) {
    Accumulator total;
    for (int j : joints) {
      total.keypoints += per_joint[j].keypoints;
      for (int s = 0; s < kNumErrorStatuses; ++s) {
        total.prescribed[s] += per_joint[j].prescribed[s];
        total.observed[s] += per_joint[j].observed[s];
      }
    }
    return total;
  };
  for (const std::vector<int>& joints : CommonJointGroups(synthesizer.model(), num_keypoints)) {
    std::vector<std::string> names;
    for (int j : joints) names.push_back(schema.keypoint_names(j));
    validation.groups.push_back(ToRow(absl::StrJoin(names, "+"), joints, merge(joints)));
  }
  std::vector<int> all;
  for (int j = 0; j < num_keypoints; ++j) {
    validation.joints.push_back(ToRow(schema.keypoint_names(j), {j}, per_joint[j]));
    all.push_back(j);
  }
  validation.all = ToRow("all", all, merge(all));
  return validation;
}

std::string FormatSynthesisValidation(const SynthesisValidation& validation) {
  std::string text = absl::StrFormat(
      "%d synthesized persons; per cell: observed%% (prescribed%%), taxonomy of posefix/eval\n",
      validation.persons);
  absl::StrAppendFormat(&text, "%-44s %7s", "joints", "kps");
  for (int s = 0; s < kNumErrorStatuses; ++s) {
    absl::StrAppendFormat(&text, " %15s", ErrorStatusName(static_cast<ErrorStatus>(s)));
  }
  absl::StrAppendFormat(&text, " %8s\n", "max|d|");
  auto row = [&text](const StatusFrequencyRow& r) {
    absl::StrAppendFormat(&text, "%-44s %7d", r.name, r.keypoints);
    for (int s = 0; s < kNumErrorStatuses; ++s) {
      absl::StrAppendFormat(&text, " %6.2f (%6.2f)", 100 * r.observed[s], 100 * r.prescribed[s]);
    }
    absl::StrAppendFormat(&text, " %7.2fpp\n", 100 * r.max_difference());
  };
  for (const auto& r : validation.groups) row(r);
  text += "\n";
  for (const auto& r : validation.joints) row(r);
  row(validation.all);
  return text;
}

}  // namespace posefix
