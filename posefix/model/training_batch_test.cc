#include "posefix/model/training_batch.h"

#include <vector>

#include "gtest/gtest.h"

namespace posefix {
namespace {

TrainingSample MakeSample(int height, int width, int joints, uint8_t value) {
  TrainingSample sample;
  sample.crop = cv::Mat(height, width, CV_8UC3, cv::Scalar(value, value + 1, value + 2));
  for (int j = 0; j < joints; ++j) {
    sample.target.push_back({10.0 + j, 20.0 + j, j == 0 ? 0.0 : 2.0});
    sample.input.push_back({11.0 + j, 21.0 + j, j == 1 ? 0.0 : 1.0});
  }
  return sample;
}

TEST(TrainingBatchTest, PacksPixelsAndPoses) {
  const std::vector<TrainingSample> samples = {MakeSample(64, 32, 17, 10),
                                               MakeSample(64, 32, 17, 50)};
  absl::StatusOr<PackedBatch> packed = PackSamples(samples, 64, 32, 17);
  ASSERT_TRUE(packed.ok()) << packed.status();
  EXPECT_EQ(packed->crops.sizes(), (at::IntArrayRef{2, 64, 32, 3}));
  EXPECT_EQ(packed->crops[1][5][7][2].item<int>(), 52);
  // Input w: 1 where a point was placed (v > 0), 0 where it was dropped.
  EXPECT_EQ(packed->input_poses[0][1][2].item<float>(), 0.0f);
  EXPECT_EQ(packed->input_poses[0][2][2].item<float>(), 1.0f);
  EXPECT_EQ(packed->input_poses[0][2][0].item<float>(), 13.0f);
  // Targets keep the visibility flag.
  EXPECT_EQ(packed->targets[0][0][2].item<float>(), 0.0f);
  EXPECT_EQ(packed->targets[0][3][2].item<float>(), 2.0f);
}

TEST(TrainingBatchTest, PacksTheInputStatusesTheHeadLearns) {
  std::vector<TrainingSample> samples = {MakeSample(64, 32, 17, 10), MakeSample(64, 32, 17, 50)};
  samples[0].input_status.assign(17, SynthesisStatus::kGood);
  samples[0].input_status[2] = SynthesisStatus::kSwap;
  samples[0].input_status[3] = SynthesisStatus::kDropped;
  samples[0].input_status[4] = SynthesisStatus::kUnlabelled;
  // samples[1] carries no statuses (a synthesizer that does not say).
  absl::StatusOr<PackedBatch> packed = PackSamples(samples, 64, 32, 17);
  ASSERT_TRUE(packed.ok()) << packed.status();
  EXPECT_EQ(packed->input_status[0][0].item<int64_t>(), 0);
  EXPECT_EQ(packed->input_status[0][2].item<int64_t>(), 3);
  EXPECT_EQ(packed->input_status[0][3].item<int64_t>(), kNoStatus);
  EXPECT_EQ(packed->input_status[0][4].item<int64_t>(), kNoStatus);
  EXPECT_EQ(packed->input_status[1][0].item<int64_t>(), kNoStatus);
  samples[1].input_status.assign(3, SynthesisStatus::kGood);
  EXPECT_FALSE(PackSamples(samples, 64, 32, 17).ok());
}

TEST(TrainingBatchTest, RejectsWrongCropSizeNamingTheSample) {
  std::vector<TrainingSample> samples = {MakeSample(64, 32, 17, 0), MakeSample(32, 32, 17, 0)};
  samples[1].annotation_id = 77;
  absl::StatusOr<PackedBatch> packed = PackSamples(samples, 64, 32, 17);
  ASSERT_FALSE(packed.ok());
  EXPECT_NE(packed.status().message().find("samples[1] (annotation 77)"), std::string::npos)
      << packed.status();
}

TEST(TrainingBatchTest, EncodesInputsAndTargetsWithTheCodec) {
  ModelOptions model;
  model.set_input_height(64);
  model.set_input_width(32);
  model.set_resnet_depth(18);
  const ResolvedModelOptions resolved = *ResolveModelOptions(model);
  const auto codec = PoseCodec::Create(resolved);
  const std::vector<TrainingSample> samples = {MakeSample(64, 32, 17, 10)};
  const PackedBatch packed = *PackSamples(samples, 64, 32, 17);
  const EncodedBatch encoded = EncodeBatch(packed, *codec, at::kCPU);
  EXPECT_EQ(encoded.size, 1);
  EXPECT_EQ(encoded.input.sizes(), (at::IntArrayRef{1, 20, 64, 32}));
  EXPECT_TRUE(encoded.input.equal(codec->EncodeInput(packed.crops, packed.input_poses)));
  // Unlabelled ground truth carries no loss.
  EXPECT_EQ(encoded.targets.weights[0][0].item<float>(), 0.0f);
  EXPECT_EQ(encoded.targets.weights[0][3].item<float>(), 1.0f);
}

}  // namespace
}  // namespace posefix
