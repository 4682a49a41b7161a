#include "posefix/data/training_sample.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "opencv2/core.hpp"
#include "posefix/core/coco_io.h"
#include "posefix/core/file_util.h"
#include "posefix/core/geometry.h"
#include "posefix/core/keypoint_schema.h"

namespace posefix {
namespace {

// `box` moved into the crop: its centre transformed, its sides scaled. The
// rotation is left out so that the box area, from which the synthesis takes
// its error distances, does not grow with the augmentation's rotation.
Box TransformBox(const cv::Matx23d& transform, const Box& box) {
  const double scale = std::hypot(transform(0, 0), transform(0, 1));
  const cv::Point2d center = Apply(transform, {box.center_x(), box.center_y()});
  const double width = box.width * scale, height = box.height * scale;
  return Box{center.x - width / 2, center.y - height / 2, width, height};
}

Box FlipBox(const Box& box, double width) {
  return Box{width - 1 - (box.x + box.width), box.y, box.width, box.height};
}

}  // namespace

DataOptions ResolveDataOptions(DataOptions options) {
  if (options.input_width() == 0) options.set_input_width(192);
  if (options.input_height() == 0) options.set_input_height(256);
  if (options.box_scale() == 0) options.set_box_scale(1.25);
  if (options.scale_sigma() == 0) options.set_scale_sigma(0.3);
  if (options.scale_limit() == 0) options.set_scale_limit(0.3);
  if (options.rotation_sigma() == 0) options.set_rotation_sigma(40);
  if (options.rotation_limit() == 0) options.set_rotation_limit(80);
  if (options.rotation_probability() == 0) options.set_rotation_probability(0.6);
  if (options.flip_probability() == 0) options.set_flip_probability(0.5);
  if (options.num_threads() == 0) options.set_num_threads(2);
  if (options.queue_capacity() == 0) options.set_queue_capacity(64);
  return options;
}

absl::Status ValidateDataOptions(const DataOptions& options, absl::string_view source) {
  auto field = [](const char* name) { return absl::StrCat("data.", name); };
  if (options.input_width() <= 0 || options.input_height() <= 0) {
    return FieldError(source, field("input_width"), "crop size must be positive");
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
    const PersonAnnotation& annotation = dataset.annotations[i];
    if (annotation.iscrowd || CountLabelled(annotation.keypoints) == 0) continue;
    if (!(annotation.bbox.width > 0 && annotation.bbox.height > 0)) continue;
    persons.push_back(i);
  }
  return persons;
}

absl::StatusOr<TrainingSample> MakeTrainingSample(const cv::Mat& image, const CocoDataset& dataset,
                                                  int person, const std::vector<int>& others,
                                                  const KeypointSchema& schema,
                                                  const DataOptions& options,
                                                  const InputPoseSynthesizer& synthesizer,
                                                  uint64_t seed) {
  const PersonAnnotation& annotation = dataset.annotations[person];
  const cv::Size crop_size(options.input_width(), options.input_height());
  DeterministicRandom random(MixSeed({seed, 0}));
  TrainingSample sample;
  sample.image_id = annotation.image_id;
  sample.annotation_id = annotation.id;
  if (!options.no_augmentation()) sample.augmentation = SampleAugmentation(options, random);

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
  Box target_box = TransformBox(transform->image_to_crop, annotation.bbox);
  std::vector<Pose> neighbours;
  std::vector<Box> neighbour_boxes;
  for (int other : others) {
    if (other == person) continue;
    const PersonAnnotation& neighbour = dataset.annotations[other];
    if (neighbour.iscrowd || CountLabelled(neighbour.keypoints) == 0) continue;
    neighbours.push_back(TransformPose(transform->image_to_crop, neighbour.keypoints));
    neighbour_boxes.push_back(TransformBox(transform->image_to_crop, neighbour.bbox));
  }
  if (sample.augmentation.flip) {
    const std::vector<int> flip = FlipPermutation(schema);
    cv::flip(sample.crop, sample.crop, 1);
    sample.target = FlipPose(sample.target, crop_size.width, flip);
    target_box = FlipBox(target_box, crop_size.width);
    for (Pose& pose : neighbours) pose = FlipPose(pose, crop_size.width, flip);
    for (Box& neighbour_box : neighbour_boxes) {
      neighbour_box = FlipBox(neighbour_box, crop_size.width);
    }
  }
  SynthesisRequest request;
  request.target = &sample.target;
  request.neighbours = &neighbours;
  request.neighbour_boxes = &neighbour_boxes;
  request.target_box = target_box;
  request.seed = MixSeed({seed, 1});
  absl::StatusOr<Pose> input = synthesizer(request);
  if (!input.ok()) return input.status();
  sample.input = *std::move(input);
  return sample;
}

}  // namespace posefix
