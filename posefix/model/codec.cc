#include "posefix/model/codec.h"

#include <utility>

namespace posefix {
namespace {

// Present keypoints with finite coordinates, as float 0/1 [B, J], and the
// coordinates with absent ones zeroed (so no NaN leaks into arithmetic).
std::pair<at::Tensor, at::Tensor> PresentAndCoords(const at::Tensor& points) {
  TORCH_CHECK(points.dim() == 3 && points.size(2) == 3, "poses must be [B, J, 3], got ",
              points.sizes());
  const at::Tensor xy = points.narrow(2, 0, 2);
  const at::Tensor present = (points.select(2, 2) > 0) & at::isfinite(xy).all(2);
  const at::Tensor clean = at::where(present.unsqueeze(2), xy, at::zeros_like(xy));
  return {present.to(at::kFloat), clean.to(at::kFloat)};
}

at::Tensor MaskedMean(const at::Tensor& per_keypoint, const at::Tensor& weights) {
  return (per_keypoint * weights).sum() / weights.sum().clamp_min(1);
}

// A loss term from its per-keypoint values [B, J] (each the sum over
// `entries_per_keypoint` entries: 2 for L_C's |dx| + |dy|, else 1).
at::Tensor NormalizedLoss(const at::Tensor& per_keypoint, const at::Tensor& weights,
                          LossNormalization normalization, int entries_per_keypoint) {
  if (normalization == LOSS_PER_ENTRY) {
    return (per_keypoint * weights).sum() / (weights.numel() * entries_per_keypoint);
  }
  return MaskedMean(per_keypoint, weights);
}

// The part of the targets both output encodings share: which keypoints
// carry loss, and their ground truth in output cells (zero where none).
TrainingTargets WeightsAndCoords(const at::Tensor& ground_truth,
                                 const ResolvedModelOptions& options) {
  TrainingTargets targets;
  targets.weights = LossWeights(ground_truth, options.input_height, options.input_width);
  targets.coords =
      PresentAndCoords(ground_truth).second / kOutputStride * targets.weights.unsqueeze(2);
  return targets;
}

class IntegralCodec : public PoseCodec {
 public:
  using PoseCodec::PoseCodec;

  TrainingTargets EncodeTargets(const at::Tensor& ground_truth) const override {
    const ResolvedModelOptions& o = options();
    TrainingTargets targets = WeightsAndCoords(ground_truth, o);
    targets.heatmaps = BilinearOneHot(targets.coords, o.output_height(), o.output_width()) *
                       targets.weights.unsqueeze(2).unsqueeze(3);
    return targets;
  }

  Losses Loss(const at::Tensor& output, const TrainingTargets& targets) const override {
    Losses losses;
    losses.total = at::zeros({}, output.options());
    if (options().use_heatmap_loss) {
      const at::Tensor log_probabilities = at::log_softmax(output.flatten(2), 2);
      const at::Tensor cross_entropy = -(targets.heatmaps.flatten(2) * log_probabilities).sum(2);
      losses.heatmap =
          NormalizedLoss(cross_entropy, targets.weights, options().loss_normalization, 1);
      losses.total = losses.total + losses.heatmap;
    }
    if (options().use_coordinate_loss) {
      const at::Tensor l1 = (SoftArgmax(output) - targets.coords).abs().sum(2);
      losses.coordinate = NormalizedLoss(l1, targets.weights, options().loss_normalization, 2);
      losses.total = losses.total + losses.coordinate;
    }
    return losses;
  }

  at::Tensor Decode(const at::Tensor& output) const override {
    return SoftArgmax(output) * kOutputStride;
  }
};

class GaussianCodec : public PoseCodec {
 public:
  using PoseCodec::PoseCodec;

  TrainingTargets EncodeTargets(const at::Tensor& ground_truth) const override {
    const ResolvedModelOptions& o = options();
    TrainingTargets targets = WeightsAndCoords(ground_truth, o);
    const at::Tensor points = at::cat({targets.coords, targets.weights.unsqueeze(2)}, 2);
    targets.heatmaps =
        RenderGaussianHeatmaps(points, o.output_height(), o.output_width(), o.output_sigma, 1.0);
    return targets;
  }

  Losses Loss(const at::Tensor& output, const TrainingTargets& targets) const override {
    Losses losses;
    const at::Tensor mse = (output - targets.heatmaps).pow(2).mean({2, 3});
    losses.heatmap = NormalizedLoss(mse, targets.weights, options().loss_normalization, 1);
    losses.total = losses.heatmap;
    return losses;
  }

  at::Tensor Decode(const at::Tensor& output) const override {
    return ArgmaxCells(output) * kOutputStride;
  }
};

}  // namespace

at::Tensor StatusLoss(const at::Tensor& logits, const at::Tensor& labels) {
  const at::Tensor labelled = labels >= 0;
  const at::Tensor log_probabilities = at::log_softmax(logits.to(at::kFloat), 2);
  const at::Tensor picked =
      log_probabilities.gather(2, labels.clamp_min(0).unsqueeze(2)).squeeze(2);
  return MaskedMean(-picked, labelled.to(at::kFloat));
}

at::Tensor RenderGaussianHeatmaps(const at::Tensor& points, int height, int width, double sigma,
                                  double peak) {
  const auto [present, xy] = PresentAndCoords(points);
  const at::TensorOptions float_options = xy.options();
  // Separable: the 2-D Gaussian is the outer product of two 1-D ones.
  const at::Tensor xs = at::arange(width, float_options).view({1, 1, 1, width});
  const at::Tensor ys = at::arange(height, float_options).view({1, 1, height, 1});
  const double inverse = 1.0 / (2.0 * sigma * sigma);
  const at::Tensor gx = at::exp(-(xs - xy.select(2, 0).unsqueeze(2).unsqueeze(3)).pow(2) * inverse);
  const at::Tensor gy = at::exp(-(ys - xy.select(2, 1).unsqueeze(2).unsqueeze(3)).pow(2) * inverse);
  return gy * (gx * (present * peak).unsqueeze(2).unsqueeze(3));
}

at::Tensor RenderOneHotHeatmaps(const at::Tensor& points, int height, int width, double peak) {
  const auto [present, xy] = PresentAndCoords(points);
  const at::Tensor ix = at::round(xy.select(2, 0)).to(at::kLong);
  const at::Tensor iy = at::round(xy.select(2, 1)).to(at::kLong);
  const at::Tensor inside = (ix >= 0) & (ix < width) & (iy >= 0) & (iy < height) & (present > 0);
  const at::Tensor index = (iy.clamp(0, height - 1) * width + ix.clamp(0, width - 1));
  const int64_t batch = points.size(0), joints = points.size(1);
  at::Tensor maps = at::zeros({batch, joints, int64_t{height} * width}, xy.options());
  maps.scatter_(2, index.unsqueeze(2), (inside.to(at::kFloat) * peak).unsqueeze(2));
  return maps.view({batch, joints, height, width});
}

at::Tensor SoftArgmax(const at::Tensor& logits) {
  TORCH_CHECK(logits.dim() == 4, "heatmaps must be [B, J, h, w], got ", logits.sizes());
  const int64_t height = logits.size(2), width = logits.size(3);
  const at::Tensor probabilities = at::softmax(logits.flatten(2), 2).view(logits.sizes());
  const at::TensorOptions options = logits.options();
  const at::Tensor x = (probabilities.sum(2) * at::arange(width, options)).sum(2);
  const at::Tensor y = (probabilities.sum(3) * at::arange(height, options)).sum(2);
  return at::stack({x, y}, 2);
}

at::Tensor BilinearOneHot(const at::Tensor& coords, int height, int width) {
  TORCH_CHECK(coords.dim() == 3 && coords.size(2) == 2, "coords must be [B, J, 2], got ",
              coords.sizes());
  const int64_t batch = coords.size(0), joints = coords.size(1);
  const at::Tensor clean = at::where(at::isfinite(coords), coords, at::full_like(coords, -2));
  const at::Tensor x = clean.select(2, 0), y = clean.select(2, 1);
  const at::Tensor x0 = at::floor(x), y0 = at::floor(y);
  const at::Tensor fx = x - x0, fy = y - y0;
  at::Tensor maps = at::zeros({batch, joints, int64_t{height} * width}, coords.options());
  at::Tensor total = at::zeros({batch, joints}, coords.options());
  const at::Tensor corners[4][3] = {{x0, y0, (1 - fx) * (1 - fy)},
                                    {x0 + 1, y0, fx * (1 - fy)},
                                    {x0, y0 + 1, (1 - fx) * fy},
                                    {x0 + 1, y0 + 1, fx * fy}};
  for (const auto& corner : corners) {
    const at::Tensor cx = corner[0], cy = corner[1];
    const at::Tensor inside = (cx >= 0) & (cx <= width - 1) & (cy >= 0) & (cy <= height - 1);
    const at::Tensor weight = corner[2] * inside.to(coords.scalar_type());
    const at::Tensor index =
        cy.clamp(0, height - 1).to(at::kLong) * width + cx.clamp(0, width - 1).to(at::kLong);
    maps.scatter_add_(2, index.unsqueeze(2), weight.unsqueeze(2));
    total = total + weight;
  }
  const at::Tensor normalizer = at::where(total > 0, total, at::ones_like(total));
  return (maps / normalizer.unsqueeze(2)).view({batch, joints, height, width});
}

at::Tensor ArgmaxCells(const at::Tensor& heatmaps) {
  TORCH_CHECK(heatmaps.dim() == 4, "heatmaps must be [B, J, h, w], got ", heatmaps.sizes());
  const int64_t width = heatmaps.size(3);
  const at::Tensor index = heatmaps.flatten(2).argmax(2);
  return at::stack({index.remainder(width), index.div(width, "floor")}, 2).to(heatmaps.options());
}

at::Tensor LossWeights(const at::Tensor& ground_truth, int height, int width) {
  const auto [present, xy] = PresentAndCoords(ground_truth);
  const at::Tensor x = xy.select(2, 0), y = xy.select(2, 1);
  const at::Tensor inside = (x >= 0) & (x <= width - 1) & (y >= 0) & (y <= height - 1);
  return present * inside.to(at::kFloat);
}

std::unique_ptr<PoseCodec> PoseCodec::Create(const ResolvedModelOptions& options) {
  if (options.output_encoding == POSE_OUTPUT_GAUSSIAN) {
    return std::unique_ptr<PoseCodec>(new GaussianCodec(options));
  }
  return std::unique_ptr<PoseCodec>(new IntegralCodec(options));
}

at::Tensor PoseCodec::EncodeImages(const at::Tensor& bgr_crops) const {
  TORCH_CHECK(bgr_crops.dim() == 4 && bgr_crops.size(3) == 3,
              "crops must be [B, H, W, 3] BGR, got ", bgr_crops.sizes());
  at::Tensor images = bgr_crops.permute({0, 3, 1, 2}).to(at::kFloat);
  if (options_.channel_order == CHANNEL_ORDER_RGB) images = images.flip({1});
  const at::TensorOptions float_options = images.options();
  const at::Tensor mean =
      at::tensor({options_.pixel_mean[0], options_.pixel_mean[1], options_.pixel_mean[2]},
                 at::TensorOptions().dtype(at::kDouble))
          .to(float_options)
          .view({1, 3, 1, 1});
  const at::Tensor std =
      at::tensor({options_.pixel_std[0], options_.pixel_std[1], options_.pixel_std[2]},
                 at::TensorOptions().dtype(at::kDouble))
          .to(float_options)
          .view({1, 3, 1, 1});
  return ((images - mean) / std).contiguous();
}

at::Tensor PoseCodec::EncodePoses(const at::Tensor& poses) const {
  switch (options_.input_encoding) {
    case POSE_INPUT_COARSE:
      return RenderGaussianHeatmaps(poses, options_.input_height, options_.input_width,
                                    options_.input_sigma, options_.input_heatmap_scale);
    case POSE_INPUT_FINE:
      return RenderOneHotHeatmaps(poses, options_.input_height, options_.input_width,
                                  options_.input_heatmap_scale);
    default:
      return at::Tensor();
  }
}

at::Tensor PoseCodec::EncodeInput(const at::Tensor& bgr_crops, const at::Tensor& poses) const {
  const at::Tensor images = EncodeImages(bgr_crops);
  if (!options_.has_pose_input()) return images;
  return at::cat({images, EncodePoses(poses.to(images.device(), at::kFloat))}, 1);
}

}  // namespace posefix
