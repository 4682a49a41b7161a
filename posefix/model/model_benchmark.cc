// Speed of the PoseFix network and its codec.
//   bazel run //posefix/model:model_benchmark -- --threads=2
// Per-sample times are the "sample_time" counter (seconds per sample).

#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <torch/utils.h>

#include "benchmark/benchmark.h"
#include "posefix/core/command_line.h"
#include "posefix/model/codec.h"
#include "posefix/model/network.h"

namespace posefix {
namespace {

ResolvedModelOptions Options(int depth) {
  ResolvedModelOptions options = *ResolveModelOptions(ModelOptions());
  options.resnet_depth = depth;
  options.input_height = 256;
  options.input_width = 192;
  return options;
}

void Synchronize(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize();
}

void SetPerSample(benchmark::State& state, int64_t batch) {
  state.SetItemsProcessed(state.iterations() * batch);
  state.counters["sample_time"] = benchmark::Counter(
      static_cast<double>(state.iterations() * batch),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void Forward(benchmark::State& state, int depth, int64_t batch, torch::Device device) {
  torch::manual_seed(0);
  const ResolvedModelOptions options = Options(depth);
  PoseFixNet net(options);
  net->to(device);
  net->eval();
  const std::unique_ptr<PoseCodec> codec = PoseCodec::Create(options);
  const torch::Tensor crops =
      torch::randint(0, 255, {batch, 256, 192, 3}, torch::TensorOptions(torch::kByte)).to(device);
  const torch::Tensor poses = (torch::rand({batch, 17, 3}) * 190).to(device);
  torch::InferenceMode inference;
  for (auto _ : state) {
    torch::Tensor out = codec->Decode(net->forward(codec->EncodeInput(crops, poses)));
    Synchronize(device);
    benchmark::DoNotOptimize(out);
  }
  SetPerSample(state, batch);
}

void ForwardBackward(benchmark::State& state, int depth, int64_t batch, torch::Device device) {
  torch::manual_seed(0);
  const ResolvedModelOptions options = Options(depth);
  PoseFixNet net(options);
  net->to(device);
  net->train();
  const std::unique_ptr<PoseCodec> codec = PoseCodec::Create(options);
  const torch::Tensor crops =
      torch::randint(0, 255, {batch, 256, 192, 3}, torch::TensorOptions(torch::kByte)).to(device);
  torch::Tensor truth = torch::rand({batch, 17, 3}) * 180;
  truth.select(2, 2).fill_(2);
  truth = truth.to(device);
  const torch::Tensor poses = truth + torch::randn_like(truth) * 5;
  for (auto _ : state) {
    net->zero_grad();
    const Losses losses =
        codec->Loss(net->forward(codec->EncodeInput(crops, poses)), codec->EncodeTargets(truth));
    losses.total.backward();
    Synchronize(device);
  }
  SetPerSample(state, batch);
}

void RenderGaussian(benchmark::State& state, torch::Device device) {
  const int64_t batch = state.range(0);
  const torch::Tensor poses = (torch::rand({batch, 17, 3}) * 190).to(device);
  for (auto _ : state) {
    torch::Tensor maps = RenderGaussianHeatmaps(poses, 256, 192, 7, 255);
    Synchronize(device);
    benchmark::DoNotOptimize(maps);
  }
  SetPerSample(state, batch);
}

void RenderOneHot(benchmark::State& state, torch::Device device) {
  const int64_t batch = state.range(0);
  const torch::Tensor poses = (torch::rand({batch, 17, 3}) * 190).to(device);
  for (auto _ : state) {
    torch::Tensor maps = RenderOneHotHeatmaps(poses, 256, 192, 255);
    Synchronize(device);
    benchmark::DoNotOptimize(maps);
  }
  SetPerSample(state, batch);
}

void SoftArgmaxBenchmark(benchmark::State& state, torch::Device device) {
  const int64_t batch = state.range(0);
  const torch::Tensor logits = torch::randn({batch, 17, 64, 48}).to(device);
  for (auto _ : state) {
    torch::Tensor coords = SoftArgmax(logits);
    Synchronize(device);
    benchmark::DoNotOptimize(coords);
  }
  SetPerSample(state, batch);
}

void RegisterAll(torch::Device device) {
  const std::string suffix = device.is_cuda() ? "/cuda" : "/cpu";
  const int64_t small = device.is_cuda() ? 32 : 4, large = device.is_cuda() ? 32 : 2;
  benchmark::RegisterBenchmark(("Forward/R18/256x192" + suffix).c_str(), Forward, 18, small, device)
      ->Unit(benchmark::kMillisecond)->UseRealTime();
  benchmark::RegisterBenchmark(("Forward/R50/256x192" + suffix).c_str(), Forward, 50, large, device)
      ->Unit(benchmark::kMillisecond)->UseRealTime();
  benchmark::RegisterBenchmark(("ForwardBackward/R18/256x192" + suffix).c_str(), ForwardBackward,
                               18, small, device)
      ->Unit(benchmark::kMillisecond)->UseRealTime();
  benchmark::RegisterBenchmark(("ForwardBackward/R50/256x192" + suffix).c_str(), ForwardBackward,
                               50, large, device)
      ->Unit(benchmark::kMillisecond)->UseRealTime();
  benchmark::RegisterBenchmark(("RenderGaussian/17x256x192" + suffix).c_str(), RenderGaussian,
                               device)
      ->Arg(1)->Arg(32)->Unit(benchmark::kMicrosecond)->UseRealTime();
  benchmark::RegisterBenchmark(("RenderOneHot/17x256x192" + suffix).c_str(), RenderOneHot, device)
      ->Arg(32)->Unit(benchmark::kMicrosecond)->UseRealTime();
  benchmark::RegisterBenchmark(("SoftArgmax/17x64x48" + suffix).c_str(), SoftArgmaxBenchmark,
                               device)
      ->Arg(1)->Arg(32)->Unit(benchmark::kMicrosecond)->UseRealTime();
}

}  // namespace
}  // namespace posefix

int main(int argc, char** argv) {
  posefix::KeepLargeAllocationsInTheHeap();  // as tools:train does
  int threads = 2;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--threads=", 10) == 0) threads = std::atoi(argv[i] + 10);
  }
  at::set_num_threads(threads);
  benchmark::AddCustomContext("torch_threads", std::to_string(at::get_num_threads()));
  benchmark::Initialize(&argc, argv);
  posefix::RegisterAll(torch::Device(torch::kCPU));
  if (torch::cuda::is_available()) posefix::RegisterAll(torch::Device(torch::kCUDA));
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
