#ifndef POSEFIX_EXPERIMENTS_EXPERIMENT_SPEC_H_
#define POSEFIX_EXPERIMENTS_EXPERIMENT_SPEC_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "posefix/experiments/experiment.pb.h"

namespace posefix {

// Parses `text` (the content of spec file `path`) and merges it over its
// bases as experiment.proto describes. `name` defaults to the file's stem.
// Errors name the file, and the line and column or the field at fault.
absl::StatusOr<ExperimentSpec> ParseExperimentSpec(const std::string& path,
                                                   const std::string& text);
// Reads the spec file at `path` and parses it as above.
absl::StatusOr<ExperimentSpec> LoadExperimentSpec(const std::string& path);

// Clears the dotted field path (e.g. "model.use_heatmap_loss") in `message`.
// Errors when a component names no field or crosses a repeated field.
absl::Status ClearFieldPath(absl::string_view path, google::protobuf::Message* message);

// Checks a merged spec; errors read "SOURCE: FIELD: problem". Does not touch
// the file system, so paper-scale specs validate without COCO.
absl::Status ValidateExperimentSpec(const ExperimentSpec& spec, absl::string_view source);

// Whether the run refines with a given checkpoint (checkpoint or
// checkpoint_from_spec) instead of training one.
bool RefinesOnly(const ExperimentSpec& spec);

// The paper's name of the spec's variant: "C2F", "F2F", "C2C", "C2F-L_H",
// "C2F-L_C", "E2E-refine" or "IntegralPose". The spec must be valid.
std::string ExperimentVariantName(const ExperimentSpec& spec);

// A short stable hash of the merged spec (16 hex digits of a 64-bit FNV-1a of
// its deterministic binary serialization); names the run directory.
std::string SpecHash(const ExperimentSpec& spec);

// "<name>-<first 8 hash digits>".
std::string RunId(const ExperimentSpec& spec);

// Paths relative to a spec file are relative to its folder.
std::string ResolveRelativeTo(const std::string& spec_path, const std::string& path);

// The spec files (*.pbtxt) of a folder, sorted, except those whose name ends
// in "_base.pbtxt" (bases are not runs).
absl::StatusOr<std::vector<std::string>> ListSpecFiles(const std::string& folder);

}  // namespace posefix

#endif  // POSEFIX_EXPERIMENTS_EXPERIMENT_SPEC_H_
