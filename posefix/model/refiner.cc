#include "posefix/model/refiner.h"

#include <torch/utils.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <exception>
#include <utility>

#include "absl/strings/str_cat.h"
#include "opencv2/core.hpp"
#include "posefix/core/file_util.h"
#include "posefix/core/geometry.h"
#include "posefix/core/status_macros.h"
#include "posefix/model/checkpoint.h"
#include "posefix/model/codec.h"
#include "posefix/model/network.h"

namespace posefix {
namespace {

class TorchRefiner : public Refiner {
 public:
  TorchRefiner(std::shared_ptr<PoseFixNetImpl> net, ModelOptions model_options,
               ResolvedModelOptions resolved, RefinerOptions options, torch::Device device)
      : net_(std::move(net)),
        model_options_(std::move(model_options)),
        resolved_(resolved),
        options_(std::move(options)),
        device_(device),
        codec_(PoseCodec::Create(resolved)),
        keep_threshold_(options_.keep_threshold >= 0 ? options_.keep_threshold
                                                     : resolved.keep_threshold) {
    net_->to(device_);
    net_->eval();
  }

  const ModelOptions& model_options() const override { return model_options_; }
  std::string device() const override { return device_.str(); }

  absl::StatusOr<std::vector<Pose>> RefineCrops(const std::vector<cv::Mat>& crops,
                                                const std::vector<Pose>& poses) override {
    if (crops.size() != poses.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("RefineCrops: ", crops.size(), " crops but ", poses.size(), " poses"));
    }
    const int height = resolved_.input_height, width = resolved_.input_width;
    for (size_t i = 0; i < crops.size(); ++i) {
      if (crops[i].type() != CV_8UC3 || crops[i].rows != height || crops[i].cols != width) {
        return FieldError("RefineCrops", absl::StrCat("crops[", i, "]"),
                          absl::StrCat("must be CV_8UC3 of ", width, "x", height, ", got type ",
                                       crops[i].type(), " of ", crops[i].cols, "x", crops[i].rows));
      }
      if (static_cast<int>(poses[i].size()) != resolved_.num_keypoints) {
        return FieldError("RefineCrops", absl::StrCat("poses[", i, "]"),
                          absl::StrCat("has ", poses[i].size(), " keypoints, the model ",
                                       resolved_.num_keypoints));
      }
    }
    std::vector<Pose> refined;
    refined.reserve(crops.size());
    const size_t batch = std::max(1, options_.batch_size);
    try {
      for (size_t begin = 0; begin < crops.size(); begin += batch) {
        const size_t end = std::min(crops.size(), begin + batch);
        std::vector<cv::Mat> batch_crops(crops.begin() + begin, crops.begin() + end);
        std::vector<Pose> batch_poses(poses.begin() + begin, poses.begin() + end);
        std::vector<Pose> batch_refined = RefineBatch(batch_crops, batch_poses);
        for (Pose& pose : batch_refined) refined.push_back(std::move(pose));
      }
    } catch (const std::exception& error) {
      return absl::InternalError(absl::StrCat("RefineCrops: ", ErrorMessage(error)));
    }
    return refined;
  }

  absl::StatusOr<std::vector<Pose>> RefineInImage(const cv::Mat& image,
                                                  const std::vector<Pose>& poses) override {
    if (image.type() != CV_8UC3 || image.empty()) {
      return absl::InvalidArgumentError("RefineInImage: image must be a non-empty CV_8UC3");
    }
    const cv::Size size(resolved_.input_width, resolved_.input_height);
    const double aspect = static_cast<double>(size.width) / size.height;
    std::vector<cv::Mat> crops;
    std::vector<Pose> in_crop;
    std::vector<CropTransform> transforms;
    for (size_t i = 0; i < poses.size(); ++i) {
      for (const Keypoint& k : poses[i]) {
        if (!std::isfinite(k.x) || !std::isfinite(k.y)) {
          return FieldError("RefineInImage", absl::StrCat("poses[", i, "]"),
                            "keypoint coordinates must be finite");
        }
      }
      const Box box = ScaleBox(FixAspectRatio(BoxFromKeypoints(poses[i]), aspect), 1.25);
      absl::StatusOr<CropTransform> transform = MakeCropTransform(box, 0, size);
      if (!transform.ok()) {
        return FieldError("RefineInImage", absl::StrCat("poses[", i, "]"),
                          transform.status().message());
      }
      crops.push_back(WarpCrop(image, *transform, size));
      in_crop.push_back(TransformPose(transform->image_to_crop, poses[i]));
      transforms.push_back(*transform);
    }
    ASSIGN_OR_RETURN(std::vector<Pose> refined, RefineCrops(crops, in_crop));
    for (size_t i = 0; i < refined.size(); ++i) {
      refined[i] = MapRefinedToImage(transforms[i].crop_to_image, refined[i], in_crop[i], poses[i]);
    }
    return refined;
  }

 private:
  // Refined poses in crop pixels for one batch (both halves of a flip test
  // go through a single forward pass).
  std::vector<Pose> RefineBatch(const std::vector<cv::Mat>& crops, const std::vector<Pose>& poses) {
    const int height = resolved_.input_height, width = resolved_.input_width;
    const int joints = resolved_.num_keypoints;
    const bool flip = options_.flip_test;
    const int64_t n = static_cast<int64_t>(crops.size());
    const int64_t total = flip ? 2 * n : n;
    torch::Tensor pixels = torch::empty({total, height, width, 3}, torch::kByte);
    torch::Tensor points = torch::empty({total, joints, 3}, torch::kFloat);
    auto fill = [&](int64_t row, const cv::Mat& crop, const Pose& pose) {
      const cv::Mat dense = crop.isContinuous() ? crop : crop.clone();
      std::memcpy(pixels[row].data_ptr<uint8_t>(), dense.data, dense.total() * dense.elemSize());
      float* p = points[row].data_ptr<float>();
      for (int j = 0; j < joints; ++j) {
        const bool finite = std::isfinite(pose[j].x) && std::isfinite(pose[j].y);
        p[3 * j] = static_cast<float>(pose[j].x);
        p[3 * j + 1] = static_cast<float>(pose[j].y);
        p[3 * j + 2] = finite ? 1.0f : 0.0f;  // every input keypoint is rendered
      }
    };
    for (int64_t i = 0; i < n; ++i) {
      fill(i, crops[i], poses[i]);
      if (flip) {
        cv::Mat mirrored;
        cv::flip(crops[i], mirrored, 1);
        fill(n + i, mirrored, FlipPose(poses[i], width, options_.flip_permutation));
      }
    }
    torch::Tensor decoded, good;  // good: [total, J] P(status good), or undefined
    {
      torch::InferenceMode inference;
      const torch::Tensor device_points = points.to(device_);
      const torch::Tensor input = codec_->EncodeInput(pixels.to(device_), device_points);
      const NetworkOutput output = net_->Run(input, device_points);
      decoded = codec_->Decode(output.heatmaps).to(torch::kCPU, torch::kDouble).contiguous();
      if (output.status_logits.defined()) {
        good = torch::softmax(output.status_logits.to(torch::kFloat), 2)
                   .select(2, 0)
                   .to(torch::kCPU, torch::kDouble)
                   .contiguous();
      }
    }
    auto to_pose = [&](int64_t row, const Pose& like) {
      Pose pose = like;
      const double* d = decoded[row].data_ptr<double>();
      for (int j = 0; j < joints; ++j) {
        pose[j].x = d[2 * j];
        pose[j].y = d[2 * j + 1];
      }
      return pose;
    };
    std::vector<Pose> refined;
    for (int64_t i = 0; i < n; ++i) {
      Pose pose = to_pose(i, poses[i]);
      if (flip) {
        const Pose back = FlipPose(to_pose(n + i, poses[i]), width, options_.flip_permutation);
        for (int j = 0; j < joints; ++j) {
          pose[j].x = (pose[j].x + back[j].x) / 2;
          pose[j].y = (pose[j].y + back[j].y) / 2;
        }
      }
      if (good.defined()) {
        const double* p = good[i].data_ptr<double>();
        // The mirrored crop's joint flip_permutation[j] is this crop's j.
        const double* mirrored = flip ? good[n + i].data_ptr<double>() : nullptr;
        for (int j = 0; j < joints; ++j) {
          const double confidence =
              flip ? (p[j] + mirrored[options_.flip_permutation[j]]) / 2 : p[j];
          if (options_.policy == RefinementPolicy::kSelective && confidence >= keep_threshold_) {
            pose[j].x = poses[i][j].x;
            pose[j].y = poses[i][j].y;
          }
          pose[j].v = confidence;
        }
      }
      refined.push_back(std::move(pose));
    }
    return refined;
  }

  std::shared_ptr<PoseFixNetImpl> net_;
  ModelOptions model_options_;
  ResolvedModelOptions resolved_;
  RefinerOptions options_;
  torch::Device device_;
  std::unique_ptr<PoseCodec> codec_;
  double keep_threshold_;
};

absl::Status CheckOptions(const RefinerOptions& options, const ResolvedModelOptions& model) {
  const int num_keypoints = model.num_keypoints;
  if (options.policy == RefinementPolicy::kSelective && !model.status_head) {
    return FieldError("RefinerOptions", "policy",
                      "selective refinement needs a model trained with a status head "
                      "(model.status_head.enabled)");
  }
  if (!(options.keep_threshold <= 1)) {
    return FieldError(
        "RefinerOptions", "keep_threshold",
        absl::StrCat("must be <= 1 (negative: the model's), got ", options.keep_threshold));
  }
  if (options.flip_test) {
    if (static_cast<int>(options.flip_permutation.size()) != num_keypoints) {
      return FieldError("RefinerOptions", "flip_permutation",
                        absl::StrCat("the flip test needs one entry per keypoint (", num_keypoints,
                                     "), got ", options.flip_permutation.size()));
    }
    for (size_t j = 0; j < options.flip_permutation.size(); ++j) {
      const int other = options.flip_permutation[j];
      if (other < 0 || other >= num_keypoints ||
          options.flip_permutation[other] != static_cast<int>(j)) {
        return FieldError("RefinerOptions", absl::StrCat("flip_permutation[", j, "]"),
                          "must be an involution over the keypoints");
      }
    }
  }
  if (options.batch_size <= 0) {
    return FieldError("RefinerOptions", "batch_size", "must be positive");
  }
  return absl::OkStatus();
}

}  // namespace

Pose MapRefinedToImage(const cv::Matx23d& crop_to_image, const Pose& refined_crop,
                       const Pose& input_crop, const Pose& input_image) {
  Pose pose = TransformPose(crop_to_image, refined_crop);
  for (size_t j = 0; j < pose.size(); ++j) {
    if (refined_crop[j].x == input_crop[j].x && refined_crop[j].y == input_crop[j].y) {
      pose[j].x = input_image[j].x;
      pose[j].y = input_image[j].y;
    }
  }
  return pose;
}

absl::StatusOr<RefinementPolicy> ParseRefinementPolicy(absl::string_view name) {
  if (name == "all") return RefinementPolicy::kReplaceAll;
  if (name == "selective") return RefinementPolicy::kSelective;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown refinement policy \"", name, "\" (all, selective)"));
}

absl::StatusOr<std::unique_ptr<Refiner>> Refiner::ForNetwork(std::shared_ptr<PoseFixNetImpl> net,
                                                             const ModelOptions& model_options,
                                                             const RefinerOptions& options) {
  ASSIGN_OR_RETURN(const ResolvedModelOptions resolved, ResolveModelOptions(model_options));
  RETURN_IF_ERROR(CheckOptions(options, resolved));
  ASSIGN_OR_RETURN(const torch::Device device,
                   ParseDevice(options.device, "RefinerOptions.device"));
  return std::unique_ptr<Refiner>(
      new TorchRefiner(std::move(net), model_options, resolved, options, device));
}

absl::StatusOr<std::unique_ptr<Refiner>> Refiner::Untrained(const ModelOptions& model_options,
                                                            const RefinerOptions& options,
                                                            uint64_t seed) {
  ASSIGN_OR_RETURN(const ResolvedModelOptions resolved, ResolveModelOptions(model_options));
  torch::manual_seed(seed);
  return ForNetwork(std::make_shared<PoseFixNetImpl>(resolved), model_options, options);
}

absl::StatusOr<std::unique_ptr<Refiner>> Refiner::FromCheckpoint(const std::string& path,
                                                                 const RefinerOptions& options) {
  ASSIGN_OR_RETURN(const CheckpointInfo info, ReadCheckpointInfo(path));
  ASSIGN_OR_RETURN(const ResolvedModelOptions resolved,
                   ResolveModelOptions(info.options, absl::StrCat(path, ": model_options")));
  ASSIGN_OR_RETURN(const torch::Device device,
                   ParseDevice(options.device, "RefinerOptions.device"));
  auto net = std::make_shared<PoseFixNetImpl>(resolved);
  net->to(device);
  RETURN_IF_ERROR(LoadCheckpoint(path, *net, nullptr).status());
  return ForNetwork(std::move(net), info.options, options);
}

}  // namespace posefix
