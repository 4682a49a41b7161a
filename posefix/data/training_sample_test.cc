#include "posefix/data/training_sample.h"

#include <cmath>

#include "gtest/gtest.h"
#include "opencv2/core.hpp"
#include "opencv2/imgproc.hpp"
#include "posefix/core/coco_io.h"
#include "posefix/core/keypoint_schema.h"

namespace posefix {
namespace {

// A synthesizer that returns the ground truth and records what it saw.
struct RecordingSynthesizer {
  std::vector<SynthesisInput> inputs;
  InputPoseSynthesizer Get() {
    return [this](const SynthesisInput& input,
                  DeterministicRandom*) -> absl::StatusOr<SynthesizedPose> {
      inputs.push_back(input);
      return SynthesizedPose{input.target, {}, {}};
    };
  }
};

// One image with two persons; person 0's left shoulder (keypoint 5) is a
// bright dot, everything else is dark.
CocoDataset TwoPersons() {
  CocoDataset dataset;
  dataset.images.push_back({1, "synthetic.png", 400, 300, {}});
  dataset.categories.push_back({1, "person", {}, {}});
  for (int p = 0; p < 2; ++p) {
    PersonAnnotation person;
    person.id = 10 + p;
    person.image_id = 1;
    person.bbox = {100.0 + 120 * p, 60, 80, 160};
    person.area = 0.53 * 80 * 160;
    person.keypoints.assign(17, Keypoint{});
    person.keypoints[5] = {130.0 + 120 * p, 100, 2};
    person.keypoints[6] = {150.0 + 120 * p, 101, 2};
    person.keypoints[11] = {135.0 + 120 * p, 170, 1};
    person.num_keypoints = 3;
    dataset.annotations.push_back(person);
  }
  return dataset;
}

cv::Mat DotImage(const CocoDataset& dataset) {
  cv::Mat image(300, 400, CV_8UC3, cv::Scalar::all(0));
  const Keypoint& shoulder = dataset.annotations[0].keypoints[5];
  cv::circle(image, cv::Point(static_cast<int>(shoulder.x), static_cast<int>(shoulder.y)), 3,
             cv::Scalar::all(255), cv::FILLED);
  return image;
}

cv::Point2d BrightestPoint(const cv::Mat& crop) {
  cv::Mat gray;
  cv::cvtColor(crop, gray, cv::COLOR_BGR2GRAY);
  cv::Moments moments = cv::moments(gray, false);
  return {moments.m10 / moments.m00, moments.m01 / moments.m00};
}

TEST(DataOptionsTest, DefaultsAreTheReleases) {
  const DataOptions options = DataOptions();
  EXPECT_EQ(options.input_width(), 192);
  EXPECT_EQ(options.input_height(), 256);
  EXPECT_DOUBLE_EQ(options.box_scale(), 1.25);
  EXPECT_DOUBLE_EQ(options.scale_sigma(), 0.3);
  EXPECT_DOUBLE_EQ(options.rotation_sigma(), 40);
  EXPECT_DOUBLE_EQ(options.rotation_limit(), 80);
  EXPECT_DOUBLE_EQ(options.rotation_probability(), 0.6);
  EXPECT_DOUBLE_EQ(options.flip_probability(), 0.5);
  EXPECT_TRUE(ValidateDataOptions(options, "spec").ok());
}

TEST(DataOptionsTest, InvalidOptionsNameTheField) {
  DataOptions options = DataOptions();
  options.set_flip_probability(1.5);
  absl::Status status = ValidateDataOptions(options, "spec.pbtxt");
  EXPECT_EQ(status.message(), "spec.pbtxt: data.flip_probability: must be in [0, 1], got 1.5");
  options = DataOptions();
  options.set_num_threads(-1);
  EXPECT_NE(ValidateDataOptions(options, "s").message().find("data.num_threads"),
            std::string::npos);
  options = DataOptions();
  options.set_input_height(32000);
  EXPECT_NE(
      ValidateDataOptions(options, "s").message().find("data.input_height: must be at most 4096"),
      std::string::npos);
}

// Explicit presence: 0 is a value, not "the default".
TEST(DataOptionsTest, ZeroTurnsAnAugmentationOff) {
  DataOptions options;
  options.set_flip_probability(0);
  EXPECT_DOUBLE_EQ(options.flip_probability(), 0);
  EXPECT_DOUBLE_EQ(DataOptions().flip_probability(), 0.5);
  DeterministicRandom random(5);
  for (int i = 0; i < 1000; ++i) ASSERT_FALSE(SampleAugmentation(options, random).flip);

  const DataOptions none = WithoutAugmentation(DataOptions());
  EXPECT_TRUE(ValidateDataOptions(none, "spec").ok());
  for (int i = 0; i < 1000; ++i) {
    const Augmentation augmentation = SampleAugmentation(none, random);
    ASSERT_EQ(augmentation.scale, 1);
    ASSERT_EQ(augmentation.rotation_degrees, 0);
    ASSERT_FALSE(augmentation.flip);
  }
}

TEST(DataOptionsTest, CropAtTheModelsSize) {
  DataOptions options;
  options.set_flip_probability(0.25);
  const absl::StatusOr<DataOptions> cropped = DataOptionsForCrop(options, 96, 64, "spec.pbtxt");
  ASSERT_TRUE(cropped.ok()) << cropped.status();
  EXPECT_EQ(cropped->input_height(), 96);
  EXPECT_EQ(cropped->input_width(), 64);
  EXPECT_DOUBLE_EQ(cropped->flip_probability(), 0.25);
  EXPECT_DOUBLE_EQ(cropped->box_scale(), 1.25);

  options.set_input_height(128);
  EXPECT_EQ(DataOptionsForCrop(options, 96, 64, "spec.pbtxt").status().message(),
            "spec.pbtxt: data.input_height: must be unset or equal model.input_height (96), got "
            "128");
  DataOptions bad;
  bad.set_box_scale(0);
  EXPECT_EQ(DataOptionsForCrop(bad, 96, 64, "spec.pbtxt").status().message(),
            "spec.pbtxt: data.box_scale: must be positive");
}

TEST(AugmentationTest, FollowsTheReleasesDistributions) {
  const DataOptions options = DataOptions();
  DeterministicRandom random(3);
  int rotated = 0, flipped = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    const Augmentation augmentation = SampleAugmentation(options, random);
    ASSERT_GE(augmentation.scale, 0.7);
    ASSERT_LE(augmentation.scale, 1.3);
    ASSERT_LE(std::fabs(augmentation.rotation_degrees), 80);
    rotated += augmentation.rotation_degrees != 0;
    flipped += augmentation.flip;
  }
  EXPECT_NEAR(rotated / static_cast<double>(n), 0.6, 0.02);
  EXPECT_NEAR(flipped / static_cast<double>(n), 0.5, 0.02);
}

TEST(TrainingSampleTest, CropAndKeypointsStayAlignedUnderEveryAugmentation) {
  const CocoDataset dataset = TwoPersons();
  const cv::Mat image = DotImage(dataset);
  DataOptions options = DataOptions();
  options.set_rotation_probability(1);
  RecordingSynthesizer synthesizer;
  int flipped = 0;
  for (uint64_t seed = 0; seed < 12; ++seed) {
    absl::StatusOr<TrainingSample> sample = MakeTrainingSample(
        image, dataset, 0, {0, 1}, CocoSchema(), options, 0.1, synthesizer.Get(), seed);
    ASSERT_TRUE(sample.ok()) << sample.status();
    ASSERT_EQ(sample->crop.size(), cv::Size(192, 256));
    // Flipping moves the left shoulder to the right shoulder's slot.
    const int dot_joint = sample->augmentation.flip ? 6 : 5;
    flipped += sample->augmentation.flip;
    const cv::Point2d dot = BrightestPoint(sample->crop);
    EXPECT_NEAR(dot.x, sample->target[dot_joint].x, 1.0) << "seed " << seed;
    EXPECT_NEAR(dot.y, sample->target[dot_joint].y, 1.0) << "seed " << seed;
    EXPECT_EQ(sample->target[dot_joint].v, 2);
    EXPECT_EQ(sample->input, sample->target);
    EXPECT_EQ(sample->annotation_id, 10);
  }
  EXPECT_GT(flipped, 0);
  EXPECT_LT(flipped, 12);
}

TEST(TrainingSampleTest, NeighboursAreTransformedLikeTheTarget) {
  const CocoDataset dataset = TwoPersons();
  const cv::Mat image = DotImage(dataset);
  DataOptions options = DataOptions();
  options = WithoutAugmentation(options);
  RecordingSynthesizer synthesizer;
  absl::StatusOr<TrainingSample> sample = MakeTrainingSample(
      image, dataset, 0, {0, 1}, CocoSchema(), options, 0.0, synthesizer.Get(), 5);
  ASSERT_TRUE(sample.ok()) << sample.status();
  ASSERT_EQ(synthesizer.inputs.size(), 1u);
  const SynthesisInput& input = synthesizer.inputs[0];
  // The two boxes do not overlap, so the neighbour counts only with IoU 0.
  ASSERT_EQ(input.neighbours.size(), 1u);
  const Pose& neighbour = input.neighbours[0];
  ASSERT_EQ(neighbour.size(), 17u);
  // Both persons' shoulders are 120 image pixels apart; the crop scales by
  // 256 / (160 * 1.25).
  const double scale = 256.0 / (160 * 1.25);
  EXPECT_NEAR(neighbour[5].x - sample->target[5].x, 120 * scale, 1e-9);
  EXPECT_NEAR(neighbour[5].y - sample->target[5].y, 0, 1e-9);
  EXPECT_EQ(input.target, sample->target);
  // The annotation's area, scaled into the crop.
  EXPECT_NEAR(input.area, dataset.annotations[0].area * scale * scale, 1e-6);

  // The neighbour's keypoints lie right of the 192-wide crop: the release's
  // synthesis sees them unlabelled, the target's (inside) stay labelled.
  ASSERT_GT(neighbour[5].x, 192);
  EXPECT_EQ(neighbour[5].v, 2);
  options.set_synthesis_ignores_keypoints_outside_crop(true);
  ASSERT_TRUE(MakeTrainingSample(image, dataset, 0, {0, 1}, CocoSchema(), options, 0.0,
                                 synthesizer.Get(), 5)
                  .ok());
  const SynthesisInput& release = synthesizer.inputs[1];
  EXPECT_EQ(release.neighbours[0][5].v, 0);
  EXPECT_EQ(release.neighbours[0][6].v, 0);
  EXPECT_EQ(release.target, sample->target);
}

TEST(TrainingSampleTest, OverlapDecidesWhoIsANeighbour) {
  const CocoDataset dataset = TwoPersons();
  DataOptions options = DataOptions();
  RecordingSynthesizer synthesizer;
  ASSERT_TRUE(MakeTrainingSample(DotImage(dataset), dataset, 0, {0, 1}, CocoSchema(), options, 0.1,
                                 synthesizer.Get(), 5)
                  .ok());
  EXPECT_TRUE(synthesizer.inputs[0].neighbours.empty());
}

TEST(TrainingSampleTest, RealSynthesisMovesKeypointsWithinTheCrop) {
  absl::StatusOr<Synthesizer> synthesizer = Synthesizer::Create(ErrorModel(), CocoSchema());
  ASSERT_TRUE(synthesizer.ok()) << synthesizer.status();
  const CocoDataset dataset = TwoPersons();
  const DataOptions options = DataOptions();
  const std::vector<int> flip = FlipPermutation(CocoSchema());
  int moved = 0, placed = 0;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    absl::StatusOr<TrainingSample> sample =
        MakeTrainingSample(DotImage(dataset), dataset, 0, {0, 1}, CocoSchema(), options, 0.1,
                           SynthesizerFunction(&*synthesizer), seed);
    ASSERT_TRUE(sample.ok()) << sample.status();
    ASSERT_EQ(sample->input.size(), 17u);
    // The synthesizer's status of each keypoint travels with the sample (the
    // status head's labels): a placed point has one of the five statuses.
    ASSERT_EQ(sample->input_status.size(), 17u);
    for (int j = 0; j < 17; ++j) {
      if (sample->target[j].v > 0 && sample->input[j].v > 0) {
        EXPECT_LE(static_cast<int>(sample->input_status[j]),
                  static_cast<int>(SynthesisStatus::kMiss));
      }
    }
    const double scale = 256.0 / (160 * 1.25 * sample->augmentation.scale);
    const double crop_area = dataset.annotations[0].area * scale * scale;
    for (int j = 0; j < 17; ++j) {
      const Keypoint& target = sample->target[j];
      const Keypoint& input = sample->input[j];
      if (target.v == 0 || input.v == 0) continue;  // unlabelled or dropped
      ++placed;
      moved += input.x != target.x || input.y != target.y;
      // With no neighbour, every status stays within a miss distance of the
      // joint or of its labelled counterpart.
      double nearest = std::hypot(input.x - target.x, input.y - target.y);
      const Keypoint& counterpart = sample->target[flip[j]];
      if (counterpart.v > 0) {
        nearest = std::min(nearest, std::hypot(input.x - counterpart.x, input.y - counterpart.y));
      }
      EXPECT_LE(nearest, KsDistance(0.1, CocoSchema().sigmas(j), crop_area) + 1e-9)
          << "seed " << seed << " joint " << j;
    }
  }
  EXPECT_GT(placed, 40);
  EXPECT_GT(moved, 0);
}

TEST(TrainingSampleTest, DeterministicForASeed) {
  const CocoDataset dataset = TwoPersons();
  const cv::Mat image = DotImage(dataset);
  const DataOptions options = DataOptions();
  RecordingSynthesizer synthesizer;
  auto a = MakeTrainingSample(image, dataset, 1, {0, 1}, CocoSchema(), options, 0.1,
                              synthesizer.Get(), 77);
  auto b = MakeTrainingSample(image, dataset, 1, {0, 1}, CocoSchema(), options, 0.1,
                              synthesizer.Get(), 77);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->target, b->target);
  EXPECT_EQ(cv::norm(a->crop, b->crop, cv::NORM_L1), 0);
  EXPECT_EQ(synthesizer.inputs[0].target, synthesizer.inputs[1].target);
}

TEST(TrainingSampleTest, SynthesizerErrorsPropagate) {
  const CocoDataset dataset = TwoPersons();
  InputPoseSynthesizer failing = [](const SynthesisInput&,
                                    DeterministicRandom*) -> absl::StatusOr<SynthesizedPose> {
    return absl::InternalError("no candidate");
  };
  auto sample = MakeTrainingSample(DotImage(dataset), dataset, 0, {0, 1}, CocoSchema(),
                                   DataOptions(), 0.1, failing, 1);
  EXPECT_FALSE(sample.ok());
}

TEST(TrainingSampleTest, TrainablePersonsSkipCrowdsAndUnlabelled) {
  absl::StatusOr<CocoDataset> dataset =
      ReadCocoDataset("testdata/coco/annotations/person_keypoints_val2017_fixture.json");
  ASSERT_TRUE(dataset.ok()) << dataset.status();
  const std::vector<int> persons = TrainablePersons(*dataset);
  EXPECT_FALSE(persons.empty());
  EXPECT_LT(persons.size(), dataset->annotations.size());
  for (int p : persons) {
    EXPECT_FALSE(dataset->annotations[p].iscrowd);
    EXPECT_GT(CountLabelled(dataset->annotations[p].keypoints), 0);
  }
}

}  // namespace
}  // namespace posefix
