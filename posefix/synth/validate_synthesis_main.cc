// Item 6 of the synthesis issue: the error taxonomy of posefix/eval applied to
// synthesized poses reproduces the ErrorModel's status frequencies.
//   bazel run //posefix/synth:validate_synthesis --
//   --gt=$PWD/../shared/data/coco/annotations/person_keypoints_val2017_rebuilt.json
#include <cstdio>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gflags/gflags.h"
#include "posefix/core/coco_io.h"
#include "posefix/core/command_line.h"
#include "posefix/core/keypoint_schema.h"
#include "posefix/core/status_macros.h"
#include "posefix/synth/synthesis_validation.h"

DEFINE_string(gt, "testdata/coco/annotations/person_keypoints_val2017_local.json",
              "COCO keypoint annotation file.");
DEFINE_uint64(seed, 0, "First seed.");
DEFINE_int32(seeds, 1, "Number of seeds (seed, seed + 1, ...): each synthesizes every person.");
DEFINE_string(error_model, "", "Text-format ErrorModel; fields left out keep the release's.");
DEFINE_string(area, "annotation", "'annotation' or 'box', as for synthesize.");

namespace posefix {
namespace {

absl::Status Run() {
  ResolvePathFlags({"gt", "error_model"});
  if (FLAGS_seeds <= 0) return absl::InvalidArgumentError("--seeds: must be positive");
  absl::StatusOr<AreaSource> area_source = ParseAreaSource(FLAGS_area);
  if (!area_source.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--area: ", area_source.status().message()));
  }
  ASSIGN_OR_RETURN(const Synthesizer synthesizer, LoadSynthesizer(FLAGS_error_model, CocoSchema()));
  CocoReadOptions options;
  options.keep_extra_fields = false;
  ASSIGN_OR_RETURN(const CocoDataset dataset, ReadCocoDataset(FLAGS_gt, options));
  std::vector<uint64_t> seeds;
  for (int i = 0; i < FLAGS_seeds; ++i) seeds.push_back(FLAGS_seed + i);
  ASSIGN_OR_RETURN(const SynthesisValidation validation,
                   ValidateSynthesis(dataset, synthesizer, seeds, *area_source, FLAGS_gt));
  std::printf("%s: area = %s\n%s", FLAGS_gt.c_str(), FLAGS_area.c_str(),
              FormatSynthesisValidation(validation).c_str());
  return absl::OkStatus();
}

}  // namespace
}  // namespace posefix

int main(int argc, char** argv) {
  return posefix::RunCommandLine(
      argc, argv, "--gt=FILE [--seed=N] [--seeds=N] [--error_model=FILE] [--area=annotation|box]",
      posefix::Run);
}
