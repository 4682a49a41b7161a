#include "posefix/data/training_sample.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "opencv2/core.hpp"
#include "posefix/core/coco_io.h"
#include "posefix/core/file_util.h"
#include "posefix/core/geometry.h"
#include "posefix/core/keypoint_schema.h"
#include "posefix/core/status_macros.h"

namespace posefix {

absl::Status ValidateDataOptions(const DataOptions& options, absl::string_view source) {
  auto field = [](const char* name) { return absl::StrCat("data.", name); };
  for (const auto& [name, value] :
       {std::pair<const char*, int>{"input_width", options.input_width()},
        std::pair<const char*, int>{"input_height", options.input_height()}}) {
    if (value <= 0) {
      return FieldError(source, field(name), absl::StrCat("must be positive, got ", value));
    }
    // A crop side beyond this is a typo, not a pose crop (and an allocation
    // OpenCV may fail).
    if (value > 4096) {
      return FieldError(source, field(name), absl::StrCat("must be at most 4096, got ", value));
    }
  }
  if (!(options.box_scale() > 0) || !std::isfinite(options.box_scale())) {
    return FieldError(source, field("box_scale"), "must be positive");
  }
  if (options.scale_limit() < 0 || options.scale_limit() >= 1) {
    return FieldError(source, field("scale_limit"), "must be in [0, 1)");
  }
  if (options.scale_sigma() < 0) return FieldError(source, field("scale_sigma"), "must be >= 0");
  if (options.rotation_sigma() < 0 || options.rotation_limit() < 0) {
    return FieldError(source, field("rotation_sigma"), "rotation must be >= 0");
  }
  for (auto [name, value] :
       {std::pair<const char*, double>{"rotation_probability", options.rotation_probability()},
        {"flip_probability", options.flip_probability()}}) {
    if (!(value >= 0 && value <= 1)) {
      return FieldError(source, field(name), absl::StrCat("must be in [0, 1], got ", value));
    }
  }
  if (options.num_threads() < 1 || options.num_threads() > 256) {
    return FieldError(source, field("num_threads"), "must be in [1, 256]");
  }
  if (options.queue_capacity() < 1) {
    return FieldError(source, field("queue_capacity"), "must be positive");
  }
  return absl::OkStatus();
}

absl::StatusOr<DataOptions> DataOptionsForCrop(DataOptions options, int input_height,
                                               int input_width, absl::string_view source) {
  if (options.has_input_height() && options.input_height() != input_height) {
    return FieldError(source, "data.input_height",
                      absl::StrCat("must be unset or equal model.input_height (", input_height,
                                   "), got ", options.input_height()));
  }
  if (options.has_input_width() && options.input_width() != input_width) {
    return FieldError(source, "data.input_width",
                      absl::StrCat("must be unset or equal model.input_width (", input_width,
                                   "), got ", options.input_width()));
  }
  options.set_input_height(input_height);
  options.set_input_width(input_width);
  RETURN_IF_ERROR(ValidateDataOptions(options, source));
  return options;
}

DataOptions WithoutAugmentation(DataOptions options) {
  options.set_scale_sigma(0);
  options.set_rotation_probability(0);
  options.set_flip_probability(0);
  return options;
}

Augmentation SampleAugmentation(const DataOptions& options, DeterministicRandom& random) {
  Augmentation augmentation;
  const double scale = random.Normal() * options.scale_sigma() + 1;
  augmentation.scale = std::clamp(scale, 1 - options.scale_limit(), 1 + options.scale_limit());
  const double rotation = std::clamp(random.Normal() * options.rotation_sigma(),
                                     -options.rotation_limit(), options.rotation_limit());
  augmentation.rotation_degrees = random.Bernoulli(options.rotation_probability()) ? rotation : 0;
  augmentation.flip = random.Bernoulli(options.flip_probability());
  return augmentation;
}

std::vector<int> TrainablePersons(const CocoDataset& dataset) {
  std::vector<int> persons;
  for (int i = 0; i < static_cast<int>(dataset.annotations.size()); ++i) {
    if (IsTrainablePerson(dataset.annotations[i])) persons.push_back(i);
  }
  return persons;
}

InputPoseSynthesizer SynthesizerFunction(const Synthesizer* synthesizer) {
  return [synthesizer](const SynthesisInput& input, DeterministicRandom* random) {
    return synthesizer->Synthesize(input, random);
  };
}

absl::StatusOr<TrainingSample> MakeTrainingSample(const cv::Mat& image, const CocoDataset& dataset,
                                                  int person, const std::vector<int>& others,
                                                  const KeypointSchema& schema,
                                                  const DataOptions& options, double overlap_iou,
                                                  const InputPoseSynthesizer& synthesizer,
                                                  uint64_t seed) {
  const PersonAnnotation& annotation = dataset.annotations[person];
  const cv::Size crop_size(options.input_width(), options.input_height());
  DeterministicRandom random = DeterministicRandom::ForKey({seed, 0});
  TrainingSample sample;
  sample.image_id = annotation.image_id;
  sample.annotation_id = annotation.id;
  sample.augmentation = SampleAugmentation(options, random);

  const double aspect = static_cast<double>(crop_size.width) / crop_size.height;
  const Box box = ScaleBox(FixAspectRatio(annotation.bbox, aspect),
                           options.box_scale() * sample.augmentation.scale);
  absl::StatusOr<CropTransform> transform =
      MakeCropTransform(box, sample.augmentation.rotation_degrees, crop_size);
  if (!transform.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("annotation ", annotation.id, ": ", transform.status().message()));
  }
  sample.crop = WarpCrop(image, *transform, crop_size);
  sample.target = TransformPose(transform->image_to_crop, annotation.keypoints);

  std::vector<const PersonAnnotation*> persons;
  int target = -1;
  for (int other : others) {
    if (other == person) target = static_cast<int>(persons.size());
    persons.push_back(&dataset.annotations[other]);
  }
  if (target < 0) {
    target = static_cast<int>(persons.size());
    persons.push_back(&annotation);
  }
  SynthesisInput input = TransformSynthesisInput(
      ImageSynthesisInput(
          persons, target, overlap_iou,
          options.synthesis_uses_box_area() ? AreaSource::kBox : AreaSource::kAnnotation,
          image.size()),
      transform->image_to_crop);
  if (options.synthesis_ignores_keypoints_outside_crop()) {
    input = DropKeypointsOutsideCrop(input, crop_size);
  }
  if (sample.augmentation.flip) {
    const std::vector<int> flip = FlipPermutation(schema);
    cv::flip(sample.crop, sample.crop, 1);
    sample.target = FlipPose(sample.target, crop_size.width, flip);
    input = FlipSynthesisInput(input, crop_size.width, flip);
  }
  DeterministicRandom synthesis_random = DeterministicRandom::ForKey({seed, 1});
  absl::StatusOr<SynthesizedPose> pose = synthesizer(input, &synthesis_random);
  if (!pose.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "annotation ", annotation.id, ": input-pose synthesis: ", pose.status().message()));
  }
  sample.input = std::move(pose->pose);
  sample.input_status = std::move(pose->status);
  return sample;
}

}  // namespace posefix
