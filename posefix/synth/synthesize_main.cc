// Synthesizes one input pose per annotated person of a COCO annotation file
// and writes them as a COCO keypoint results file (score 1):
//   bazel run //posefix/synth:synthesize -- --gt=$PWD/gt.json --out=$PWD/synth.json [--seed=N]
#include <cstdio>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gflags/gflags.h"
#include "posefix/core/coco_io.h"
#include "posefix/core/command_line.h"
#include "posefix/core/file_util.h"
#include "posefix/core/keypoint_schema.h"
#include "posefix/core/status_macros.h"
#include "posefix/synth/error_model.h"
#include "posefix/synth/synthesizer.h"

DEFINE_string(gt, "", "COCO keypoint annotation file (required).");
DEFINE_string(out, "", "COCO results file to write (required).");
DEFINE_uint64(seed, 0, "Seed; person p of image i draws from the stream (seed, i, p).");
DEFINE_string(schema, "coco",
              "Built-in keypoint schema (coco, crowdpose, mpii, posetrack) or a text-format "
              "KeypointSchema file.");
DEFINE_string(error_model, "",
              "Text-format ErrorModel; fields left out keep the release's values.");
DEFINE_string(area, "annotation",
              "Area that scales d^k: 'annotation' (the annotation's area, as OKS and the error "
              "taxonomy use) or 'box' (bbox width * height, the release's choice in crops).");

namespace posefix {
namespace {

absl::Status Run() {
  ResolvePathFlags({"gt", "out", "error_model"});
  if (FLAGS_gt.empty()) return absl::InvalidArgumentError("--gt: required");
  if (FLAGS_out.empty()) return absl::InvalidArgumentError("--out: required");
  absl::StatusOr<AreaSource> area_source = ParseAreaSource(FLAGS_area);
  if (!area_source.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--area: ", area_source.status().message()));
  }

  absl::StatusOr<KeypointSchema> resolved =
      ResolveKeypointSchema(FLAGS_schema, UserWorkingDirectory());
  if (!resolved.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--schema: ", resolved.status().message()));
  }
  const KeypointSchema& schema = *resolved;

  ASSIGN_OR_RETURN(const Synthesizer synthesizer, LoadSynthesizer(FLAGS_error_model, schema));

  CocoReadOptions read_options;
  read_options.num_keypoints = schema.keypoint_names_size();
  read_options.keep_extra_fields = false;
  ASSIGN_OR_RETURN(const CocoDataset dataset, ReadCocoDataset(FLAGS_gt, read_options));

  ASSIGN_OR_RETURN(const std::vector<SynthesizedPerson> people,
                   SynthesizeDataset(dataset, synthesizer, FLAGS_seed, *area_source, FLAGS_gt));

  const std::vector<KeypointResult> results = SynthesizedResults(people);
  RETURN_IF_ERROR(WriteCocoResults(FLAGS_out, results));
  std::fprintf(stderr, "%s: %zu synthesized poses\n", FLAGS_out.c_str(), results.size());
  return absl::OkStatus();
}

}  // namespace
}  // namespace posefix

int main(int argc, char** argv) {
  return posefix::RunCommandLine(argc, argv, "--gt=FILE --out=FILE [--seed=N] [--error_model=FILE]",
                                 posefix::Run);
}
