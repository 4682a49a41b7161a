#include "posefix/model/refiner.h"

#include <torch/utils.h>

#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "opencv2/core.hpp"
#include "posefix/core/geometry.h"
#include "posefix/core/keypoint_schema.h"
#include "posefix/model/checkpoint.h"
#include "posefix/model/network.h"

namespace posefix {
namespace {

using ::testing::HasSubstr;

constexpr int kHeight = 64, kWidth = 64;

ModelOptions SmallModel() {
  ModelOptions options;
  options.set_resnet_depth(18);
  options.set_input_height(kHeight);
  options.set_input_width(kWidth);
  return options;
}

RefinerOptions Options(bool flip) {
  RefinerOptions options;
  options.flip_test = flip;
  options.flip_permutation = FlipPermutation(CocoSchema());
  options.device = "cpu";
  options.batch_size = 3;
  return options;
}

cv::Mat RandomCrop(int seed) {
  cv::Mat crop(kHeight, kWidth, CV_8UC3);
  cv::theRNG().state = seed;
  cv::randu(crop, cv::Scalar::all(0), cv::Scalar::all(255));
  return crop;
}

Pose RandomPose(int seed) {
  std::mt19937 random(seed);
  std::uniform_real_distribution<double> coordinate(4, kWidth - 5);
  Pose pose(17);
  for (Keypoint& k : pose) k = {coordinate(random), coordinate(random), 0.5};
  return pose;
}

std::unique_ptr<Refiner> Make(bool flip) {
  absl::StatusOr<std::unique_ptr<Refiner>> refiner =
      Refiner::Untrained(SmallModel(), Options(flip), 5);
  EXPECT_TRUE(refiner.ok()) << refiner.status();
  return std::move(refiner).value();
}

void ExpectNear(const Pose& a, const Pose& b, double tolerance) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t j = 0; j < a.size(); ++j) {
    EXPECT_NEAR(a[j].x, b[j].x, tolerance) << j;
    EXPECT_NEAR(a[j].y, b[j].y, tolerance) << j;
  }
}

TEST(RefinerTest, FlipTestAveragesWithTheMirroredRefinement) {
  const std::unique_ptr<Refiner> plain = Make(false), flipped = Make(true);
  EXPECT_EQ(plain->device(), "cpu");
  const std::vector<int> permutation = FlipPermutation(CocoSchema());
  std::vector<cv::Mat> crops;
  std::vector<Pose> poses;
  for (int i = 0; i < 4; ++i) {
    crops.push_back(RandomCrop(i));
    poses.push_back(RandomPose(i));
  }
  absl::StatusOr<std::vector<Pose>> with_flip = flipped->RefineCrops(crops, poses);
  ASSERT_TRUE(with_flip.ok()) << with_flip.status();
  ASSERT_EQ(with_flip->size(), 4u);
  for (int i = 0; i < 4; ++i) {
    cv::Mat mirrored;
    cv::flip(crops[i], mirrored, 1);
    const Pose direct = (*plain->RefineCrops({crops[i]}, {poses[i]}))[0];
    const Pose back =
        FlipPose((*plain->RefineCrops({mirrored}, {FlipPose(poses[i], kWidth, permutation)}))[0],
                 kWidth, permutation);
    Pose expected = direct;
    for (size_t j = 0; j < expected.size(); ++j) {
      expected[j].x = (direct[j].x + back[j].x) / 2;
      expected[j].y = (direct[j].y + back[j].y) / 2;
      EXPECT_EQ((*with_flip)[i][j].v, 0.5);  // scores are inherited
    }
    ExpectNear((*with_flip)[i], expected, 1e-3);
  }
}

TEST(RefinerTest, FlipTestMakesRefinementMirrorSymmetric) {
  const std::unique_ptr<Refiner> refiner = Make(true);
  const std::vector<int> permutation = FlipPermutation(CocoSchema());
  const cv::Mat crop = RandomCrop(9);
  cv::Mat mirrored;
  cv::flip(crop, mirrored, 1);
  const Pose pose = RandomPose(9);
  const Pose a = (*refiner->RefineCrops({crop}, {pose}))[0];
  const Pose b = (*refiner->RefineCrops({mirrored}, {FlipPose(pose, kWidth, permutation)}))[0];
  ExpectNear(a, FlipPose(b, kWidth, permutation), 1e-3);
}

TEST(RefinerTest, RefineInImageWorksInImagePixels) {
  const std::unique_ptr<Refiner> refiner = Make(true);
  cv::Mat image(300, 400, CV_8UC3);
  cv::randu(image, cv::Scalar::all(0), cv::Scalar::all(255));
  Pose pose = RandomPose(3);
  for (Keypoint& k : pose) {
    k.x = 150 + 2 * k.x;
    k.y = 80 + 2 * k.y;
    k.v = 0.9;
  }
  absl::StatusOr<std::vector<Pose>> refined = refiner->RefineInImage(image, {pose, pose});
  ASSERT_TRUE(refined.ok()) << refined.status();
  ASSERT_EQ(refined->size(), 2u);
  // The same crop through RefineCrops, mapped back by hand.
  const Box box = ScaleBox(FixAspectRatio(BoxFromKeypoints(pose), 1.0), 1.25);
  const CropTransform transform = *MakeCropTransform(box, 0, cv::Size(kWidth, kHeight));
  const Pose in_crop =
      (*refiner->RefineCrops({WarpCrop(image, transform, cv::Size(kWidth, kHeight))},
                             {TransformPose(transform.image_to_crop, pose)}))[0];
  ExpectNear((*refined)[0], TransformPose(transform.crop_to_image, in_crop), 1e-3);
  for (const Keypoint& k : (*refined)[1]) {
    EXPECT_EQ(k.v, 0.9);
    EXPECT_GE(k.x, box.x - 1);
    EXPECT_LE(k.x, box.x + box.width);
  }
}

TEST(RefinerTest, CheckpointedModelRefinesLikeTheOriginal) {
  torch::manual_seed(21);
  const ModelOptions model = SmallModel();
  auto net = std::make_shared<PoseFixNetImpl>(*ResolveModelOptions(model));
  const std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/refiner.ckpt";
  ASSERT_TRUE(SaveCheckpoint(path, model, *net, nullptr, 10).ok());
  absl::StatusOr<std::unique_ptr<Refiner>> original =
      Refiner::ForNetwork(net, model, Options(true));
  absl::StatusOr<std::unique_ptr<Refiner>> loaded = Refiner::FromCheckpoint(path, Options(true));
  ASSERT_TRUE(original.ok()) << original.status();
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ((*loaded)->model_options().input_height(), kHeight);
  const std::vector<cv::Mat> crops = {RandomCrop(1), RandomCrop(2)};
  const std::vector<Pose> poses = {RandomPose(1), RandomPose(2)};
  const std::vector<Pose> a = *(*original)->RefineCrops(crops, poses);
  const std::vector<Pose> b = *(*loaded)->RefineCrops(crops, poses);
  for (int i = 0; i < 2; ++i) ExpectNear(a[i], b[i], 1e-6);
}

TEST(RefinerTest, ErrorsNameTheInput) {
  RefinerOptions no_permutation = Options(true);
  no_permutation.flip_permutation.clear();
  EXPECT_THAT(std::string(Refiner::Untrained(SmallModel(), no_permutation, 1).status().message()),
              HasSubstr("flip_permutation"));
  RefinerOptions bad_device = Options(false);
  bad_device.device = "tpu";
  EXPECT_THAT(std::string(Refiner::Untrained(SmallModel(), bad_device, 1).status().message()),
              HasSubstr("RefinerOptions.device"));
  ModelOptions bad_model = SmallModel();
  bad_model.set_input_width(50);
  EXPECT_THAT(std::string(Refiner::Untrained(bad_model, Options(false), 1).status().message()),
              HasSubstr("input_width"));
  const std::unique_ptr<Refiner> refiner = Make(false);
  const cv::Mat small(32, 32, CV_8UC3, cv::Scalar::all(0));
  EXPECT_THAT(
      std::string(refiner->RefineCrops({RandomCrop(0), small}, {RandomPose(0), RandomPose(1)})
                      .status()
                      .message()),
      HasSubstr("crops[1]"));
  EXPECT_THAT(std::string(refiner->RefineCrops({RandomCrop(0)}, {Pose(5)}).status().message()),
              HasSubstr("poses[0]"));
  EXPECT_FALSE(refiner->RefineCrops({RandomCrop(0)}, {}).ok());
  EXPECT_THAT(
      std::string(Refiner::FromCheckpoint("/nonexistent.ckpt", Options(false)).status().message()),
      HasSubstr("/nonexistent.ckpt"));
}

// An untrained status head gives every status about the same probability
// (logits near 0): P(good) is about 0.2 for every keypoint.
std::unique_ptr<Refiner> WithStatusHead(RefinementPolicy policy, double keep_threshold) {
  ModelOptions model = SmallModel();
  model.mutable_status_head()->set_enabled(true);
  RefinerOptions options = Options(true);
  options.policy = policy;
  options.keep_threshold = keep_threshold;
  absl::StatusOr<std::unique_ptr<Refiner>> refiner = Refiner::Untrained(model, options, 5);
  EXPECT_TRUE(refiner.ok()) << refiner.status();
  return std::move(refiner).value();
}

TEST(RefinerTest, SelectivePolicyMovesOnlyKeypointsJudgedWrong) {
  const std::vector<cv::Mat> crops = {RandomCrop(1), RandomCrop(2)};
  const std::vector<Pose> poses = {RandomPose(1), RandomPose(2)};
  const std::vector<Pose> all =
      *WithStatusHead(RefinementPolicy::kReplaceAll, -1)->RefineCrops(crops, poses);
  // P(good) ~ 0.2 >= 0.1: every input keypoint is judged right and kept.
  const std::vector<Pose> kept =
      *WithStatusHead(RefinementPolicy::kSelective, 0.1)->RefineCrops(crops, poses);
  // P(good) ~ 0.2 < 0.3: every keypoint moves, as with the paper's policy.
  const std::vector<Pose> moved =
      *WithStatusHead(RefinementPolicy::kSelective, 0.3)->RefineCrops(crops, poses);
  for (int i = 0; i < 2; ++i) {
    for (int j = 0; j < 17; ++j) {
      EXPECT_EQ(kept[i][j].x, poses[i][j].x);
      EXPECT_EQ(kept[i][j].y, poses[i][j].y);
      EXPECT_EQ(moved[i][j].x, all[i][j].x);
      EXPECT_NE(all[i][j].x, poses[i][j].x);
      // The keypoint score is the head's P(good), whatever the policy.
      EXPECT_NEAR(all[i][j].v, 0.2, 0.01);
      EXPECT_EQ(kept[i][j].v, all[i][j].v);
    }
  }
  // In image pixels a kept keypoint is the input's, bit for bit.
  cv::Mat image(200, 160, CV_8UC3);
  cv::randu(image, cv::Scalar::all(0), cv::Scalar::all(255));
  Pose pose = RandomPose(3);
  for (Keypoint& k : pose) k = {k.x * 1.7 + 20.3, k.y * 2.1 + 10.7, k.v};
  const std::vector<Pose> in_image =
      *WithStatusHead(RefinementPolicy::kSelective, 0.1)->RefineInImage(image, {pose});
  for (int j = 0; j < 17; ++j) {
    EXPECT_EQ(in_image[0][j].x, pose[j].x);
    EXPECT_EQ(in_image[0][j].y, pose[j].y);
  }
}

TEST(RefinerTest, SelectiveNeedsAStatusHead) {
  RefinerOptions options = Options(false);
  options.policy = RefinementPolicy::kSelective;
  EXPECT_THAT(std::string(Refiner::Untrained(SmallModel(), options, 1).status().message()),
              HasSubstr("RefinerOptions: policy: selective refinement needs a model trained "
                        "with a status head"));
  EXPECT_EQ(*ParseRefinementPolicy("selective"), RefinementPolicy::kSelective);
  EXPECT_EQ(*ParseRefinementPolicy("all"), RefinementPolicy::kReplaceAll);
  EXPECT_THAT(std::string(ParseRefinementPolicy("some").status().message()),
              HasSubstr("unknown refinement policy \"some\""));
}

}  // namespace
}  // namespace posefix
