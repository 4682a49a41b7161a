#ifndef POSEFIX_CORE_KEYPOINT_SCHEMA_H_
#define POSEFIX_CORE_KEYPOINT_SCHEMA_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "posefix/core/keypoint_schema.pb.h"

namespace posefix {

// The built-in schemas. Each is validated once and lives for the program.
const KeypointSchema& CocoSchema();       // COCO-17
const KeypointSchema& CrowdPoseSchema();  // CrowdPose-14
const KeypointSchema& MpiiSchema();       // MPII-16
const KeypointSchema& PoseTrackSchema();  // PoseTrack-17 (ears ignored)

// "coco", "crowdpose", "mpii" or "posetrack".
absl::StatusOr<const KeypointSchema*> BuiltinSchema(absl::string_view name);

// The names BuiltinSchema accepts.
std::vector<std::string> BuiltinSchemaNames();

// Checks internal consistency: non-empty, one positive finite sigma per
// keypoint, indices in range, every keypoint in at most one flip pair.
// `source` names the file (or schema) in the error message.
absl::Status ValidateKeypointSchema(const KeypointSchema& schema, absl::string_view source);

// Reads and validates a text-format KeypointSchema file.
absl::StatusOr<KeypointSchema> LoadKeypointSchema(const std::string& path);

// The one way a schema is named, on every command line and in specs: a
// built-in name (BuiltinSchemaNames), else a text-format KeypointSchema file,
// a relative path being taken relative to `base_dir` when that is not empty.
absl::StatusOr<KeypointSchema> ResolveKeypointSchema(const std::string& name_or_file,
                                                     const std::string& base_dir = "");

// flip[j] is j's left/right counterpart, or j itself for a central keypoint.
std::vector<int> FlipPermutation(const KeypointSchema& schema);

// The schema's sigmas as a plain vector.
std::vector<double> Sigmas(const KeypointSchema& schema);

}  // namespace posefix

#endif  // POSEFIX_CORE_KEYPOINT_SCHEMA_H_
