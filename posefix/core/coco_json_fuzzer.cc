// Fuzzes the COCO annotation and results readers with arbitrary text. Any
// input must give a dataset or an error, never a crash; what is accepted
// must survive a write and a second read.

#include <cstdint>
#include <cstdlib>
#include <string>

#include "posefix/core/coco_io.h"

namespace {

void Require(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<posefix::CocoDataset> dataset = posefix::ParseCocoDataset("fuzz.json", text);
  if (dataset.ok()) {
    absl::StatusOr<posefix::CocoDataset> again =
        posefix::ParseCocoDataset("written.json", posefix::CocoDatasetToJson(*dataset));
    Require(again.ok() && again->annotations.size() == dataset->annotations.size());
  }
  posefix::ResultsReadOptions options;
  if (dataset.ok()) options.ground_truth = &*dataset;
  absl::StatusOr<std::vector<posefix::KeypointResult>> results =
      posefix::ParseCocoResults("fuzz.json", text, options);
  if (results.ok()) {
    absl::StatusOr<std::vector<posefix::KeypointResult>> again =
        posefix::ParseCocoResults("written.json", posefix::CocoResultsToJson(*results), options);
    Require(again.ok() && again->size() == results->size());
  }
  return 0;
}
