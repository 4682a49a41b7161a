// Throughput of the training and refinement paths on the CPU:
//   loader + encode samples/s per loader thread (decode, crop, augment,
//   synthesize, pack, encode with the codec), train-step samples/s (R18, R50
//   at 256x192, batch 8), refine instances/s with and without the flip test.
//   bazel run -c opt //posefix/model:training_benchmark [-- --threads=N]
#include <ATen/Parallel.h>
#include <torch/optim/adam.h>
#include <torch/utils.h>

#include <memory>
#include <vector>

#include "benchmark/benchmark.h"
#include "posefix/core/coco_io.h"
#include "posefix/core/command_line.h"
#include "posefix/core/keypoint_schema.h"
#include "posefix/data/loader.h"
#include "posefix/model/codec.h"
#include "posefix/model/network.h"
#include "posefix/model/refiner.h"
#include "posefix/model/training_batch.h"

namespace posefix {
namespace {

constexpr char kAnnotations[] = "testdata/coco/annotations/person_keypoints_val2017_fixture.json";
constexpr char kImages[] = "testdata/coco/val2017";

ResolvedModelOptions Options(int depth) {
  ModelOptions model;
  model.set_resnet_depth(depth);
  return *ResolveModelOptions(model);
}

// arg 0: loader threads. Samples of 256x192, packed and encoded in batches
// of 8.
void BM_LoaderAndEncode(benchmark::State& state) {
  at::set_num_threads(1);
  absl::StatusOr<CocoDataset> dataset = ReadCocoDataset(kAnnotations);
  absl::StatusOr<Synthesizer> synthesizer = Synthesizer::Create(ErrorModel(), CocoSchema());
  if (!dataset.ok() || !synthesizer.ok()) {
    state.SkipWithError("cannot read the fixture");
    return;
  }
  DataOptions options;
  options.set_num_threads(static_cast<int>(state.range(0)));
  auto loader =
      Loader::Create(&*dataset, kImages, &CocoSchema(), options, synthesizer->model().overlap_iou(),
                     SynthesizerFunction(&*synthesizer), 1);
  if (!loader.ok()) {
    state.SkipWithError(std::string(loader.status().message()).c_str());
    return;
  }
  const ResolvedModelOptions model = Options(50);
  const auto codec = PoseCodec::Create(model);
  int64_t samples = 0;
  int epoch = 0;
  for (auto _ : state) {
    (*loader)->StartEpoch(epoch++);
    bool done = false;
    while (!done) {
      std::vector<TrainingSample> batch;
      while (batch.size() < 8) {
        auto next = (*loader)->Next();
        if (!next.ok() || !next->has_value()) {
          done = true;
          break;
        }
        batch.push_back(std::move(**next));
      }
      if (batch.empty()) break;
      const PackedBatch packed =
          *PackSamples(batch, model.input_height, model.input_width, model.num_keypoints);
      const EncodedBatch encoded = EncodeBatch(packed, *codec, at::kCPU);
      benchmark::DoNotOptimize(encoded.input.data_ptr());
      samples += encoded.size;
    }
  }
  state.counters["samples/s"] =
      benchmark::Counter(static_cast<double>(samples), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_LoaderAndEncode)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

// arg 0: ResNet depth. One Adam step on a batch of 8 at 256x192.
void BM_TrainStep(benchmark::State& state) {
  at::set_num_threads(2);
  torch::manual_seed(0);
  const ResolvedModelOptions model = Options(static_cast<int>(state.range(0)));
  PoseFixNetImpl net(model);
  const auto codec = PoseCodec::Create(model);
  const int64_t batch = 8;
  const torch::Tensor crops =
      torch::randint(0, 256, {batch, model.input_height, model.input_width, 3}, torch::kByte);
  torch::Tensor poses = torch::rand({batch, model.num_keypoints, 3});
  poses.select(2, 0).mul_(model.input_width);
  poses.select(2, 1).mul_(model.input_height);
  poses.select(2, 2).fill_(1);
  const torch::Tensor input = codec->EncodeInput(crops, poses);
  const TrainingTargets targets = codec->EncodeTargets(poses);
  torch::optim::Adam adam(net.parameters(), torch::optim::AdamOptions(5e-4));
  net.train();
  for (auto _ : state) {
    adam.zero_grad();
    codec->Loss(net.forward(input), targets).total.backward();
    adam.step();
  }
  state.counters["samples/s"] = benchmark::Counter(static_cast<double>(state.iterations() * batch),
                                                   benchmark::Counter::kIsRate);
}
BENCHMARK(BM_TrainStep)->Arg(18)->Arg(50)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(5);

// arg 0: flip test. 16 crops of 256x192 through an untrained ResNet-50.
void BM_RefineInstances(benchmark::State& state) {
  at::set_num_threads(2);
  RefinerOptions options;
  options.flip_test = state.range(0) != 0;
  options.flip_permutation = FlipPermutation(CocoSchema());
  options.device = "cpu";
  options.batch_size = 16;
  ModelOptions model;
  auto refiner = Refiner::Untrained(model, options, 1);
  if (!refiner.ok()) {
    state.SkipWithError(std::string(refiner.status().message()).c_str());
    return;
  }
  std::vector<cv::Mat> crops(16, cv::Mat(256, 192, CV_8UC3, cv::Scalar(90, 120, 150)));
  Pose pose(17);
  for (int j = 0; j < 17; ++j) pose[j] = {40.0 + 6 * j, 30.0 + 12 * j, 0.9};
  const std::vector<Pose> poses(16, pose);
  for (auto _ : state) {
    auto refined = (*refiner)->RefineCrops(crops, poses);
    benchmark::DoNotOptimize(refined);
  }
  state.counters["instances/s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * 16), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_RefineInstances)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace posefix

int main(int argc, char** argv) {
  posefix::KeepLargeAllocationsInTheHeap();  // as tools:train does
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
