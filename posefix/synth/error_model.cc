#include "posefix/synth/error_model.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "google/protobuf/text_format.h"
#include "posefix/core/file_util.h"
#include "posefix/core/keypoint_schema.h"
#include "posefix/core/status_macros.h"
#include "posefix/core/text_proto.h"

namespace posefix {
namespace {

// The tables of the authors' release (posefix-reference.md section 2), for
// COCO's order: 0 nose, 1-2 eyes, 3-4 ears, 5-6 shoulders, 7-8 elbows,
// 9-10 wrists, 11-12 hips, 13-14 knees, 15-16 ankles.
constexpr char kReleaseTables[] = R"pb(
  jitter {
    groups { joints: [ 0, 13, 14, 15, 16 ] }
    groups { joints: [ 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 ] }
    groups { joints: [ 11, 12 ] }
    rules {
      when { max_labelled: 10 }
      probability: [ 0.15, 0.20, 0.25 ]
    }
    rules { probability: [ 0.10, 0.15, 0.20 ] }
  }
  miss {
    groups { joints: [ 0, 1, 2, 3, 4 ] }
    groups { joints: [ 5, 6, 15, 16 ] }
    groups { joints: [ 7, 8, 9, 10, 11, 12, 13, 14 ] }
    rules {
      when { max_labelled: 5 }
      probability: [ 0.15, 0.20, 0.25 ]
    }
    rules {
      when { max_labelled: 10 }
      probability: [ 0.10, 0.13, 0.15 ]
    }
    rules { probability: [ 0.02, 0.05, 0.10 ] }
  }
  inversion {
    groups { joints: [ 0, 1, 2, 3, 4 ] }
    groups { joints: [ 5, 6, 7, 8, 9, 10 ] }
    groups { joints: [ 11, 12, 13, 14, 15, 16 ] }
    rules { probability: [ 0.01, 0.03, 0.06 ] }
  }
  swap {
    groups { joints: [ 0, 1, 2, 3, 4 ] }
    groups { joints: [ 5, 6, 7, 8, 9, 10 ] }
    groups { joints: [ 11, 12, 13, 14, 15, 16 ] }
    rules {
      when { max_labelled: 10 min_overlapping: 1 }
      when { max_labelled: 15 min_overlapping: 3 }
      probability: [ 0.02, 0.15, 0.10 ]
    }
    rules { probability: [ 0.01, 0.06, 0.03 ] }
  }
)pb";

constexpr int kUnbounded = std::numeric_limits<int>::max();

struct NamedTable {
  const char* name;
  const StatusTable& (ErrorModel::*get)() const;
  bool (ErrorModel::*has)() const;
  StatusTable* (ErrorModel::*mutable_table)();
};

const NamedTable kTables[] = {
    {"jitter", &ErrorModel::jitter, &ErrorModel::has_jitter, &ErrorModel::mutable_jitter},
    {"miss", &ErrorModel::miss, &ErrorModel::has_miss, &ErrorModel::mutable_miss},
    {"inversion", &ErrorModel::inversion, &ErrorModel::has_inversion,
     &ErrorModel::mutable_inversion},
    {"swap", &ErrorModel::swap, &ErrorModel::has_swap, &ErrorModel::mutable_swap},
};

std::array<int, 4> Bounds(const StatusTable::Condition& c) {
  return {c.has_min_labelled() ? c.min_labelled() : std::numeric_limits<int>::min(),
          c.has_max_labelled() ? c.max_labelled() : kUnbounded,
          c.has_min_overlapping() ? c.min_overlapping() : std::numeric_limits<int>::min(),
          c.has_max_overlapping() ? c.max_overlapping() : kUnbounded};
}

absl::Status ValidateTable(const StatusTable& table, int num_keypoints, absl::string_view source,
                           const std::string& name) {
  if (table.groups_size() == 0) return FieldError(source, name + ".groups", "must not be empty");
  std::vector<int> group_of(num_keypoints, -1);
  for (int g = 0; g < table.groups_size(); ++g) {
    const auto& joints = table.groups(g).joints();
    const std::string field = absl::StrCat(name, ".groups[", g, "]");
    if (joints.empty()) return FieldError(source, field, "has no joints");
    for (int joint : joints) {
      if (joint < 0 || joint >= num_keypoints) {
        return FieldError(source, field,
                          absl::StrCat("joint ", joint, " out of range [0, ", num_keypoints, ")"));
      }
      if (group_of[joint] >= 0) {
        return FieldError(source, field,
                          absl::StrCat("joint ", joint, " is already in group ", group_of[joint]));
      }
      group_of[joint] = g;
    }
  }
  for (int j = 0; j < num_keypoints; ++j) {
    if (group_of[j] < 0) {
      return FieldError(source, name + ".groups", absl::StrCat("joint ", j, " is in no group"));
    }
  }
  if (table.rules_size() == 0) return FieldError(source, name + ".rules", "must not be empty");
  for (int r = 0; r < table.rules_size(); ++r) {
    const auto& rule = table.rules(r);
    const std::string field = absl::StrCat(name, ".rules[", r, "]");
    if (rule.probability_size() != table.groups_size()) {
      return FieldError(source, field + ".probability",
                        absl::StrCat("has ", rule.probability_size(), " values for ",
                                     table.groups_size(), " groups"));
    }
    for (int g = 0; g < rule.probability_size(); ++g) {
      const double p = rule.probability(g);
      if (!(p >= 0 && p <= 1)) {
        return FieldError(source, absl::StrCat(field, ".probability[", g, "]"),
                          absl::StrCat("must be in [0, 1], got ", p));
      }
    }
  }
  if (table.rules(table.rules_size() - 1).when_size() != 0) {
    return FieldError(source, absl::StrCat(name, ".rules[", table.rules_size() - 1, "]"),
                      "the last rule must have no condition so that every person is covered");
  }
  return absl::OkStatus();
}

}  // namespace

const char* ErrorStatusName(ErrorStatus status) {
  switch (status) {
    case ErrorStatus::kGood:
      return "good";
    case ErrorStatus::kJitter:
      return "jitter";
    case ErrorStatus::kInversion:
      return "inversion";
    case ErrorStatus::kSwap:
      return "swap";
    case ErrorStatus::kMiss:
      return "miss";
  }
  return "unknown";
}

const ErrorModel& ReleaseErrorModel() {
  static const ErrorModel* model = [] {
    auto* m = new ErrorModel;
    // Compiled in: failing to parse or validate it is a bug.
    if (!google::protobuf::TextFormat::ParseFromString(kReleaseTables, m)) std::abort();
    if (!ValidateErrorModel(*m, CocoSchema(), "release error model").ok()) std::abort();
    return m;
  }();
  return *model;
}

bool HasCocoLayout(const KeypointSchema& schema) {
  const KeypointSchema& coco = CocoSchema();
  if (schema.keypoint_names_size() != coco.keypoint_names_size()) return false;
  for (int j = 0; j < coco.keypoint_names_size(); ++j) {
    if (schema.keypoint_names(j) != coco.keypoint_names(j)) return false;
  }
  return true;
}

absl::StatusOr<ErrorModel> CompleteErrorModel(ErrorModel model, const KeypointSchema& schema,
                                              absl::string_view source) {
  for (const NamedTable& table : kTables) {
    if ((model.*table.has)()) continue;
    if (!HasCocoLayout(schema)) {
      return FieldError(source, table.name,
                        absl::StrCat("required for keypoint schema '", schema.name(),
                                     "': the release's table is written for COCO's layout"));
    }
    *(model.*table.mutable_table)() = (ReleaseErrorModel().*table.get)();
  }
  RETURN_IF_ERROR(ValidateErrorModel(model, schema, source));
  return model;
}

absl::Status ValidateErrorModel(const ErrorModel& model, const KeypointSchema& schema,
                                absl::string_view source) {
  const double good = model.good_ks(), jitter = model.jitter_ks(), miss = model.miss_ks();
  if (!(good > 0 && good < 1)) {
    return FieldError(source, "good_ks", absl::StrCat("must be in (0, 1), got ", good));
  }
  if (!(jitter > 0 && jitter < good)) {
    return FieldError(source, "jitter_ks",
                      absl::StrCat("must be in (0, good_ks = ", good, "), got ", jitter));
  }
  if (!(miss > 0 && miss < jitter)) {
    return FieldError(source, "miss_ks",
                      absl::StrCat("must be in (0, jitter_ks = ", jitter, "), got ", miss));
  }
  const std::pair<const char*, int> counts[] = {
      {"good_candidates", model.good_candidates()},
      {"jitter_candidates", model.jitter_candidates()},
      {"inversion_candidates", model.inversion_candidates()},
      {"swap_candidates_per_source", model.swap_candidates_per_source()},
      {"miss_candidates_per_source", model.miss_candidates_per_source()},
  };
  for (const auto& [name, count] : counts) {
    if (count <= 0) return FieldError(source, name, absl::StrCat("must be positive, got ", count));
  }
  const double fraction = model.miss_other_source_fraction();
  if (!(fraction >= 0 && fraction <= 1)) {
    return FieldError(source, "miss_other_source_fraction",
                      absl::StrCat("must be in [0, 1], got ", fraction));
  }
  if (!(model.overlap_iou() >= 0 && model.overlap_iou() <= 1)) {
    return FieldError(source, "overlap_iou",
                      absl::StrCat("must be in [0, 1], got ", model.overlap_iou()));
  }
  const int num_keypoints = schema.keypoint_names_size();
  int max_overlap_bound = 0;
  for (const NamedTable& table : kTables) {
    if (!(model.*table.has)()) return FieldError(source, table.name, "is missing");
    RETURN_IF_ERROR(ValidateTable((model.*table.get)(), num_keypoints, source, table.name));
    for (const auto& rule : (model.*table.get)().rules()) {
      for (const auto& condition : rule.when()) {
        max_overlap_bound =
            std::max({max_overlap_bound, condition.min_overlapping(), condition.max_overlapping()});
      }
    }
  }
  // The conditions are thresholds, so checking every n and every o up to one
  // past the largest bound covers every person.
  const CompiledStatusTables tables(model);
  for (int n = 0; n <= num_keypoints; ++n) {
    for (int o = 0; o <= max_overlap_bound + 1; ++o) {
      for (int j = 0; j < num_keypoints; ++j) {
        const StatusProbabilities p = tables.Probabilities(j, n, o);
        if (p[static_cast<int>(ErrorStatus::kGood)] < -1e-9) {
          return FieldError(source, "jitter + miss + inversion + swap",
                            absl::StrCat("exceeds 1 for joint ", j, " with ", n,
                                         " labelled joints and ", o, " overlapping persons"));
        }
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ErrorModel> LoadErrorModel(const std::string& path, const KeypointSchema& schema) {
  ErrorModel model;
  RETURN_IF_ERROR(ReadTextProto(path, &model));
  return CompleteErrorModel(std::move(model), schema, path);
}

CompiledStatusTables::CompiledStatusTables(const ErrorModel& model)
    : jitter_(Compile(model.jitter())),
      inversion_(Compile(model.inversion())),
      swap_(Compile(model.swap())),
      miss_(Compile(model.miss())) {}

CompiledStatusTables::Table CompiledStatusTables::Compile(const StatusTable& table) {
  Table compiled;
  for (int g = 0; g < table.groups_size(); ++g) {
    for (int joint : table.groups(g).joints()) {
      if (joint < 0) continue;
      if (joint >= static_cast<int>(compiled.group_of_joint.size())) {
        compiled.group_of_joint.resize(joint + 1, 0);
      }
      compiled.group_of_joint[joint] = g;
    }
  }
  for (const auto& rule : table.rules()) {
    Rule r;
    for (const auto& condition : rule.when()) r.when.push_back(Bounds(condition));
    r.probability.assign(rule.probability().begin(), rule.probability().end());
    compiled.rules.push_back(std::move(r));
  }
  return compiled;
}

double CompiledStatusTables::Table::Lookup(int joint, int labelled, int overlapping) const {
  const int group = joint < static_cast<int>(group_of_joint.size()) ? group_of_joint[joint] : 0;
  for (const Rule& rule : rules) {
    bool applies = rule.when.empty();
    for (const auto& b : rule.when) {
      if (labelled >= b[0] && labelled <= b[1] && overlapping >= b[2] && overlapping <= b[3]) {
        applies = true;
        break;
      }
    }
    if (!applies) continue;
    return group < static_cast<int>(rule.probability.size()) ? rule.probability[group] : 0;
  }
  return 0;
}

StatusProbabilities CompiledStatusTables::Probabilities(int joint, int labelled,
                                                        int overlapping) const {
  StatusProbabilities p;
  p[static_cast<int>(ErrorStatus::kJitter)] = jitter_.Lookup(joint, labelled, overlapping);
  p[static_cast<int>(ErrorStatus::kInversion)] = inversion_.Lookup(joint, labelled, overlapping);
  p[static_cast<int>(ErrorStatus::kSwap)] = swap_.Lookup(joint, labelled, overlapping);
  p[static_cast<int>(ErrorStatus::kMiss)] = miss_.Lookup(joint, labelled, overlapping);
  p[static_cast<int>(ErrorStatus::kGood)] = 1 - p[1] - p[2] - p[3] - p[4];
  return p;
}

}  // namespace posefix
