#ifndef POSEFIX_SYNTH_ERROR_MODEL_H_
#define POSEFIX_SYNTH_ERROR_MODEL_H_

#include <array>
#include <limits>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "posefix/core/keypoint_schema.pb.h"
#include "posefix/synth/error_model.pb.h"

namespace posefix {

// The five error statuses of the taxonomy, in the order of the arrays below.
enum class ErrorStatus : int { kGood = 0, kJitter = 1, kInversion = 2, kSwap = 3, kMiss = 4 };
constexpr int kNumErrorStatuses = 5;

// "good", "jitter", "inversion", "swap", "miss".
const char* ErrorStatusName(ErrorStatus status);

// Probability of each ErrorStatus, indexed by its int value.
using StatusProbabilities = std::array<double, kNumErrorStatuses>;

// The release's model with all four tables filled in (COCO's keypoint
// layout).
const ErrorModel& ReleaseErrorModel();

// True when `schema` has COCO-17's keypoints in COCO's order, the layout the
// release's tables are written for.
bool HasCocoLayout(const KeypointSchema& schema);

// Fills every absent table with the release's (an error naming the table
// when the schema is not COCO-shaped), then validates. `source` names the
// model's file in errors, which name the field: "FILE: swap.rules[1]: ...".
absl::StatusOr<ErrorModel> CompleteErrorModel(ErrorModel model, const KeypointSchema& schema,
                                              absl::string_view source);

// Checks a complete model against `schema`: KS thresholds ordered in (0, 1),
// positive candidate counts, groups partitioning the keypoints, one
// probability in [0, 1] per group, a final unconditional rule, and
// jitter + miss + inversion + swap <= 1 for every joint, n and o.
absl::Status ValidateErrorModel(const ErrorModel& model, const KeypointSchema& schema,
                                absl::string_view source);

// Reads a text-format ErrorModel and completes it as above.
absl::StatusOr<ErrorModel> LoadErrorModel(const std::string& path, const KeypointSchema& schema);

// A complete, validated model as flat per-joint lookups.
class CompiledStatusTables {
 public:
  // `model` must be complete and valid (see CompleteErrorModel).
  explicit CompiledStatusTables(const ErrorModel& model);

  // Prescribed probabilities before any renormalization, for `joint` of a
  // person with `labelled` labelled joints and `overlapping` neighbours.
  StatusProbabilities Probabilities(int joint, int labelled, int overlapping) const;

 private:
  struct Rule {
    // Each condition as {min_n, max_n, min_o, max_o}; empty: always.
    std::vector<std::array<int, 4>> when;
    std::vector<double> probability;
  };
  struct Table {
    std::vector<int> group_of_joint;
    std::vector<Rule> rules;
    double Lookup(int joint, int labelled, int overlapping) const;
  };
  static Table Compile(const StatusTable& table);

  Table jitter_, inversion_, swap_, miss_;
};

}  // namespace posefix

#endif  // POSEFIX_SYNTH_ERROR_MODEL_H_
