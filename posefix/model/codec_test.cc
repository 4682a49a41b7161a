#include "posefix/model/codec.h"

#include <cmath>
#include <limits>
#include <memory>

#include "gtest/gtest.h"

namespace posefix {
namespace {

// A tiny crop: 8x8 input pixels, 2x2 output cells.
ResolvedModelOptions TinyOptions() {
  ResolvedModelOptions options = *ResolveModelOptions(ModelOptions());
  options.input_height = 8;
  options.input_width = 8;
  options.num_keypoints = 1;
  options.input_sigma = 2;
  options.output_sigma = 1;
  return options;
}

at::Tensor Poses(std::initializer_list<float> values, int64_t joints) {
  return at::tensor(std::vector<float>(values)).view({-1, joints, 3});
}

// Logits whose softmax is [0.1 0.2; 0.3 0.4] (rows are y).
at::Tensor KnownLogits() {
  return at::log(at::tensor({0.1f, 0.2f, 0.3f, 0.4f})).view({1, 1, 2, 2});
}

TEST(SoftArgmaxTest, MatchesHandComputedExpectation) {
  const at::Tensor coords = SoftArgmax(KnownLogits());
  ASSERT_EQ(coords.sizes(), at::IntArrayRef({1, 1, 2}));
  EXPECT_NEAR(coords[0][0][0].item<float>(), 0.2 + 0.4, 1e-6);  // x
  EXPECT_NEAR(coords[0][0][1].item<float>(), 0.3 + 0.4, 1e-6);  // y
}

TEST(SoftArgmaxTest, IsInvariantToAConstantAndFindsSharpPeaks) {
  const at::Tensor shifted = SoftArgmax(KnownLogits() + 1000);
  EXPECT_NEAR(shifted[0][0][0].item<float>(), 0.6, 1e-5);
  at::Tensor logits = at::zeros({2, 3, 5, 7});
  logits[1][2][4][6] = 100;
  const at::Tensor coords = SoftArgmax(logits);
  EXPECT_NEAR(coords[1][2][0].item<float>(), 6, 1e-4);
  EXPECT_NEAR(coords[1][2][1].item<float>(), 4, 1e-4);
  EXPECT_NEAR(coords[0][0][0].item<float>(), 3, 1e-5);  // uniform: the centre
  EXPECT_NEAR(coords[0][0][1].item<float>(), 2, 1e-5);
}

TEST(BilinearOneHotTest, InteriorWeightsAreBilinear) {
  const at::Tensor target = BilinearOneHot(at::tensor({0.25f, 0.5f}).view({1, 1, 2}), 2, 2);
  EXPECT_NEAR(target[0][0][0][0].item<float>(), 0.75 * 0.5, 1e-6);
  EXPECT_NEAR(target[0][0][0][1].item<float>(), 0.25 * 0.5, 1e-6);
  EXPECT_NEAR(target[0][0][1][0].item<float>(), 0.75 * 0.5, 1e-6);
  EXPECT_NEAR(target[0][0][1][1].item<float>(), 0.25 * 0.5, 1e-6);
}

TEST(BilinearOneHotTest, DropsNeighboursOutsideAndRenormalizes) {
  // x = 1.5 on a 2-wide map: column 2 is outside, column 1 keeps all of x.
  const at::Tensor right = BilinearOneHot(at::tensor({1.5f, 0.25f}).view({1, 1, 2}), 2, 2);
  EXPECT_NEAR(right[0][0][0][1].item<float>(), 0.75, 1e-6);
  EXPECT_NEAR(right[0][0][1][1].item<float>(), 0.25, 1e-6);
  EXPECT_NEAR(right[0][0][0][0].item<float>(), 0, 1e-7);
  EXPECT_NEAR(right.sum().item<float>(), 1, 1e-6);
  // Negative coordinates: only the cell (0, 0) is inside.
  const at::Tensor corner = BilinearOneHot(at::tensor({-0.5f, -0.25f}).view({1, 1, 2}), 3, 3);
  EXPECT_NEAR(corner[0][0][0][0].item<float>(), 1, 1e-6);
  EXPECT_NEAR(corner.sum().item<float>(), 1, 1e-6);
  // Bottom-right corner exactly on the last cell.
  const at::Tensor last = BilinearOneHot(at::tensor({2.0f, 2.0f}).view({1, 1, 2}), 3, 3);
  EXPECT_NEAR(last[0][0][2][2].item<float>(), 1, 1e-6);
  // Nothing inside: an all-zero map, no NaN.
  const at::Tensor outside =
      BilinearOneHot(at::tensor({5.f, 5.f, -3.f, 0.f, std::numeric_limits<float>::quiet_NaN(), 1.f})
                         .view({1, 3, 2}),
                     3, 3);
  EXPECT_EQ(outside.abs().sum().item<float>(), 0);
}

TEST(RenderTest, GaussianMatchesTheFormulaAndSkipsAbsentKeypoints) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const at::Tensor maps =
      RenderGaussianHeatmaps(Poses({3, 2, 1, 5, 5, 0, nan, 1, 1}, 3), 6, 8, 1.5, 255);
  ASSERT_EQ(maps.sizes(), at::IntArrayRef({1, 3, 6, 8}));
  EXPECT_NEAR(maps[0][0][2][3].item<float>(), 255, 1e-3);
  const double expected = 255 * std::exp(-(1.0 * 1 + 2.0 * 2) / (2 * 1.5 * 1.5));
  EXPECT_NEAR(maps[0][0][4][4].item<float>(), expected, 1e-3);  // (x=4, y=4)
  EXPECT_EQ(maps[0][1].abs().sum().item<float>(), 0);
  EXPECT_EQ(maps[0][2].abs().sum().item<float>(), 0);
}

TEST(RenderTest, GaussianOfAKeypointOutsideTheCropKeepsItsTail) {
  const at::Tensor maps = RenderGaussianHeatmaps(Poses({-2, 0, 1}, 1), 4, 4, 2, 1);
  EXPECT_NEAR(maps[0][0][0][0].item<float>(), std::exp(-4.0 / 8), 1e-6);
}

TEST(RenderTest, OneHotRoundsToTheNearestPixelAndDropsOutside) {
  const at::Tensor maps =
      RenderOneHotHeatmaps(Poses({2.4f, 0.6f, 1, 8.2f, 1, 1, 1, 1, 0}, 3), 4, 8, 255);
  EXPECT_EQ(maps[0][0][1][2].item<float>(), 255);
  EXPECT_EQ(maps[0][0].sum().item<float>(), 255);
  EXPECT_EQ(maps[0][1].sum().item<float>(), 0);  // x rounds to 8: outside
  EXPECT_EQ(maps[0][2].sum().item<float>(), 0);  // absent
}

TEST(ArgmaxCellsTest, FindsTheMaximum) {
  at::Tensor maps = at::zeros({1, 2, 3, 5});
  maps[0][0][2][4] = 1;
  maps[0][1][1][0] = 1;
  const at::Tensor cells = ArgmaxCells(maps);
  EXPECT_EQ(cells[0][0][0].item<float>(), 4);
  EXPECT_EQ(cells[0][0][1].item<float>(), 2);
  EXPECT_EQ(cells[0][1][0].item<float>(), 0);
  EXPECT_EQ(cells[0][1][1].item<float>(), 1);
}

TEST(IntegralLossTest, BothTermsMatchHandComputedValues) {
  const std::unique_ptr<PoseCodec> codec = PoseCodec::Create(TinyOptions());
  // Ground truth at crop pixel (1, 2) = cell (0.25, 0.5).
  const TrainingTargets targets = codec->EncodeTargets(Poses({1, 2, 2}, 1));
  EXPECT_EQ(targets.weights[0][0].item<float>(), 1);
  EXPECT_NEAR(targets.coords[0][0][0].item<float>(), 0.25, 1e-7);
  const Losses losses = codec->Loss(KnownLogits(), targets);
  const double cross_entropy = -(0.375 * std::log(0.1) + 0.125 * std::log(0.2) +
                                 0.375 * std::log(0.3) + 0.125 * std::log(0.4));
  const double l1 = std::abs(0.6 - 0.25) + std::abs(0.7 - 0.5);
  EXPECT_NEAR(losses.heatmap.item<float>(), cross_entropy, 1e-5);
  EXPECT_NEAR(losses.coordinate.item<float>(), l1, 1e-6);
  EXPECT_NEAR(losses.total.item<float>(), cross_entropy + l1, 1e-5);
  // Predictions come back in crop pixels.
  const at::Tensor decoded = codec->Decode(KnownLogits());
  EXPECT_NEAR(decoded[0][0][0].item<float>(), 4 * 0.6, 1e-5);
  EXPECT_NEAR(decoded[0][0][1].item<float>(), 4 * 0.7, 1e-5);
}

TEST(IntegralLossTest, TermsCanBeSwitchedOff) {
  ResolvedModelOptions only_heatmap = TinyOptions();
  only_heatmap.use_coordinate_loss = false;
  const std::unique_ptr<PoseCodec> lh = PoseCodec::Create(only_heatmap);
  const Losses a = lh->Loss(KnownLogits(), lh->EncodeTargets(Poses({1, 2, 2}, 1)));
  EXPECT_TRUE(a.heatmap.defined());
  EXPECT_FALSE(a.coordinate.defined());
  EXPECT_FLOAT_EQ(a.total.item<float>(), a.heatmap.item<float>());
  ResolvedModelOptions only_coordinate = TinyOptions();
  only_coordinate.use_heatmap_loss = false;
  const std::unique_ptr<PoseCodec> lc = PoseCodec::Create(only_coordinate);
  const Losses b = lc->Loss(KnownLogits(), lc->EncodeTargets(Poses({1, 2, 2}, 1)));
  EXPECT_FALSE(b.heatmap.defined());
  EXPECT_NEAR(b.total.item<float>(), 0.55, 1e-6);
}

TEST(IntegralLossTest, UnlabelledAndOutsideKeypointsCarryNoLoss) {
  ResolvedModelOptions options = TinyOptions();
  options.num_keypoints = 4;
  const std::unique_ptr<PoseCodec> codec = PoseCodec::Create(options);
  // Labelled; unlabelled; outside (x = 8 > 7); labelled again.
  const TrainingTargets targets =
      codec->EncodeTargets(Poses({1, 2, 2, 3, 3, 0, 8, 1, 2, 1, 2, 1}, 4));
  EXPECT_EQ(targets.weights[0][0].item<float>(), 1);
  EXPECT_EQ(targets.weights[0][1].item<float>(), 0);
  EXPECT_EQ(targets.weights[0][2].item<float>(), 0);
  EXPECT_EQ(targets.weights[0][3].item<float>(), 1);
  EXPECT_EQ(targets.heatmaps[0][1].abs().sum().item<float>(), 0);
  at::Tensor logits = KnownLogits().repeat({1, 4, 1, 1});
  logits[0][1] = at::randn({2, 2}) * 10;  // carries no loss whatever it is
  logits[0][2] = at::randn({2, 2}) * 10;
  const Losses losses = codec->Loss(logits, targets);
  EXPECT_NEAR(losses.coordinate.item<float>(), 0.55, 1e-5);
  // Nothing labelled: zero loss, not NaN.
  const Losses none = codec->Loss(logits, codec->EncodeTargets(at::zeros({1, 4, 3})));
  EXPECT_EQ(none.total.item<float>(), 0);
}

TEST(IntegralLossTest, PerEntryNormalizationIsTheRelease) {
  // Two of four keypoints carry loss: per entry, L_H is half the per-keypoint
  // mean and L_C a quarter (over 4 * 2 coordinates).
  ResolvedModelOptions options = TinyOptions();
  options.num_keypoints = 4;
  const at::Tensor poses = Poses({1, 2, 2, 3, 3, 0, 8, 1, 2, 1, 2, 1}, 4);
  const at::Tensor logits = KnownLogits().repeat({1, 4, 1, 1});
  const std::unique_ptr<PoseCodec> per_keypoint = PoseCodec::Create(options);
  const Losses a = per_keypoint->Loss(logits, per_keypoint->EncodeTargets(poses));
  options.loss_normalization = LOSS_PER_ENTRY;
  const std::unique_ptr<PoseCodec> per_entry = PoseCodec::Create(options);
  const Losses b = per_entry->Loss(logits, per_entry->EncodeTargets(poses));
  EXPECT_NEAR(b.heatmap.item<float>(), a.heatmap.item<float>() / 2, 1e-6);
  EXPECT_NEAR(b.coordinate.item<float>(), 0.55 / 4, 1e-6);
  options.output_encoding = POSE_OUTPUT_GAUSSIAN;
  const std::unique_ptr<PoseCodec> gaussian = PoseCodec::Create(options);
  const TrainingTargets targets = gaussian->EncodeTargets(poses);
  options.loss_normalization = LOSS_PER_LABELLED_KEYPOINT;
  const std::unique_ptr<PoseCodec> gaussian_per_keypoint = PoseCodec::Create(options);
  EXPECT_NEAR(
      gaussian->Loss(at::zeros({1, 4, 2, 2}), targets).heatmap.item<float>(),
      gaussian_per_keypoint->Loss(at::zeros({1, 4, 2, 2}), targets).heatmap.item<float>() / 2,
      1e-6);
}

TEST(GaussianCodecTest, MseAndArgmaxDecoding) {
  ResolvedModelOptions options = TinyOptions();
  options.output_encoding = POSE_OUTPUT_GAUSSIAN;
  options.use_heatmap_loss = options.use_coordinate_loss = false;
  const std::unique_ptr<PoseCodec> codec = PoseCodec::Create(options);
  const TrainingTargets targets = codec->EncodeTargets(Poses({4, 0, 1}, 1));  // cell (1, 0)
  // Target: Gaussian of sigma 1 cell, peak 1, at (1, 0).
  EXPECT_NEAR(targets.heatmaps[0][0][0][1].item<float>(), 1, 1e-6);
  EXPECT_NEAR(targets.heatmaps[0][0][1][0].item<float>(), std::exp(-1.0), 1e-6);
  const Losses zero = codec->Loss(targets.heatmaps, targets);
  EXPECT_NEAR(zero.total.item<float>(), 0, 1e-9);
  const Losses against_zero = codec->Loss(at::zeros({1, 1, 2, 2}), targets);
  const double e1 = std::exp(-0.5), e2 = std::exp(-1.0);
  EXPECT_NEAR(against_zero.heatmap.item<float>(), (e1 * e1 + 1 + e2 * e2 + e1 * e1) / 4, 1e-6);
  EXPECT_FALSE(against_zero.coordinate.defined());
  const at::Tensor decoded = codec->Decode(targets.heatmaps);
  EXPECT_EQ(decoded[0][0][0].item<float>(), 4);
  EXPECT_EQ(decoded[0][0][1].item<float>(), 0);
}

// The variant `input` x `output` on crops of height x width, 3 keypoints.
ResolvedModelOptions VariantOptions(PoseInputEncoding input, PoseOutputEncoding output, int height,
                                    int width) {
  ResolvedModelOptions options = *ResolveModelOptions(ModelOptions());
  options.input_height = height;
  options.input_width = width;
  options.num_keypoints = 3;
  options.input_encoding = input;
  options.output_encoding = output;
  return options;
}

TEST(PoseCodecTest, EveryVariantDecodesItsOwnTarget) {
  for (PoseInputEncoding input : {POSE_INPUT_COARSE, POSE_INPUT_FINE, POSE_INPUT_NONE}) {
    for (PoseOutputEncoding output : {POSE_OUTPUT_INTEGRAL, POSE_OUTPUT_GAUSSIAN}) {
      const ResolvedModelOptions options = VariantOptions(input, output, 64, 32);
      const std::unique_ptr<PoseCodec> codec = PoseCodec::Create(options);
      const at::Tensor truth = Poses({8, 12, 2, 20, 40, 1, 0, 60, 2}, 3);
      const TrainingTargets targets = codec->EncodeTargets(truth);
      // A sharpened target is the ideal network output.
      const at::Tensor ideal =
          output == POSE_OUTPUT_INTEGRAL ? targets.heatmaps * 100 : targets.heatmaps;
      const at::Tensor decoded = codec->Decode(ideal);
      EXPECT_TRUE(at::allclose(decoded, truth.narrow(2, 0, 2), 1e-4, 1e-3))
          << VariantName(options) << "\n"
          << decoded;
      const at::Tensor poses = codec->EncodePoses(truth);
      EXPECT_EQ(poses.defined(), input != POSE_INPUT_NONE);
      const at::Tensor network_input =
          codec->EncodeInput(at::zeros({1, 64, 32, 3}, at::kByte), truth);
      EXPECT_EQ(network_input.sizes(), at::IntArrayRef({1, options.input_channels(), 64, 32}));
    }
  }
}

// The trainer renders inputs and targets on its device: a GPU must give the
// CPU's numbers.
TEST(PoseCodecTest, CudaEncodesAndDecodesAsTheCpu) {
  if (!at::hasCUDA()) {
    GTEST_SKIP() << "No CUDA device visible to LibTorch (a CUDA build with a GPU runs this).";
  }
  const at::Device cuda(at::kCUDA);
  for (PoseInputEncoding input : {POSE_INPUT_COARSE, POSE_INPUT_FINE}) {
    for (PoseOutputEncoding output : {POSE_OUTPUT_INTEGRAL, POSE_OUTPUT_GAUSSIAN}) {
      const ResolvedModelOptions options = VariantOptions(input, output, 256, 192);
      const std::unique_ptr<PoseCodec> codec = PoseCodec::Create(options);
      const at::Tensor poses = Poses({8.5f, 12, 1, 120.25f, 200, 1, -30, 60, 1}, 3);
      const at::Tensor truth = Poses({10, 14, 2, 118, 204.5f, 1, 0, 60, 0}, 3);
      const at::Tensor crops =
          at::randint(0, 256, {1, 256, 192, 3}, at::TensorOptions().dtype(at::kByte));
      // Float reductions may sum in another order on the GPU: decoded pixels
      // get a looser absolute tolerance than the maps.
      auto expect_same = [&](const at::Tensor& cpu, const at::Tensor& gpu, const char* what,
                             double atol = 1e-5) {
        EXPECT_TRUE(at::allclose(cpu, gpu.cpu(), 1e-5, atol))
            << VariantName(options) << " " << what;
      };
      expect_same(codec->EncodeImages(crops), codec->EncodeImages(crops.to(cuda)), "images");
      expect_same(codec->EncodePoses(poses), codec->EncodePoses(poses.to(cuda)), "input heatmaps");
      const TrainingTargets cpu = codec->EncodeTargets(truth);
      const TrainingTargets gpu = codec->EncodeTargets(truth.to(cuda));
      expect_same(cpu.heatmaps, gpu.heatmaps, "target heatmaps");
      expect_same(cpu.weights, gpu.weights, "loss weights");
      expect_same(cpu.coords, gpu.coords, "target cells");
      expect_same(codec->Decode(cpu.heatmaps * 100), codec->Decode(gpu.heatmaps * 100), "decoding",
                  1e-3);
    }
  }
}

TEST(PoseCodecTest, EncodeImagesNormalizesInTheConfiguredChannelOrder) {
  ResolvedModelOptions options = TinyOptions();
  at::Tensor crops = at::zeros({1, 8, 8, 3}, at::kByte);
  crops.select(3, 0).fill_(10);  // B
  crops.select(3, 1).fill_(20);  // G
  crops.select(3, 2).fill_(30);  // R
  const at::Tensor bgr = PoseCodec::Create(options)->EncodeImages(crops);
  ASSERT_EQ(bgr.sizes(), at::IntArrayRef({1, 3, 8, 8}));
  EXPECT_NEAR(bgr[0][0][3][3].item<float>(), 10 - 123.68, 1e-4);
  EXPECT_NEAR(bgr[0][2][3][3].item<float>(), 30 - 103.94, 1e-4);
  options.channel_order = CHANNEL_ORDER_RGB;
  options.pixel_mean = {1, 2, 3};
  options.pixel_std = {2, 4, 8};
  const at::Tensor rgb = PoseCodec::Create(options)->EncodeImages(crops);
  EXPECT_NEAR(rgb[0][0][0][0].item<float>(), (30 - 1) / 2.0, 1e-5);
  EXPECT_NEAR(rgb[0][2][0][0].item<float>(), (10 - 3) / 8.0, 1e-5);
}

TEST(PoseCodecTest, InputHeatmapsAreScaledLikeThePixels) {
  ResolvedModelOptions options = TinyOptions();
  const at::Tensor coarse = PoseCodec::Create(options)->EncodePoses(Poses({3, 4, 0.5f}, 1));
  EXPECT_NEAR(coarse.max().item<float>(), 255, 1e-3);
  options.input_encoding = POSE_INPUT_FINE;
  const at::Tensor fine = PoseCodec::Create(options)->EncodePoses(Poses({3, 4, 0.5f}, 1));
  EXPECT_EQ(fine[0][0][4][3].item<float>(), 255);
  EXPECT_EQ(fine.sum().item<float>(), 255);
}

TEST(StatusLossTest, CrossEntropyOverLabelledKeypointsOnly) {
  // Two keypoints: logits favouring status 0; labels 0 and "none".
  const at::Tensor logits = at::tensor({2.0f, 0.0f, 0.0f, 0.0f, 0.0f,  //
                                        0.0f, 0.0f, 0.0f, 0.0f, 9.0f})
                                .view({1, 2, 5});
  const at::Tensor labels = at::tensor({int64_t{0}, int64_t{-1}}).view({1, 2});
  const double expected = -std::log(std::exp(2.0) / (std::exp(2.0) + 4.0));
  EXPECT_NEAR(StatusLoss(logits, labels).item<double>(), expected, 1e-6);
  // Label 4 on the second keypoint: the mean of both terms.
  const at::Tensor both = at::tensor({int64_t{0}, int64_t{4}}).view({1, 2});
  const double second = -std::log(std::exp(9.0) / (std::exp(9.0) + 4.0));
  EXPECT_NEAR(StatusLoss(logits, both).item<double>(), (expected + second) / 2, 1e-6);
  // Nothing labelled: zero, not NaN.
  EXPECT_EQ(StatusLoss(logits, at::full({1, 2}, -1, at::kLong)).item<double>(), 0.0);
}

}  // namespace
}  // namespace posefix
