#ifndef POSEFIX_MODEL_TRAINING_BATCH_H_
#define POSEFIX_MODEL_TRAINING_BATCH_H_

// Turning the loader's TrainingSamples into network inputs and targets.
// Internal to posefix/model (includes ATen).

#include <ATen/ATen.h>

#include <vector>

#include "absl/status/statusor.h"
#include "posefix/data/training_sample.h"
#include "posefix/model/codec.h"

namespace posefix {

// Samples packed into CPU tensors: what crosses to the device.
struct PackedBatch {
  at::Tensor crops;        // [B, H, W, 3] uint8 BGR
  at::Tensor input_poses;  // [B, J, 3] float; w = 1 where a point was placed
  at::Tensor targets;      // [B, J, 3] float; w = the ground truth's v
  // [B, J] int64: the input keypoint's SynthesisStatus when it is one of the
  // kNumInputStatuses the status head learns, else kNoStatus.
  at::Tensor input_status;
};

inline constexpr int64_t kNoStatus = -1;

// Checks every crop (CV_8UC3 of height x width) and pose (num_keypoints)
// and packs them; errors name the sample.
absl::StatusOr<PackedBatch> PackSamples(const std::vector<TrainingSample>& samples, int height,
                                        int width, int num_keypoints);

struct EncodedBatch {
  int64_t size = 0;
  // The network input [B, 3 (+J), H, W] on the device.
  at::Tensor input;
  TrainingTargets targets;
  // The encoded image channels alone [B, 3, H, W] (E2E training renders the
  // pose channels itself).
  at::Tensor images;
  // The input poses [B, J, 3] and their statuses [B, J] on the device.
  at::Tensor input_points;
  at::Tensor input_status;
};

// Moves a packed batch to `device` and encodes it with `codec` there.
EncodedBatch EncodeBatch(const PackedBatch& batch, const PoseCodec& codec, at::Device device);

}  // namespace posefix

#endif  // POSEFIX_MODEL_TRAINING_BATCH_H_
