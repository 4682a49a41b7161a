#ifndef POSEFIX_MODEL_CHECKPOINT_H_
#define POSEFIX_MODEL_CHECKPOINT_H_

// Checkpoints: model parameters and buffers, optimizer state, training step
// and the ModelOptions the model was built from, with a format version.
// Internal to posefix/model (includes torch).

#include <cstdint>
#include <string>

#include <torch/optim/optimizer.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "posefix/model/model.pb.h"
#include "posefix/model/network.h"

namespace posefix {

// Bumped whenever the layout of a checkpoint changes; a reader refuses other
// versions.
inline constexpr int64_t kCheckpointFormatVersion = 1;

struct CheckpointInfo {
  int64_t format_version = 0;
  int64_t step = 0;
  ModelOptions options;
  bool has_optimizer = false;
};

// Writes atomically (a temporary file renamed into place). `optimizer` may be
// null (an inference-only checkpoint). Tensors keep their device in the
// file; LoadCheckpoint maps them wherever the reader wants them.
absl::Status SaveCheckpoint(const std::string& path, const ModelOptions& options,
                            PoseFixNetImpl& net, const torch::optim::Optimizer* optimizer,
                            int64_t step);

// The checkpoint's version, step and model options, with every tensor mapped
// to the CPU.
absl::StatusOr<CheckpointInfo> ReadCheckpointInfo(const std::string& path);

// Loads the checkpoint into `net` and, when non-null, `optimizer`. Tensors are
// mapped onto the device of `net`'s parameters (map_location), so a
// checkpoint written on CUDA loads on the CPU and back. Fails, naming the file
// and the field, when the version is unknown, when the checkpoint's model
// does not have `net`'s architecture, or when an optimizer state is asked for
// but absent.
absl::StatusOr<CheckpointInfo> LoadCheckpoint(const std::string& path, PoseFixNetImpl& net,
                                              torch::optim::Optimizer* optimizer);

}  // namespace posefix

#endif  // POSEFIX_MODEL_CHECKPOINT_H_
