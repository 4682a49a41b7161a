// Loading speed of COCO annotation and results files:
//   bazel run //posefix/core:coco_io_benchmark -- --annotations=PATH
// (PATH absolute; default: the committed val2017 fixture).
#include <cmath>
#include <cstdlib>
#include <optional>
#include <string>
#include <utility>
#include <vector>

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

// A results file of 16 results per annotation (its pose moved by a few
// pixels each time, Python-like 3-decimal numbers), about 2.7 MB for the
// fixture (6,496 results); with `extra`, each result also has a "bbox",
// which only the DOM path reads.
std::string ResultsText(const CocoDataset& dataset, bool extra) {
  std::vector<KeypointResult> results;
  for (int copy = 0; copy < 16; ++copy) {
    for (const PersonAnnotation& annotation : dataset.annotations) {
      KeypointResult result;
      result.image_id = annotation.image_id;
      result.category_id = 1;
      result.keypoints = annotation.keypoints;
      for (Keypoint& keypoint : result.keypoints) {
        keypoint.x = std::round((keypoint.x + 0.731 * copy) * 1000) / 1000;
        keypoint.y = std::round((keypoint.y - 0.417 * copy) * 1000) / 1000;
        keypoint.v = 0.5 + 0.03 * copy;
      }
      result.score = 0.9 - 0.05 * copy;
      if (extra) result.extra.emplace_back("bbox", "[10.5,20.25,100,200]");
      results.push_back(std::move(result));
    }
  }
  return CocoResultsToJson(results);
}

// Args: threads, and dom (1: each result also has a "bbox", so the DOM path
// reads it).
void BM_ParseCocoResults(benchmark::State& state) {
  absl::StatusOr<CocoDataset> dataset = ReadCocoDataset(AnnotationPath());
  if (!dataset.ok()) {
    state.SkipWithError(std::string(dataset.status().message()).c_str());
    return;
  }
  const bool dom = state.range(1) != 0;
  const std::string text = ResultsText(*dataset, dom);
  ResultsReadOptions options;
  options.num_threads = static_cast<int>(state.range(0));
  options.ground_truth = &*dataset;
  size_t count = 0;
  for (auto _ : state) {
    absl::StatusOr<std::vector<KeypointResult>> results =
        ParseCocoResults("bench.json", text, options);
    if (!results.ok()) {
      state.SkipWithError(std::string(results.status().message()).c_str());
      return;
    }
    count = results->size();
    benchmark::DoNotOptimize(results);
  }
  state.SetBytesProcessed(static_cast<int64_t>(text.size()) * state.iterations());
  state.counters["results"] = static_cast<double>(count);
  state.SetLabel(dom ? "DOM path (a member beside the four)" : "plain form (On-Demand)");
}
BENCHMARK(BM_ParseCocoResults)
    ->ArgNames({"threads", "dom"})
    ->Args({1, 0})
    ->Args({2, 0})
    ->Args({1, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// The plain form by column, as evaluation reads it (one allocation per
// column instead of one per pose). Arg: threads.
void BM_ParsePlainCocoResults(benchmark::State& state) {
  absl::StatusOr<CocoDataset> dataset = ReadCocoDataset(AnnotationPath());
  if (!dataset.ok()) {
    state.SkipWithError(std::string(dataset.status().message()).c_str());
    return;
  }
  const std::string text = ResultsText(*dataset, /*extra=*/false);
  ResultsReadOptions options;
  options.num_threads = static_cast<int>(state.range(0));
  options.ground_truth = &*dataset;
  size_t count = 0;
  for (auto _ : state) {
    std::optional<KeypointResultColumns> columns = ParsePlainCocoResults(text, options);
    if (!columns.has_value()) {
      state.SkipWithError("not read as the plain form");
      return;
    }
    count = columns->size();
    benchmark::DoNotOptimize(columns);
  }
  state.SetBytesProcessed(static_cast<int64_t>(text.size()) * state.iterations());
  state.counters["results"] = static_cast<double>(count);
}
BENCHMARK(BM_ParsePlainCocoResults)
    ->ArgNames({"threads"})
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

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
