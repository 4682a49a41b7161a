// Speed of the OKS matrix and of COCOeval's per-image matching + accumulation
// on synthetic val2017-sized data (5000 images, ~6400 persons, ~100k
// detections, fixed seed).
//   bazel run //posefix/eval:coco_eval_benchmark
#include <random>
#include <vector>

#include "benchmark/benchmark.h"
#include "posefix/core/coco_io.h"
#include "posefix/core/keypoint_schema.h"
#include "posefix/eval/coco_eval.h"
#include "posefix/eval/oks.h"

namespace posefix {
namespace {

PersonAnnotation RandomPerson(std::mt19937& rng, int64_t id, int64_t image_id) {
  std::uniform_real_distribution<double> unit(0, 1);
  PersonAnnotation person;
  person.id = id;
  person.image_id = image_id;
  const double width = 20 + 200 * unit(rng), height = width * (1 + unit(rng));
  const double x = 400 * unit(rng), y = 300 * unit(rng);
  person.bbox = {x, y, width, height};
  person.area = width * height * 0.6;
  for (int j = 0; j < 17; ++j) {
    const bool labelled = unit(rng) < 0.8;
    person.keypoints.push_back(labelled ? Keypoint{x + width * unit(rng), y + height * unit(rng), 2}
                                        : Keypoint{0, 0, 0});
    person.num_keypoints += labelled;
  }
  return person;
}

struct Synthetic {
  CocoDataset gt;
  KeypointResultColumns results;
};

const Synthetic& Val2017Sized() {
  static const Synthetic* data = [] {
    auto* synthetic = new Synthetic;
    std::mt19937 rng(7);
    std::uniform_real_distribution<double> unit(0, 1);
    std::normal_distribution<double> normal(0, 1);
    synthetic->gt.categories.push_back({1, "person", {}, {}});
    std::vector<KeypointResult> results;
    int64_t id = 1;
    for (int64_t image = 1; image <= 5000; ++image) {
      synthetic->gt.images.push_back({image, "x.jpg", 640, 480, {}});
      const int people = static_cast<int>(unit(rng) * 2.6);
      for (int p = 0; p < people; ++p) {
        synthetic->gt.annotations.push_back(RandomPerson(rng, id++, image));
        const PersonAnnotation& person = synthetic->gt.annotations.back();
        for (int copy = 0; copy < 4; ++copy) {
          KeypointResult result;
          result.image_id = image;
          result.score = unit(rng);
          const double noise = 0.05 * std::sqrt(person.area) * (copy + 1);
          for (const Keypoint& k : person.keypoints) {
            result.keypoints.push_back({k.x + noise * normal(rng), k.y + noise * normal(rng), 1});
          }
          results.push_back(std::move(result));
        }
      }
      for (int f = 0; f < 16; ++f) {
        KeypointResult result;
        result.image_id = image;
        result.score = unit(rng) * 0.6;
        result.keypoints = RandomPerson(rng, 0, image).keypoints;
        results.push_back(std::move(result));
      }
    }
    synthetic->results = *ToResultColumns("synthetic", results, 17);
    return synthetic;
  }();
  return *data;
}

CocoEvalParams Params() {
  CocoEvalParams params;
  params.variances = OksVariances(CocoSchema());
  return params;
}

// One image: range(0) detections against range(1) ground truths.
void BM_OksMatrix(benchmark::State& state) {
  std::mt19937 rng(1);
  std::vector<OksGroundTruth> gts;
  for (int g = 0; g < state.range(1); ++g) gts.push_back(MakeOksGroundTruth(RandomPerson(rng, g, 1)));
  std::vector<Pose> poses;
  for (int d = 0; d < state.range(0); ++d) poses.push_back(RandomPerson(rng, d, 1).keypoints);
  std::vector<const Pose*> detections;
  for (const Pose& pose : poses) detections.push_back(&pose);
  const std::vector<double> variances = OksVariances(CocoSchema());
  for (auto _ : state) {
    benchmark::DoNotOptimize(ComputeOksMatrix(gts, detections, variances));
  }
  state.SetItemsProcessed(state.iterations() * state.range(0) * state.range(1));
}
BENCHMARK(BM_OksMatrix)->Args({20, 1})->Args({20, 5})->Args({20, 20});

// Grouping, sorting and every OKS matrix of the val2017-sized data.
void BM_PrepareEvalCells(benchmark::State& state) {
  const Synthetic& data = Val2017Sized();
  const CocoEvalParams params = Params();
  for (auto _ : state) {
    auto cells = PrepareEvalCells(data.gt, data.results, params, {}, state.range(0));
    benchmark::DoNotOptimize(cells);
  }
  state.SetItemsProcessed(state.iterations() * data.results.size());
}
BENCHMARK(BM_PrepareEvalCells)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);

// Matching at 10 thresholds x 3 area ranges and the precision/recall curves.
void BM_Accumulate(benchmark::State& state) {
  const Synthetic& data = Val2017Sized();
  const CocoEvalParams params = Params();
  auto cells = PrepareEvalCells(data.gt, data.results, params);
  if (!cells.ok()) {
    state.SkipWithError("PrepareEvalCells failed");
    return;
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(Accumulate(*cells, params, state.range(0)));
  }
  state.SetItemsProcessed(state.iterations() * data.results.size());
}
BENCHMARK(BM_Accumulate)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace posefix

BENCHMARK_MAIN();
