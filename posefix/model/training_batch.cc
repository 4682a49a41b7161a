#include "posefix/model/training_batch.h"

#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "posefix/core/file_util.h"

namespace posefix {
namespace {

void FillPose(const Pose& pose, bool input, float* out) {
  for (size_t j = 0; j < pose.size(); ++j) {
    const Keypoint& k = pose[j];
    const bool finite = std::isfinite(k.x) && std::isfinite(k.y);
    out[3 * j] = finite ? static_cast<float>(k.x) : 0.0f;
    out[3 * j + 1] = finite ? static_cast<float>(k.y) : 0.0f;
    // A synthesized point is present where it was placed (v > 0); the
    // ground truth keeps its visibility flag for the loss weights.
    out[3 * j + 2] = !finite ? 0.0f : input ? (k.v > 0 ? 1.0f : 0.0f) : static_cast<float>(k.v);
  }
}

}  // namespace

absl::StatusOr<PackedBatch> PackSamples(const std::vector<TrainingSample>& samples, int height,
                                        int width, int num_keypoints) {
  const int64_t n = static_cast<int64_t>(samples.size());
  PackedBatch batch;
  batch.crops = at::empty({n, height, width, 3}, at::kByte);
  batch.input_poses = at::empty({n, num_keypoints, 3}, at::kFloat);
  batch.targets = at::empty({n, num_keypoints, 3}, at::kFloat);
  batch.input_status = at::full({n, num_keypoints}, kNoStatus, at::kLong);
  for (int64_t i = 0; i < n; ++i) {
    const TrainingSample& sample = samples[i];
    const std::string name =
        absl::StrCat("samples[", i, "] (annotation ", sample.annotation_id, ")");
    if (sample.crop.type() != CV_8UC3 || sample.crop.rows != height || sample.crop.cols != width) {
      return FieldError("training batch", name,
                        absl::StrCat("crop must be CV_8UC3 of ", width, "x", height, ", got ",
                                     sample.crop.cols, "x", sample.crop.rows));
    }
    if (static_cast<int>(sample.target.size()) != num_keypoints ||
        static_cast<int>(sample.input.size()) != num_keypoints) {
      return FieldError("training batch", name,
                        absl::StrCat("poses must have ", num_keypoints, " keypoints, got ",
                                     sample.target.size(), " and ", sample.input.size()));
    }
    uint8_t* pixels = batch.crops[i].data_ptr<uint8_t>();
    const size_t row_bytes = static_cast<size_t>(width) * 3;
    for (int y = 0; y < height; ++y) {
      std::memcpy(pixels + y * row_bytes, sample.crop.ptr<uint8_t>(y), row_bytes);
    }
    FillPose(sample.input, /*input=*/true, batch.input_poses[i].data_ptr<float>());
    FillPose(sample.target, /*input=*/false, batch.targets[i].data_ptr<float>());
    if (!sample.input_status.empty() &&
        static_cast<int>(sample.input_status.size()) != num_keypoints) {
      return FieldError("training batch", name,
                        absl::StrCat("input_status must have ", num_keypoints, " entries, got ",
                                     sample.input_status.size()));
    }
    int64_t* status = batch.input_status[i].data_ptr<int64_t>();
    for (size_t j = 0; j < sample.input_status.size(); ++j) {
      const int value = static_cast<int>(sample.input_status[j]);
      // Dropped and unlabelled keypoints have no status to learn.
      if (value < kNumInputStatuses) status[j] = value;
    }
  }
  return batch;
}

EncodedBatch EncodeBatch(const PackedBatch& batch, const PoseCodec& codec, at::Device device) {
  EncodedBatch encoded;
  encoded.size = batch.crops.size(0);
  const bool cuda = device.is_cuda();
  const at::Tensor crops = batch.crops.to(device, /*non_blocking=*/cuda);
  const at::Tensor poses = batch.input_poses.to(device, /*non_blocking=*/cuda);
  const at::Tensor targets = batch.targets.to(device, /*non_blocking=*/cuda);
  encoded.images = codec.EncodeImages(crops);
  const at::Tensor heatmaps = codec.EncodePoses(poses);
  encoded.input = heatmaps.defined() ? at::cat({encoded.images, heatmaps}, 1) : encoded.images;
  encoded.targets = codec.EncodeTargets(targets);
  encoded.input_points = poses;
  encoded.input_status = batch.input_status.to(device, /*non_blocking=*/cuda);
  return encoded;
}

}  // namespace posefix
