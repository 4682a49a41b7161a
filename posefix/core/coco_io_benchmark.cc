// Loading speed of COCO annotation and results files.
//   bazel run //posefix/core:coco_io_benchmark -- --annotations=$PWD/../shared/data/coco/annotations/person_keypoints_val2017_rebuilt.json
#include <cstdlib>
#include <string>

#include "benchmark/benchmark.h"
#include "posefix/core/coco_io.h"
#include "posefix/core/file_util.h"

namespace posefix {
namespace {

// Set by --annotations=...; the committed fixture by default.
std::string& AnnotationPath() {
  static std::string path = "testdata/coco/annotations/person_keypoints_val2017_local.json";
  return path;
}

void BM_ReadCocoDataset(benchmark::State& state) {
  CocoReadOptions options;
  options.keep_extra_fields = state.range(0) != 0;
  size_t bytes = 0, annotations = 0;
  for (auto _ : state) {
    absl::StatusOr<CocoDataset> dataset = ReadCocoDataset(AnnotationPath(), options);
    if (!dataset.ok()) {
      state.SkipWithError(std::string(dataset.status().message()).c_str());
      return;
    }
    annotations = dataset->annotations.size();
    benchmark::DoNotOptimize(dataset);
  }
  bytes = ReadFileToString(AnnotationPath())->size();
  state.SetBytesProcessed(static_cast<int64_t>(bytes) * state.iterations());
  state.counters["annotations"] = static_cast<double>(annotations);
  state.SetLabel(options.keep_extra_fields ? "keep extra fields" : "drop extra fields");
}
BENCHMARK(BM_ReadCocoDataset)->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond);

void BM_WriteCocoDataset(benchmark::State& state) {
  absl::StatusOr<CocoDataset> dataset = ReadCocoDataset(AnnotationPath());
  if (!dataset.ok()) {
    state.SkipWithError(std::string(dataset.status().message()).c_str());
    return;
  }
  for (auto _ : state) benchmark::DoNotOptimize(CocoDatasetToJson(*dataset));
}
BENCHMARK(BM_WriteCocoDataset)->Unit(benchmark::kMillisecond);

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
