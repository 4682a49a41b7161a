// Synthesized persons per second (items_per_second).
//   bazel run //posefix/synth:synthesizer_benchmark --
//   --annotations=$PWD/../shared/data/coco/annotations/person_keypoints_val2017_rebuilt.json
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "posefix/core/coco_io.h"
#include "posefix/core/keypoint_schema.h"
#include "posefix/synth/synthesizer.h"
#include "posefix/synth/test_poses.h"

namespace posefix {
namespace {

// Set by --annotations=...; the committed 260-image subset by default.
std::string& AnnotationPath() {
  static std::string path = "testdata/coco/annotations/person_keypoints_val2017_local.json";
  return path;
}

// Argument 0: the exact sampler (the product's); 1: the release's whole
// batches, the peer it replaces (the same law, synthesizer_law_test).
Synthesizer ReleaseSynthesizer(int64_t sampling = 0) {
  return *Synthesizer::Create(
      ErrorModel(), CocoSchema(), "release error model",
      sampling == 0 ? CandidateSampling::kExact : CandidateSampling::kReleaseBatches);
}

// Every person of a real annotation file, on its whole image with its real
// neighbours, as the synthesize command does.
void BM_SynthesizeDataset(benchmark::State& state) {
  CocoReadOptions options;
  options.keep_extra_fields = false;
  absl::StatusOr<CocoDataset> dataset = ReadCocoDataset(AnnotationPath(), options);
  if (!dataset.ok()) {
    state.SkipWithError(std::string(dataset.status().message()).c_str());
    return;
  }
  const Synthesizer synthesizer = ReleaseSynthesizer(state.range(0));
  uint64_t seed = 0;
  size_t persons = 0;
  for (auto _ : state) {
    absl::StatusOr<std::vector<SynthesizedPerson>> people =
        SynthesizeDataset(*dataset, synthesizer, seed++, AreaSource::kAnnotation, "benchmark");
    persons += people->size();
    benchmark::DoNotOptimize(people);
  }
  state.SetItemsProcessed(static_cast<int64_t>(persons));
  state.counters["persons"] = static_cast<double>(persons) / state.iterations();
}
BENCHMARK(BM_SynthesizeDataset)
    ->ArgName("release_batches")
    ->Arg(0)
    ->Arg(1)
    ->Unit(benchmark::kMillisecond);

// One fully labelled person in a crop with state.range(0) overlapping
// neighbours (the per-crop call of the training pipeline); state.range(1)
// as BM_SynthesizeDataset's argument.
void BM_SynthesizeCrop(benchmark::State& state) {
  const Synthesizer synthesizer = ReleaseSynthesizer(state.range(1));
  SynthesisInput input;
  input.target = StandingPerson(46, 3, 2);
  for (int i = 0; i < state.range(0); ++i) {
    input.neighbours.push_back(StandingPerson(46 + 30 * (i % 2 ? 1 : -1) * (1 + i / 2), 10, 2));
  }
  input.area = 100 * 250;
  DeterministicRandom rng(1);
  for (auto _ : state) benchmark::DoNotOptimize(synthesizer.Synthesize(input, &rng));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SynthesizeCrop)
    ->ArgNames({"neighbours", "release_batches"})
    ->ArgsProduct({{0, 1, 4}, {0, 1}})
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace posefix

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--annotations=", 0) == 0) posefix::AnnotationPath() = arg.substr(14);
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
