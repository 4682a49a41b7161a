// A small end-to-end check of the training path: on a few real crops with
// displaced input keypoints, the loss falls and the refined keypoints move to
// the ground truth.

#include <chrono>
#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <ATen/Parallel.h>
#include <torch/optim/adam.h>
#include <torch/utils.h>

#include "gtest/gtest.h"
#include "opencv2/imgcodecs.hpp"
#include "posefix/core/coco_io.h"
#include "posefix/core/elapsed.h"
#include "posefix/core/geometry.h"
#include "posefix/model/codec.h"
#include "posefix/model/network.h"
#include "posefix/model/refiner.h"

namespace posefix {
namespace {

constexpr int kHeight = 96, kWidth = 64;  // multiples of 32
constexpr int kPersons = 8;
constexpr int kSteps = 150;

struct Sample {
  cv::Mat crop;
  Pose truth;  // crop pixels, v = COCO visibility
  Pose input;  // displaced, crop pixels
};

double MeanError(const std::vector<Pose>& poses, const std::vector<Sample>& samples) {
  double sum = 0;
  int count = 0;
  for (size_t i = 0; i < samples.size(); ++i) {
    for (size_t j = 0; j < poses[i].size(); ++j) {
      const Keypoint& t = samples[i].truth[j];
      if (t.v <= 0 || t.x < 0 || t.y < 0 || t.x > kWidth - 1 || t.y > kHeight - 1) continue;
      sum += std::hypot(poses[i][j].x - t.x, poses[i][j].y - t.y);
      ++count;
    }
  }
  return sum / count;
}

std::vector<Sample> LoadSamples() {
  absl::StatusOr<CocoDataset> dataset =
      ReadCocoDataset("testdata/coco/annotations/person_keypoints_val2017_fixture.json");
  EXPECT_TRUE(dataset.ok()) << dataset.status();
  const auto images = IndexImages(*dataset);
  std::mt19937 random(17);
  std::uniform_real_distribution<double> angle(0, 2 * CV_PI), length(3, 6);
  std::vector<Sample> samples;
  for (const PersonAnnotation& person : dataset->annotations) {
    if (person.iscrowd || CountLabelled(person.keypoints) < 12) continue;
    const ImageInfo& info = dataset->images[images.at(person.image_id)];
    const cv::Mat image = cv::imread("testdata/coco/val2017/" + info.file_name, cv::IMREAD_COLOR);
    EXPECT_FALSE(image.empty()) << info.file_name;
    const Box box = ScaleBox(FixAspectRatio(person.bbox, double{kWidth} / kHeight), 1.25);
    const CropTransform transform = *MakeCropTransform(box, 0, cv::Size(kWidth, kHeight));
    Sample sample;
    sample.crop = WarpCrop(image, transform, cv::Size(kWidth, kHeight));
    sample.truth = TransformPose(transform.image_to_crop, person.keypoints);
    sample.input = sample.truth;
    for (Keypoint& k : sample.input) {
      if (k.v > 0) {
        const double a = angle(random), r = length(random);
        k.x += r * std::cos(a);
        k.y += r * std::sin(a);
      } else {
        k = {kWidth / 2.0, kHeight / 2.0, 0};  // unlabelled: an input point, no loss
      }
    }
    samples.push_back(sample);
    if (static_cast<int>(samples.size()) == kPersons) break;
  }
  return samples;
}

TEST(OverfitTest, RefinedKeypointsReachTheGroundTruth) {
  const auto start = std::chrono::steady_clock::now();
  at::set_num_threads(2);
  torch::manual_seed(1);
  const std::vector<Sample> samples = LoadSamples();
  ASSERT_EQ(static_cast<int>(samples.size()), kPersons);

  ModelOptions model;
  model.set_resnet_depth(18);
  model.set_input_height(kHeight);
  model.set_input_width(kWidth);
  const ResolvedModelOptions resolved = *ResolveModelOptions(model);
  auto net = std::make_shared<PoseFixNetImpl>(resolved);
  const std::unique_ptr<PoseCodec> codec = PoseCodec::Create(resolved);

  torch::Tensor pixels = torch::empty({kPersons, kHeight, kWidth, 3}, torch::kByte);
  torch::Tensor inputs = torch::empty({kPersons, 17, 3});
  torch::Tensor truths = torch::empty({kPersons, 17, 3});
  for (int i = 0; i < kPersons; ++i) {
    std::memcpy(pixels[i].data_ptr<uint8_t>(), samples[i].crop.data, kHeight * kWidth * 3);
    for (int j = 0; j < 17; ++j) {
      // As the Refiner does at test time, every input keypoint is rendered.
      inputs[i][j] = torch::tensor({samples[i].input[j].x, samples[i].input[j].y, 1.0});
      truths[i][j] = torch::tensor(
          {samples[i].truth[j].x, samples[i].truth[j].y, samples[i].truth[j].v});
    }
  }
  const torch::Tensor network_input = codec->EncodeInput(pixels, inputs);
  const TrainingTargets targets = codec->EncodeTargets(truths);

  torch::optim::Adam adam(net->parameters(), torch::optim::AdamOptions(1e-3));
  net->train();
  std::vector<double> losses;
  for (int step = 0; step < kSteps; ++step) {
    adam.zero_grad();
    const Losses loss = codec->Loss(net->forward(network_input), targets);
    loss.total.backward();
    adam.step();
    losses.push_back(loss.total.item<double>());
    if (step % 10 == 0) {
      std::fprintf(stderr, "step %d loss %.4f %.1f s\n", step, losses.back(), SecondsSince(start));
    }
  }
  const double first = (losses[0] + losses[1] + losses[2]) / 3;
  const double last = (losses[kSteps - 1] + losses[kSteps - 2] + losses[kSteps - 3]) / 3;
  EXPECT_LT(last, 0.5 * first) << "loss " << first << " -> " << last;

  RefinerOptions options;
  options.flip_test = false;  // trained without flip augmentation
  options.device = "cpu";
  absl::StatusOr<std::unique_ptr<Refiner>> refiner = Refiner::ForNetwork(net, model, options);
  ASSERT_TRUE(refiner.ok()) << refiner.status();
  std::vector<cv::Mat> crops;
  std::vector<Pose> input_poses;
  for (const Sample& sample : samples) {
    crops.push_back(sample.crop);
    input_poses.push_back(sample.input);
  }
  absl::StatusOr<std::vector<Pose>> refined = (*refiner)->RefineCrops(crops, input_poses);
  ASSERT_TRUE(refined.ok()) << refined.status();
  const double before = MeanError(input_poses, samples);
  const double after = MeanError(*refined, samples);
  const double seconds = SecondsSince(start);
  std::printf("loss %.3f -> %.3f; mean keypoint error %.2f px -> %.2f px; %.1f s\n", first, last,
              before, after, seconds);
  EXPECT_LT(after, 0.4 * before);
  EXPECT_LT(after, 2.0);  // crop pixels; one output cell is 4
}

}  // namespace
}  // namespace posefix
