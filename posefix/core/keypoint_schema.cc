#include "posefix/core/keypoint_schema.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/text_format.h"
#include "posefix/core/file_util.h"
#include "posefix/core/status_macros.h"
#include "posefix/core/text_proto.h"

namespace posefix {
namespace {

// Sigmas are the published ones of each benchmark's evaluator (COCO's
// cocoapi, CrowdPose's crowdpose-api, MPII and PoseTrack as in mmpose).
constexpr char kCocoSchema[] = R"pb(
  name: "coco"
  keypoint_names: [ "nose", "left_eye", "right_eye", "left_ear", "right_ear",
                    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
                    "left_wrist", "right_wrist", "left_hip", "right_hip",
                    "left_knee", "right_knee", "left_ankle", "right_ankle" ]
  sigmas: [ .026, .025, .025, .035, .035, .079, .079, .072, .072, .062, .062,
            .107, .107, .087, .087, .089, .089 ]
  flip_pairs { left: 1 right: 2 }
  flip_pairs { left: 3 right: 4 }
  flip_pairs { left: 5 right: 6 }
  flip_pairs { left: 7 right: 8 }
  flip_pairs { left: 9 right: 10 }
  flip_pairs { left: 11 right: 12 }
  flip_pairs { left: 13 right: 14 }
  flip_pairs { left: 15 right: 16 }
  skeleton { from: 15 to: 13 } skeleton { from: 13 to: 11 }
  skeleton { from: 16 to: 14 } skeleton { from: 14 to: 12 }
  skeleton { from: 11 to: 12 } skeleton { from: 5 to: 11 }
  skeleton { from: 6 to: 12 }  skeleton { from: 5 to: 6 }
  skeleton { from: 5 to: 7 }   skeleton { from: 6 to: 8 }
  skeleton { from: 7 to: 9 }   skeleton { from: 8 to: 10 }
  skeleton { from: 1 to: 2 }   skeleton { from: 0 to: 1 }
  skeleton { from: 0 to: 2 }   skeleton { from: 1 to: 3 }
  skeleton { from: 2 to: 4 }   skeleton { from: 3 to: 5 }
  skeleton { from: 4 to: 6 }
)pb";

constexpr char kCrowdPoseSchema[] = R"pb(
  name: "crowdpose"
  keypoint_names: [ "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
                    "left_wrist", "right_wrist", "left_hip", "right_hip",
                    "left_knee", "right_knee", "left_ankle", "right_ankle",
                    "head", "neck" ]
  sigmas: [ .079, .079, .072, .072, .062, .062, .107, .107, .087, .087, .089, .089,
            .079, .079 ]
  flip_pairs { left: 0 right: 1 }
  flip_pairs { left: 2 right: 3 }
  flip_pairs { left: 4 right: 5 }
  flip_pairs { left: 6 right: 7 }
  flip_pairs { left: 8 right: 9 }
  flip_pairs { left: 10 right: 11 }
  skeleton { from: 12 to: 13 } skeleton { from: 13 to: 0 }
  skeleton { from: 13 to: 1 }  skeleton { from: 0 to: 2 }
  skeleton { from: 2 to: 4 }   skeleton { from: 1 to: 3 }
  skeleton { from: 3 to: 5 }   skeleton { from: 13 to: 6 }
  skeleton { from: 13 to: 7 }  skeleton { from: 6 to: 8 }
  skeleton { from: 8 to: 10 }  skeleton { from: 7 to: 9 }
  skeleton { from: 9 to: 11 }
)pb";

constexpr char kMpiiSchema[] = R"pb(
  name: "mpii"
  keypoint_names: [ "right_ankle", "right_knee", "right_hip", "left_hip",
                    "left_knee", "left_ankle", "pelvis", "thorax", "upper_neck",
                    "head_top", "right_wrist", "right_elbow", "right_shoulder",
                    "left_shoulder", "left_elbow", "left_wrist" ]
  sigmas: [ .089, .083, .107, .107, .083, .089, .026, .026, .026, .026, .062,
            .072, .179, .179, .072, .062 ]
  flip_pairs { left: 5 right: 0 }
  flip_pairs { left: 4 right: 1 }
  flip_pairs { left: 3 right: 2 }
  flip_pairs { left: 15 right: 10 }
  flip_pairs { left: 14 right: 11 }
  flip_pairs { left: 13 right: 12 }
  skeleton { from: 0 to: 1 }   skeleton { from: 1 to: 2 }
  skeleton { from: 2 to: 6 }   skeleton { from: 6 to: 3 }
  skeleton { from: 3 to: 4 }   skeleton { from: 4 to: 5 }
  skeleton { from: 6 to: 7 }   skeleton { from: 7 to: 8 }
  skeleton { from: 8 to: 9 }   skeleton { from: 7 to: 12 }
  skeleton { from: 12 to: 11 } skeleton { from: 11 to: 10 }
  skeleton { from: 7 to: 13 }  skeleton { from: 13 to: 14 }
  skeleton { from: 14 to: 15 }
)pb";

// PoseTrack 2018 keeps COCO's order and sigmas but labels head_bottom and
// head_top where COCO has eyes, and never labels the ears.
constexpr char kPoseTrackSchema[] = R"pb(
  name: "posetrack"
  keypoint_names: [ "nose", "head_bottom", "head_top", "left_ear", "right_ear",
                    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
                    "left_wrist", "right_wrist", "left_hip", "right_hip",
                    "left_knee", "right_knee", "left_ankle", "right_ankle" ]
  sigmas: [ .026, .025, .025, .035, .035, .079, .079, .072, .072, .062, .062,
            .107, .107, .087, .087, .089, .089 ]
  flip_pairs { left: 3 right: 4 }
  flip_pairs { left: 5 right: 6 }
  flip_pairs { left: 7 right: 8 }
  flip_pairs { left: 9 right: 10 }
  flip_pairs { left: 11 right: 12 }
  flip_pairs { left: 13 right: 14 }
  flip_pairs { left: 15 right: 16 }
  skeleton { from: 15 to: 13 } skeleton { from: 13 to: 11 }
  skeleton { from: 16 to: 14 } skeleton { from: 14 to: 12 }
  skeleton { from: 11 to: 12 } skeleton { from: 5 to: 11 }
  skeleton { from: 6 to: 12 }  skeleton { from: 5 to: 6 }
  skeleton { from: 5 to: 7 }   skeleton { from: 6 to: 8 }
  skeleton { from: 7 to: 9 }   skeleton { from: 8 to: 10 }
  skeleton { from: 0 to: 1 }   skeleton { from: 1 to: 2 }
  skeleton { from: 1 to: 5 }   skeleton { from: 1 to: 6 }
  ignored_keypoints: [ 3, 4 ]
)pb";

const KeypointSchema& ParseBuiltin(const char* text) {
  auto* schema = new KeypointSchema;
  if (!google::protobuf::TextFormat::ParseFromString(text, schema)) {
    // A built-in schema is compiled in: failing to parse it is a bug.
    std::abort();
  }
  if (!ValidateKeypointSchema(*schema, schema->name()).ok()) std::abort();
  return *schema;
}

}  // namespace

const KeypointSchema& CocoSchema() {
  static const KeypointSchema& schema = ParseBuiltin(kCocoSchema);
  return schema;
}

const KeypointSchema& CrowdPoseSchema() {
  static const KeypointSchema& schema = ParseBuiltin(kCrowdPoseSchema);
  return schema;
}

const KeypointSchema& MpiiSchema() {
  static const KeypointSchema& schema = ParseBuiltin(kMpiiSchema);
  return schema;
}

const KeypointSchema& PoseTrackSchema() {
  static const KeypointSchema& schema = ParseBuiltin(kPoseTrackSchema);
  return schema;
}

std::vector<std::string> BuiltinSchemaNames() {
  return {"coco", "crowdpose", "mpii", "posetrack"};
}

absl::StatusOr<const KeypointSchema*> BuiltinSchema(absl::string_view name) {
  if (name == "coco") return &CocoSchema();
  if (name == "crowdpose") return &CrowdPoseSchema();
  if (name == "mpii") return &MpiiSchema();
  if (name == "posetrack") return &PoseTrackSchema();
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown keypoint schema '", name, "' (known: coco, crowdpose, mpii, posetrack)"));
}

absl::Status ValidateKeypointSchema(const KeypointSchema& schema, absl::string_view source) {
  const int count = schema.keypoint_names_size();
  if (count == 0) return FieldError(source, "keypoint_names", "must not be empty");
  if (schema.sigmas_size() != count) {
    return FieldError(source, "sigmas",
                      absl::StrCat("has ", schema.sigmas_size(), " values for ", count,
                                   " keypoints"));
  }
  for (int j = 0; j < count; ++j) {
    const double sigma = schema.sigmas(j);
    if (!std::isfinite(sigma) || sigma <= 0) {
      return FieldError(source, absl::StrCat("sigmas[", j, "]"),
                        absl::StrCat("must be positive and finite, got ", sigma));
    }
  }
  auto in_range = [count](int index) { return index >= 0 && index < count; };
  std::vector<int> paired(count, 0);
  for (int i = 0; i < schema.flip_pairs_size(); ++i) {
    const auto& pair = schema.flip_pairs(i);
    const std::string field = absl::StrCat("flip_pairs[", i, "]");
    if (!in_range(pair.left()) || !in_range(pair.right())) {
      return FieldError(source, field, absl::StrCat("index out of range [0, ", count, ")"));
    }
    if (pair.left() == pair.right()) return FieldError(source, field, "pairs a keypoint with itself");
    if (++paired[pair.left()] > 1 || ++paired[pair.right()] > 1) {
      return FieldError(source, field, "a keypoint appears in two flip pairs");
    }
  }
  for (int i = 0; i < schema.skeleton_size(); ++i) {
    const auto& limb = schema.skeleton(i);
    if (!in_range(limb.from()) || !in_range(limb.to())) {
      return FieldError(source, absl::StrCat("skeleton[", i, "]"),
                        absl::StrCat("index out of range [0, ", count, ")"));
    }
  }
  for (int i = 0; i < schema.ignored_keypoints_size(); ++i) {
    if (!in_range(schema.ignored_keypoints(i))) {
      return FieldError(source, absl::StrCat("ignored_keypoints[", i, "]"),
                        absl::StrCat("index out of range [0, ", count, ")"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<KeypointSchema> ResolveKeypointSchema(const std::string& name_or_file,
                                                     const std::string& base_dir) {
  if (absl::StatusOr<const KeypointSchema*> builtin = BuiltinSchema(name_or_file); builtin.ok()) {
    return **builtin;
  }
  const std::string path = JoinPath(base_dir, name_or_file);
  if (!PathExists(path)) {
    return absl::InvalidArgumentError(
        absl::StrCat("keypoint schema '", name_or_file, "': neither a built-in schema (",
                     absl::StrJoin(BuiltinSchemaNames(), ", "), ") nor a file (", path, ")"));
  }
  return LoadKeypointSchema(path);
}

absl::StatusOr<KeypointSchema> LoadKeypointSchema(const std::string& path) {
  KeypointSchema schema;
  RETURN_IF_ERROR(ReadTextProto(path, &schema));
  RETURN_IF_ERROR(ValidateKeypointSchema(schema, path));
  return schema;
}

std::vector<int> FlipPermutation(const KeypointSchema& schema) {
  std::vector<int> flip(schema.keypoint_names_size());
  for (int j = 0; j < static_cast<int>(flip.size()); ++j) flip[j] = j;
  for (const auto& pair : schema.flip_pairs()) {
    flip[pair.left()] = pair.right();
    flip[pair.right()] = pair.left();
  }
  return flip;
}

std::vector<double> Sigmas(const KeypointSchema& schema) {
  return {schema.sigmas().begin(), schema.sigmas().end()};
}

}  // namespace posefix
