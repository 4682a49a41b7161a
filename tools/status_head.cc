// Measures a checkpoint's status head on held-out synthesized poses: the
// release's synthesis (seeded, no augmentation) on every trainable person of
// an annotation file, then per-status recall and precision and the keypoint
// similarity of the input, of the refinement and of the selective policy at
// the checkpoint's keep threshold (a Markdown table on stdout):
//   bazel run //tools:status_head -- --checkpoint=FILE --gt=ANNOTATIONS.json \
//       --images=DIR [--seed=N]

#include "posefix/model/status_head.h"

#include <iostream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gflags/gflags.h"
#include "posefix/core/command_line.h"
#include "posefix/core/status_macros.h"
#include "posefix/model/compute_threads.h"

DEFINE_string(checkpoint, "", "PoseFix checkpoint trained with a status head (required).");
DEFINE_string(gt, "", "COCO keypoint annotation file of held-out images (required).");
DEFINE_string(images, "", "Folder the --gt file names are relative to (required).");
DEFINE_uint64(seed, 0, "Seed of the synthesis.");
DEFINE_int32(threads, 2, "LibTorch intra-op threads.");

namespace posefix {
namespace {

absl::Status Run() {
  ResolvePathFlags({"checkpoint", "gt", "images"});
  for (const auto& [name, value] :
       {std::pair<const char*, const std::string*>{"checkpoint", &FLAGS_checkpoint},
        {"gt", &FLAGS_gt},
        {"images", &FLAGS_images}}) {
    if (value->empty()) return absl::InvalidArgumentError(absl::StrCat("--", name, ": required"));
  }
  SetComputeThreads(FLAGS_threads);
  StatusHeadEvalConfig config;
  config.checkpoint = FLAGS_checkpoint;
  config.annotations = FLAGS_gt;
  config.images = FLAGS_images;
  config.seed = FLAGS_seed;
  ASSIGN_OR_RETURN(const StatusHeadReport report, EvaluateStatusHead(config));
  std::cout << FormatStatusHeadReport(report);
  return absl::OkStatus();
}

}  // namespace
}  // namespace posefix

int main(int argc, char** argv) {
  posefix::KeepLargeAllocationsInTheHeap();
  return posefix::RunCommandLine(argc, argv,
                                 "Status-head accuracy on held-out synthesized poses; see "
                                 "tools/status_head.cc.",
                                 posefix::Run);
}
