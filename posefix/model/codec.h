#ifndef POSEFIX_MODEL_CODEC_H_
#define POSEFIX_MODEL_CODEC_H_

// Pose codecs: one object per model variant that encodes network inputs and
// training targets and decodes predictions, so that training and evaluation
// cannot disagree. Internal to posefix/model (includes ATen); code outside the
// package uses the torch-free Refiner.
//
// Conventions. A batch of poses is a float tensor [B, J, 3] of (x, y, w) in
// crop pixels, pixel centres at integer coordinates; w > 0 marks a keypoint
// that is present (input) or labelled (ground truth). Network outputs are
// [B, J, H/4, W/4] heatmaps; output cell i stands for crop pixel 4 * i (as in
// the release). Everything runs on the device of the tensors it is given.

#include <ATen/ATen.h>

#include <memory>

#include "posefix/model/model_options.h"

namespace posefix {

// Gaussian heatmaps exp(-((x - x_j)^2 + (y - y_j)^2) / (2 sigma^2)) * peak,
// over the full map, for every present keypoint with finite coordinates;
// zero maps for the others. Returns [B, J, height, width] float.
at::Tensor RenderGaussianHeatmaps(const at::Tensor& points, int height, int width, double sigma,
                                  double peak);

// `peak` at the pixel nearest each present keypoint inside the map; zero maps
// for absent keypoints and keypoints outside.
at::Tensor RenderOneHotHeatmaps(const at::Tensor& points, int height, int width, double peak);

// Soft-argmax: softmax over all cells of each [h, w] map, then the expected
// (x, y) cell. logits [B, J, h, w] -> [B, J, 2].
at::Tensor SoftArgmax(const at::Tensor& logits);

// A one-hot target at non-integer cells: the 4 neighbouring cells get
// bilinear weights; neighbours outside the map are dropped and the rest
// renormalized to sum to 1 (all-zero when none is inside).
// coords [B, J, 2] in cells -> [B, J, height, width].
at::Tensor BilinearOneHot(const at::Tensor& coords, int height, int width);

// The (x, y) cell of each map's maximum. heatmaps [B, J, h, w] -> [B, J, 2].
at::Tensor ArgmaxCells(const at::Tensor& heatmaps);

// Ground-truth keypoints that carry loss: labelled (w > 0), finite and inside
// the crop [0, width - 1] x [0, height - 1]. [B, J, 3] -> [B, J] float 0/1.
at::Tensor LossWeights(const at::Tensor& ground_truth, int height, int width);

struct TrainingTargets {
  // [B, J] 1 where a keypoint carries loss, else 0.
  at::Tensor weights;
  // [B, J, 2] ground truth in output cells.
  at::Tensor coords;
  // [B, J, h, w]: the bilinear one-hot (integral output) or the Gaussian
  // (Gaussian output) target.
  at::Tensor heatmaps;
};

// Scalar losses; a term is an undefined tensor when it is switched off.
struct Losses {
  at::Tensor total;
  at::Tensor heatmap;     // L_H (integral) or MSE (Gaussian)
  at::Tensor coordinate;  // L_C (integral only)
  at::Tensor status;      // the status head's cross-entropy (StatusLoss)
};

// Cross-entropy of status logits [B, J, K] against labels [B, J] (int64 in
// [0, K), negative where there is no label), averaged over the labelled
// entries; 0 when none is labelled.
at::Tensor StatusLoss(const at::Tensor& logits, const at::Tensor& labels);

class PoseCodec {
 public:
  // The codec of `options`' variant (input encoding x output encoding).
  static std::unique_ptr<PoseCodec> Create(const ResolvedModelOptions& options);
  virtual ~PoseCodec() = default;

  const ResolvedModelOptions& options() const { return options_; }

  // 8-bit crops [B, H, W, 3] in OpenCV's BGR order (uint8, any device) ->
  // normalized float [B, 3, H, W] in the options' channel order.
  at::Tensor EncodeImages(const at::Tensor& bgr_crops) const;

  // Input-pose heatmaps [B, J, H, W] (coarse or fine), scaled by
  // input_heatmap_scale; an undefined tensor for POSE_INPUT_NONE.
  at::Tensor EncodePoses(const at::Tensor& poses) const;

  // The network input: encoded images, concatenated with the pose heatmaps
  // when the variant takes a pose.
  at::Tensor EncodeInput(const at::Tensor& bgr_crops, const at::Tensor& poses) const;

  // Targets for ground-truth poses [B, J, 3] in crop pixels.
  virtual TrainingTargets EncodeTargets(const at::Tensor& ground_truth) const = 0;

  // Losses of network output [B, J, h, w] against `targets`: means over the
  // keypoints that carry loss (0 when none does).
  virtual Losses Loss(const at::Tensor& output, const TrainingTargets& targets) const = 0;

  // Predicted keypoints [B, J, 2] in crop pixels.
  virtual at::Tensor Decode(const at::Tensor& output) const = 0;

 protected:
  explicit PoseCodec(const ResolvedModelOptions& options) : options_(options) {}

 private:
  ResolvedModelOptions options_;
};

}  // namespace posefix

#endif  // POSEFIX_MODEL_CODEC_H_
