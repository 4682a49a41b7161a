#ifndef POSEFIX_DATA_TRAINING_SAMPLE_H_
#define POSEFIX_DATA_TRAINING_SAMPLE_H_

#include <cstdint>
#include <functional>
#include <vector>

#include "absl/status/statusor.h"
#include "opencv2/core.hpp"
#include "posefix/core/keypoint_schema.pb.h"
#include "posefix/core/random.h"
#include "posefix/core/types.h"
#include "posefix/data/data_options.pb.h"
#include "posefix/synth/synthesizer.h"

namespace posefix {

// Checks `options`; errors read "SOURCE: data.FIELD: problem".
absl::Status ValidateDataOptions(const DataOptions& options, absl::string_view source);

// `options` cropping at the network's input size, checked; the trainer and
// spec validation call this one function. The crop size of `options` must
// be unset or equal.
absl::StatusOr<DataOptions> DataOptionsForCrop(DataOptions options, int input_height,
                                               int input_width, absl::string_view source);

// `options` with every augmentation off (scale, rotation and flip drawn
// with zero spread and probability): evaluation-style crops.
DataOptions WithoutAugmentation(DataOptions options);

struct Augmentation {
  double scale = 1;
  double rotation_degrees = 0;
  bool flip = false;
};

// Draws one augmentation as the release does.
Augmentation SampleAugmentation(const DataOptions& options, DeterministicRandom& random);

// Makes the input pose of one person from its synthesis input (crop
// pixels) and a random stream. Production code wraps a posefix::Synthesizer
// (SynthesizerFunction); tests may pass a simpler function.
using InputPoseSynthesizer =
    std::function<absl::StatusOr<SynthesizedPose>(const SynthesisInput&, DeterministicRandom*)>;

// The release's synthesis (posefix/synth); `synthesizer` must outlive the
// returned function.
InputPoseSynthesizer SynthesizerFunction(const Synthesizer* synthesizer);

// One training example: a crop of a person, the ground truth and a
// synthesized input pose in crop pixels.
struct TrainingSample {
  cv::Mat crop;  // CV_8UC3, BGR, input_height x input_width
  Pose target;
  Pose input;
  // What the synthesizer made of each keypoint (the status head's labels);
  // empty when the synthesizer does not say.
  std::vector<SynthesisStatus> input_status;
  int64_t image_id = 0;
  int64_t annotation_id = 0;
  Augmentation augmentation;
};

// Cuts the training sample of `dataset.annotations[person]` out of `image`:
// the box around the ground-truth box (aspect fixed, scaled), augmented,
// flipped with left/right swapped, and the input pose synthesized in the
// crop with the image's overlapping persons (box IoU >= overlap_iou) as
// neighbours, transformed the same way. `others` are the positions in
// dataset.annotations of the persons of the same image.
absl::StatusOr<TrainingSample> MakeTrainingSample(const cv::Mat& image, const CocoDataset& dataset,
                                                  int person, const std::vector<int>& others,
                                                  const KeypointSchema& schema,
                                                  const DataOptions& options, double overlap_iou,
                                                  const InputPoseSynthesizer& synthesizer,
                                                  uint64_t seed);

// The annotations that make training samples: not crowd, with at least one
// labelled keypoint and a box of positive size.
std::vector<int> TrainablePersons(const CocoDataset& dataset);

}  // namespace posefix

#endif  // POSEFIX_DATA_TRAINING_SAMPLE_H_
