// Loader throughput: samples per second (JPEG decode, crop, augment,
// synthesize with the release's error model) for 1 and 2 worker threads on
// the fixture images.
//   bazel run //posefix/data:loader_benchmark
#include <memory>

#include "benchmark/benchmark.h"
#include "posefix/core/coco_io.h"
#include "posefix/core/keypoint_schema.h"
#include "posefix/data/loader.h"

namespace posefix {
namespace {

void BM_LoaderSamplesPerSecond(benchmark::State& state) {
  absl::StatusOr<CocoDataset> dataset =
      ReadCocoDataset("testdata/coco/annotations/person_keypoints_val2017_fixture.json");
  if (!dataset.ok()) {
    state.SkipWithError(std::string(dataset.status().message()).c_str());
    return;
  }
  DataOptions options;
  options.set_num_threads(static_cast<int>(state.range(0)));
  absl::StatusOr<Synthesizer> synthesizer = Synthesizer::Create(ErrorModel(), CocoSchema());
  if (!synthesizer.ok()) {
    state.SkipWithError(std::string(synthesizer.status().message()).c_str());
    return;
  }
  auto loader =
      Loader::Create(&*dataset, "testdata/coco/val2017", &CocoSchema(), options,
                     synthesizer->model().overlap_iou(), SynthesizerFunction(&*synthesizer), 1);
  if (!loader.ok()) {
    state.SkipWithError(std::string(loader.status().message()).c_str());
    return;
  }
  int64_t samples = 0;
  int epoch = 0;
  for (auto _ : state) {
    (*loader)->StartEpoch(epoch++);
    while (true) {
      auto next = (*loader)->Next();
      if (!next.ok() || !next->has_value()) break;
      ++samples;
    }
  }
  state.counters["samples/s"] =
      benchmark::Counter(static_cast<double>(samples), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_LoaderSamplesPerSecond)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace posefix

BENCHMARK_MAIN();
