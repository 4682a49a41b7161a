#ifndef POSEFIX_MODEL_REFINER_H_
#define POSEFIX_MODEL_REFINER_H_

// The torch-free face of a trained PoseFix model: refine poses given crops or
// a whole image. Include this (not the torch headers) from tools, the
// experiment runner and anything outside posefix/model.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "opencv2/core.hpp"
#include "posefix/core/types.h"
#include "posefix/model/model.pb.h"

namespace posefix {

class PoseFixNetImpl;  // posefix/model/network.h

// Which refined keypoints replace the input ones.
enum class RefinementPolicy {
  // Every keypoint takes the refined position (the paper's).
  kReplaceAll,
  // Needs a model with a status head: a keypoint takes the refined position
  // only where the head's probability that the input keypoint is right
  // (status good) is below the keep threshold; elsewhere the input stays.
  kSelective,
};

// "all" or "selective".
absl::StatusOr<RefinementPolicy> ParseRefinementPolicy(absl::string_view name);

struct RefinerOptions {
  // Flip test as in the release: refine the mirrored crop and pose too, mirror
  // the result back and average the coordinates. Needs flip_permutation.
  bool flip_test = true;
  // flip_permutation[j] = j's left/right counterpart (FlipPermutation(schema)).
  std::vector<int> flip_permutation;
  // "auto" (CUDA when available), "cpu", "cuda" or "cuda:N".
  std::string device = "auto";
  // Crops per forward pass (a flip test doubles it).
  int batch_size = 32;
  RefinementPolicy policy = RefinementPolicy::kReplaceAll;
  // kSelective: keep an input keypoint where P(good) >= this; negative: the
  // threshold stored with the model (status_head.keep_threshold).
  double keep_threshold = -1;
};

// `refined_crop` mapped back to the image: `crop_to_image` applied, except
// that a keypoint the refiner left where it was (equal to `input_crop`'s)
// takes its exact `input_image` position, free of the round trip's rounding.
Pose MapRefinedToImage(const cv::Matx23d& crop_to_image, const Pose& refined_crop,
                       const Pose& input_crop, const Pose& input_image);

class Refiner {
 public:
  // A model saved with SaveCheckpoint (posefix/model/checkpoint.h).
  static absl::StatusOr<std::unique_ptr<Refiner>> FromCheckpoint(const std::string& path,
                                                                 const RefinerOptions& options);
  // A randomly initialized model from `seed` (tests, benchmarks).
  static absl::StatusOr<std::unique_ptr<Refiner>> Untrained(const ModelOptions& model_options,
                                                            const RefinerOptions& options,
                                                            uint64_t seed);
  // Wraps a network in memory (the trainer's evaluation); the network is
  // shared, moved to the refiner's device and used in eval mode.
  static absl::StatusOr<std::unique_ptr<Refiner>> ForNetwork(std::shared_ptr<PoseFixNetImpl> net,
                                                             const ModelOptions& model_options,
                                                             const RefinerOptions& options);

  virtual ~Refiner() = default;

  virtual const ModelOptions& model_options() const = 0;
  // The device the model runs on, e.g. "cpu" or "cuda:0".
  virtual std::string device() const = 0;

  // crops: CV_8UC3 BGR images of the model's input size (input_height rows,
  // input_width columns). poses: the input pose of each crop in crop pixels;
  // every keypoint with finite coordinates is rendered (as the release does,
  // whatever its score). Returns the refined poses in crop pixels. Each
  // keypoint keeps its input v (no rescoring), except with a status head:
  // then v is the head's probability that the input keypoint was right
  // (status good), a calibrated per-keypoint confidence.
  virtual absl::StatusOr<std::vector<Pose>> RefineCrops(const std::vector<cv::Mat>& crops,
                                                        const std::vector<Pose>& poses) = 0;

  // image: a CV_8UC3 BGR image; poses in image pixels. Crops every pose with
  // the release's test box (keypoint extent x1.2, aspect fixed to the input
  // size, x1.25), refines, and maps the result back to image pixels.
  virtual absl::StatusOr<std::vector<Pose>> RefineInImage(const cv::Mat& image,
                                                          const std::vector<Pose>& poses) = 0;
};

}  // namespace posefix

#endif  // POSEFIX_MODEL_REFINER_H_
