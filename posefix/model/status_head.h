#ifndef POSEFIX_MODEL_STATUS_HEAD_H_
#define POSEFIX_MODEL_STATUS_HEAD_H_

// Measuring and calibrating the status head (torch-free header): what the
// head predicts for synthesized input poses whose statuses are known, how
// often it is right per status, and the keep threshold of the selective
// refinement policy that maximizes keypoint similarity.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "posefix/model/model_options.h"

namespace posefix {

class Loader;          // posefix/data/loader.h
class PoseCodec;       // posefix/model/codec.h
class PoseFixNetImpl;  // posefix/model/network.h

// One labelled keypoint of a synthesized input pose.
struct StatusRecord {
  int label = 0;  // SynthesisStatus 0-4
  std::array<double, kNumInputStatuses> probabilities{};
  // Keypoint similarity with the ground truth of the input and of the
  // refined keypoint (crop pixels; see CollectStatusRecords for the area).
  double ks_input = 0;
  double ks_refined = 0;
};

// Runs `net` (eval mode, no flip test) over the first `max_samples` samples
// of the loader's `epoch` and records every keypoint whose input status the
// synthesizer labelled. KS uses the keypoint sigmas and, as the person's
// area, 0.53 x the area of the ground-truth box inside the crop (the crop is
// that box, aspect-fixed, x1.25; 0.53 is COCO's mean segment-to-box ratio).
absl::StatusOr<std::vector<StatusRecord>> CollectStatusRecords(
    PoseFixNetImpl& net, const PoseCodec& codec, Loader& loader, int epoch, int max_samples,
    int batch_size, const std::vector<double>& sigmas, const std::string& device);

// The threshold t in {0.02, 0.04, ..., 1} maximizing the mean KS when an input
// keypoint is kept where P(good) >= t and refined elsewhere (the lowest t on
// ties).
double ChooseKeepThreshold(const std::vector<StatusRecord>& records);

struct StatusHeadReport {
  int64_t keypoints = 0;
  // confusion[true][predicted] counts (argmax of the probabilities).
  std::array<std::array<int64_t, kNumInputStatuses>, kNumInputStatuses> confusion{};
  double keep_threshold = 0;
  // Fraction of keypoints the selective policy moves at keep_threshold.
  double moved_fraction = 0;
  // Mean KS: the input, every keypoint refined, and the selective policy.
  double mean_ks_input = 0;
  double mean_ks_refined = 0;
  double mean_ks_selective = 0;
};

StatusHeadReport SummarizeStatusRecords(const std::vector<StatusRecord>& records,
                                        double keep_threshold);

// A Markdown table of per-status recall and precision, then the KS figures.
std::string FormatStatusHeadReport(const StatusHeadReport& report);

// Held-out measurement: the release's synthesis on every trainable person of
// `annotations` (seeded, no augmentation), refined by the checkpoint's model
// on the CPU (at the thread count the program set), summarized at the
// checkpoint's keep threshold.
struct StatusHeadEvalConfig {
  std::string checkpoint;
  std::string annotations;
  std::string images;
  uint64_t seed = 0;
  int max_samples = 100000;
};
absl::StatusOr<StatusHeadReport> EvaluateStatusHead(const StatusHeadEvalConfig& config);

}  // namespace posefix

#endif  // POSEFIX_MODEL_STATUS_HEAD_H_
