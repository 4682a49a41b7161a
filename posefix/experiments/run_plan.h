#ifndef POSEFIX_EXPERIMENTS_RUN_PLAN_H_
#define POSEFIX_EXPERIMENTS_RUN_PLAN_H_

// The first stage of a run: its spec loaded, validated and resolved against
// the output folder, the data root and every default, before anything is
// read or written.

#include <string>

#include "absl/status/statusor.h"
#include "posefix/experiments/experiment.pb.h"
#include "posefix/experiments/run_metrics.pb.h"

namespace posefix {

struct RunPlan {
  // The merged spec and the file it was loaded from.
  ExperimentSpec spec;
  std::string spec_path;
  // "<name>-<hash>" and OUT_DIR/<run_id>.
  std::string run_id;
  std::string run_dir;
  // Relative dataset paths of the spec are taken relative to this.
  std::string data_root;
  // What the run uses (its keypoint schema too), recorded as
  // resolved_options.pbtxt. Its checkpoint and
  // estimator_checkpoint are left to the runner, which knows them once the
  // runs they come from have run.
  ResolvedRunOptions options;
};

// The plan of the spec at `spec_path`, whose run directory lies in
// `out_dir`; spec.data_root, when set, overrides `default_data_root`.
// Errors name the spec and the field.
absl::StatusOr<RunPlan> MakePlan(const std::string& spec_path, const std::string& out_dir,
                                 const std::string& default_data_root);

// A path of the spec's dataset (or weights, or checkpoint) resolved against
// the plan's data root.
std::string DataPath(const RunPlan& plan, const std::string& path);

}  // namespace posefix

#endif  // POSEFIX_EXPERIMENTS_RUN_PLAN_H_
