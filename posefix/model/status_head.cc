#include "posefix/model/status_head.h"

#include <torch/torch.h>

#include <exception>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "posefix/core/coco_io.h"
#include "posefix/core/file_util.h"
#include "posefix/core/keypoint_schema.h"
#include "posefix/core/status_macros.h"
#include "posefix/data/loader.h"
#include "posefix/data/training_sample.h"
#include "posefix/eval/oks.h"
#include "posefix/model/checkpoint.h"
#include "posefix/model/codec.h"
#include "posefix/model/network.h"
#include "posefix/model/training_batch.h"
#include "posefix/synth/synthesizer.h"

namespace posefix {
namespace {

constexpr double kSegmentToBoxArea = 0.53;
constexpr double kBoxScale = 1.25;

// Appends the records of one packed batch.
void RecordBatch(PoseFixNetImpl& net, const PoseCodec& codec, const PackedBatch& batch,
                 const std::vector<double>& sigmas, const torch::Device device,
                 std::vector<StatusRecord>& records) {
  const ResolvedModelOptions& options = net.options();
  const double box_area = options.input_height * options.input_width / (kBoxScale * kBoxScale);
  const double area = kSegmentToBoxArea * box_area;
  torch::Tensor refined, probabilities;
  {
    torch::InferenceMode inference;
    const torch::Tensor points = batch.input_poses.to(device);
    const NetworkOutput output = net.Run(codec.EncodeInput(batch.crops.to(device), points), points);
    refined = codec.Decode(output.heatmaps).to(torch::kCPU, torch::kDouble).contiguous();
    probabilities = torch::softmax(output.status_logits.to(torch::kFloat), 2)
                        .to(torch::kCPU, torch::kDouble)
                        .contiguous();
  }
  const torch::Tensor inputs_tensor = batch.input_poses.to(torch::kDouble);
  const torch::Tensor targets_tensor = batch.targets.to(torch::kDouble);
  const auto inputs = inputs_tensor.accessor<double, 3>();
  const auto targets = targets_tensor.accessor<double, 3>();
  const auto outputs = refined.accessor<double, 3>();
  const auto p = probabilities.accessor<double, 3>();
  const auto labels = batch.input_status.accessor<int64_t, 2>();
  for (int64_t i = 0; i < labels.size(0); ++i) {
    for (int64_t j = 0; j < labels.size(1); ++j) {
      if (labels[i][j] < 0 || targets[i][j][2] <= 0) continue;
      StatusRecord record;
      record.label = static_cast<int>(labels[i][j]);
      for (int k = 0; k < kNumInputStatuses; ++k) record.probabilities[k] = p[i][j][k];
      const double gx = targets[i][j][0], gy = targets[i][j][1];
      const double variance = 4 * sigmas[j] * sigmas[j];  // OKS's (2 sigma)^2
      record.ks_input =
          KeypointSimilarity(inputs[i][j][0] - gx, inputs[i][j][1] - gy, variance, area);
      record.ks_refined =
          KeypointSimilarity(outputs[i][j][0] - gx, outputs[i][j][1] - gy, variance, area);
      records.push_back(record);
    }
  }
}

double MeanSelectiveKs(const std::vector<StatusRecord>& records, double threshold, int64_t* moved) {
  double sum = 0;
  int64_t count_moved = 0;
  for (const StatusRecord& r : records) {
    const bool keep = r.probabilities[0] >= threshold;
    sum += keep ? r.ks_input : r.ks_refined;
    count_moved += keep ? 0 : 1;
  }
  if (moved != nullptr) *moved = count_moved;
  return records.empty() ? 0 : sum / records.size();
}

}  // namespace

absl::StatusOr<std::vector<StatusRecord>> CollectStatusRecords(
    PoseFixNetImpl& net, const PoseCodec& codec, Loader& loader, int epoch, int max_samples,
    int batch_size, const std::vector<double>& sigmas, const std::string& device_name) {
  const ResolvedModelOptions& options = net.options();
  if (!options.status_head) {
    return absl::FailedPreconditionError("the model has no status head");
  }
  if (static_cast<int>(sigmas.size()) != options.num_keypoints) {
    return absl::InvalidArgumentError(absl::StrCat("CollectStatusRecords: ", sigmas.size(),
                                                   " sigmas for ", options.num_keypoints,
                                                   " keypoints"));
  }
  std::vector<StatusRecord> records;
  try {
    const torch::Device device(device_name);
    net.eval();
    loader.StartEpoch(epoch);
    int seen = 0;
    bool exhausted = false;
    while (!exhausted && seen < max_samples) {
      std::vector<TrainingSample> samples;
      while (static_cast<int>(samples.size()) < batch_size && seen < max_samples) {
        ASSIGN_OR_RETURN(std::optional<TrainingSample> next, loader.Next());
        if (!next.has_value()) {
          exhausted = true;
          break;
        }
        samples.push_back(std::move(*next));
        ++seen;
      }
      if (samples.empty()) break;
      ASSIGN_OR_RETURN(
          const PackedBatch packed,
          PackSamples(samples, options.input_height, options.input_width, options.num_keypoints));
      RecordBatch(net, codec, packed, sigmas, device, records);
    }
  } catch (const std::exception& error) {
    return absl::InternalError(absl::StrCat("CollectStatusRecords: ", ErrorMessage(error)));
  }
  return records;
}

double ChooseKeepThreshold(const std::vector<StatusRecord>& records) {
  double best_threshold = 0, best = -1;
  // From 0.02: a stored threshold of 0 would mean "the default".
  for (int step = 1; step <= 50; ++step) {
    const double threshold = step / 50.0;
    const double ks = MeanSelectiveKs(records, threshold, nullptr);
    if (ks > best) {
      best = ks;
      best_threshold = threshold;
    }
  }
  return best_threshold;
}

StatusHeadReport SummarizeStatusRecords(const std::vector<StatusRecord>& records,
                                        double keep_threshold) {
  StatusHeadReport report;
  report.keypoints = static_cast<int64_t>(records.size());
  report.keep_threshold = keep_threshold;
  if (records.empty()) return report;
  double input = 0, refined = 0;
  for (const StatusRecord& r : records) {
    int predicted = 0;
    for (int k = 1; k < kNumInputStatuses; ++k) {
      if (r.probabilities[k] > r.probabilities[predicted]) predicted = k;
    }
    ++report.confusion[r.label][predicted];
    input += r.ks_input;
    refined += r.ks_refined;
  }
  report.mean_ks_input = input / records.size();
  report.mean_ks_refined = refined / records.size();
  int64_t moved = 0;
  report.mean_ks_selective = MeanSelectiveKs(records, keep_threshold, &moved);
  report.moved_fraction = static_cast<double>(moved) / records.size();
  return report;
}

std::string FormatStatusHeadReport(const StatusHeadReport& report) {
  std::string text = "| status | keypoints | recall | precision |\n|---|---|---|---|\n";
  for (int s = 0; s < kNumInputStatuses; ++s) {
    int64_t row = 0, column = 0;
    for (int k = 0; k < kNumInputStatuses; ++k) {
      row += report.confusion[s][k];
      column += report.confusion[k][s];
    }
    const int64_t hits = report.confusion[s][s];
    absl::StrAppendFormat(&text, "| %s | %d | %.3f | %.3f |\n",
                          SynthesisStatusName(static_cast<SynthesisStatus>(s)), row,
                          row > 0 ? static_cast<double>(hits) / row : 0.0,
                          column > 0 ? static_cast<double>(hits) / column : 0.0);
  }
  absl::StrAppendFormat(&text,
                        "\n%d keypoints; mean KS: input %.4f, all refined %.4f, selective %.4f "
                        "(keep threshold %.2f, %.1f%% moved)\n",
                        report.keypoints, report.mean_ks_input, report.mean_ks_refined,
                        report.mean_ks_selective, report.keep_threshold,
                        100 * report.moved_fraction);
  return text;
}

absl::StatusOr<StatusHeadReport> EvaluateStatusHead(const StatusHeadEvalConfig& config) {
  ASSIGN_OR_RETURN(const CheckpointInfo info, ReadCheckpointInfo(config.checkpoint));
  ASSIGN_OR_RETURN(
      const ResolvedModelOptions resolved,
      ResolveModelOptions(info.options, absl::StrCat(config.checkpoint, ": model_options")));
  if (!resolved.status_head) {
    return FieldError(config.checkpoint, "model_options.status_head",
                      "the model has no status head");
  }
  PoseFixNetImpl net(resolved);
  RETURN_IF_ERROR(LoadCheckpoint(config.checkpoint, net, nullptr).status());
  const KeypointSchema& schema = CocoSchema();
  CocoReadOptions read_options;
  read_options.num_keypoints = resolved.num_keypoints;
  read_options.keep_extra_fields = false;
  ASSIGN_OR_RETURN(const CocoDataset dataset, ReadCocoDataset(config.annotations, read_options));
  ASSIGN_OR_RETURN(const Synthesizer synthesizer, Synthesizer::Create(ErrorModel(), schema));
  ASSIGN_OR_RETURN(DataOptions data,
                   DataOptionsForCrop(WithoutAugmentation(DataOptions()), resolved.input_height,
                                      resolved.input_width, config.checkpoint));
  data.set_num_threads(1);
  ASSIGN_OR_RETURN(
      const std::unique_ptr<Loader> loader,
      Loader::Create(&dataset, config.images, &schema, data, synthesizer.model().overlap_iou(),
                     SynthesizerFunction(&synthesizer), config.seed));
  const std::unique_ptr<PoseCodec> codec = PoseCodec::Create(resolved);
  ASSIGN_OR_RETURN(
      const std::vector<StatusRecord> records,
      CollectStatusRecords(net, *codec, *loader, 0, config.max_samples, 16, Sigmas(schema), "cpu"));
  return SummarizeStatusRecords(records, resolved.keep_threshold);
}

}  // namespace posefix
