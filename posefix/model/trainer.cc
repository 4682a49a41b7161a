#include "posefix/model/trainer.h"

#include <ATen/Parallel.h>
#include <ATen/autocast_mode.h>
#include <torch/optim/adam.h>
#include <torch/utils.h>
#include <torch/version.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <thread>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "posefix/core/coco_io.h"
#include "posefix/core/file_util.h"
#include "posefix/core/keypoint_schema.h"
#include "posefix/core/text_proto.h"
#include "posefix/data/loader.h"
#include "posefix/data/training_sample.h"
#include "posefix/model/checkpoint.h"
#include "posefix/model/codec.h"
#include "posefix/model/model_options.h"
#include "posefix/model/network.h"
#include "posefix/model/status_head.h"
#include "posefix/model/training_batch.h"
#include "posefix/model/training_options.h"
#include "posefix/model/weight_import.h"
#include "posefix/synth/synthesizer.h"

namespace posefix {
namespace {

namespace fs = std::filesystem;

constexpr char kConfigSource[] = "TrainerConfig";
constexpr char kStateFile[] = "training_state.pbtxt";
// Dynamic loss scaling (mixed precision): the start, and how many finite
// steps in a row double the scale.
constexpr double kInitialLossScale = 65536.0;
constexpr int kLossScaleGrowthInterval = 2000;
// Synthesized training samples the status head's keep threshold is chosen on.
constexpr int kCalibrationSamples = 512;

std::string StatePath(const std::string& dir) { return (fs::path(dir) / kStateFile).string(); }

std::string CheckpointName(int epoch, absl::string_view suffix) {
  return absl::StrFormat("epoch_%04d%s.pt", epoch, suffix);
}

absl::StatusOr<std::optional<TrainingState>> ReadState(const std::string& dir) {
  const std::string path = StatePath(dir);
  std::error_code error;
  if (!fs::exists(path, error)) return std::optional<TrainingState>();
  TrainingState state;
  if (absl::Status status = ReadTextProto(path, &state); !status.ok()) return status;
  return std::optional<TrainingState>(std::move(state));
}

EpochRecord FromProto(const EpochRecordProto& proto) {
  EpochRecord record;
  record.epoch = proto.epoch();
  record.loss = proto.loss();
  record.heatmap_loss = proto.heatmap_loss();
  record.coordinate_loss = proto.coordinate_loss();
  record.samples = proto.samples();
  record.seconds = proto.seconds();
  record.samples_per_second = proto.samples_per_second();
  record.learning_rate = proto.learning_rate();
  record.step = proto.step();
  return record;
}

double LearningRate(const TrainingOptions& options, int epoch) {
  double rate = options.learning_rate();
  for (int milestone : options.lr_milestones()) {
    if (epoch >= milestone) rate *= options.lr_factor();
  }
  return rate;
}

std::string FormatDuration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const int64_t s = static_cast<int64_t>(seconds + 0.5);
  if (s >= 3600) return absl::StrFormat("%dh%02dm", s / 3600, (s % 3600) / 60);
  if (s >= 60) return absl::StrFormat("%dm%02ds", s / 60, s % 60);
  return absl::StrFormat("%ds", s);
}

bool IsTerminal(const std::ostream* stream) {
  if (stream == &std::cerr || stream == &std::clog) return isatty(STDERR_FILENO);
  if (stream == &std::cout) return isatty(STDOUT_FILENO);
  return false;
}

// One line rewritten in place on a terminal; a plain line every
// `every_steps` steps (and at each epoch's end) elsewhere.
class ProgressBar {
 public:
  ProgressBar(std::ostream* out, int every_steps, int64_t total_steps)
      : out_(out),
        terminal_(IsTerminal(out)),
        every_steps_(every_steps),
        total_steps_(total_steps),
        start_(std::chrono::steady_clock::now()) {}

  // `done_steps`: steps of the whole run so far (this process counts its own
  // speed only).
  void Update(int epoch, int epochs, int step_in_epoch, int steps_in_epoch, int64_t done_steps,
              int64_t steps_this_process, int64_t samples_this_process, double loss,
              bool end_of_epoch) {
    if (out_ == nullptr) return;
    if (!terminal_ && !end_of_epoch && step_in_epoch % every_steps_ != 0) return;
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const double rate = seconds > 0 ? samples_this_process / seconds : 0;
    const double seconds_per_step = steps_this_process > 0 ? seconds / steps_this_process : 0;
    const double left = seconds_per_step * static_cast<double>(total_steps_ - done_steps);
    const int width = 20;
    const int filled = steps_in_epoch > 0 ? width * step_in_epoch / steps_in_epoch : width;
    const std::string bar = std::string(filled, '=') + std::string(width - filled, ' ');
    const std::string line = absl::StrFormat(
        "epoch %d/%d [%s] %d/%d loss %.4f  %.1f samples/s  %s left", epoch + 1, epochs, bar,
        step_in_epoch, steps_in_epoch, loss, rate, FormatDuration(left));
    if (terminal_) {
      *out_ << '\r' << line << "\x1b[K";
      if (end_of_epoch) *out_ << '\n';
    } else {
      *out_ << line << '\n';
    }
    out_->flush();
  }

  void Message(const std::string& text) {
    if (out_ != nullptr) *out_ << text << '\n' << std::flush;
  }

 private:
  std::ostream* out_;
  bool terminal_;
  int every_steps_;
  int64_t total_steps_;
  std::chrono::steady_clock::time_point start_;
};

// Turns autocast on for a forward pass on CUDA (no-op elsewhere).
class AutocastScope {
 public:
  explicit AutocastScope(bool enabled) : enabled_(enabled) {
    if (enabled_) SetAutocast(true);
  }
  ~AutocastScope() {
    if (!enabled_) return;
    SetAutocast(false);
    at::autocast::clear_cache();
  }

 private:
  static void SetAutocast(bool on) {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
    at::autocast::set_autocast_enabled(at::kCUDA, on);
#else
    at::autocast::set_enabled(on);
#endif
  }
  bool enabled_;
};

// Adam parameter groups: weight decay on convolution kernels only.
std::vector<torch::optim::OptimizerParamGroup> ParameterGroups(
    const std::vector<torch::nn::Module*>& modules, const TrainingOptions& options) {
  std::vector<torch::Tensor> decayed, other;
  for (torch::nn::Module* module : modules) {
    for (const auto& item : module->named_parameters()) {
      const bool kernel = item.value().dim() == 4 && absl::EndsWith(item.key(), "weight");
      (kernel ? decayed : other).push_back(item.value());
    }
  }
  const double decay = options.weight_decay() > 0 ? options.weight_decay() : 0.0;
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decayed, std::make_unique<torch::optim::AdamOptions>(
                                   torch::optim::AdamOptions(options.learning_rate())
                                       .betas({0.9, 0.999})
                                       .eps(1e-8)
                                       .weight_decay(decay)));
  groups.emplace_back(other, std::make_unique<torch::optim::AdamOptions>(
                                 torch::optim::AdamOptions(options.learning_rate())
                                     .betas({0.9, 0.999})
                                     .eps(1e-8)
                                     .weight_decay(0)));
  return groups;
}

void SetLearningRate(torch::optim::Adam& adam, double rate) {
  for (auto& group : adam.param_groups()) {
    static_cast<torch::optim::AdamOptions&>(group.options()).lr(rate);
  }
}

// All gradients finite (one device reduction).
bool GradientsFinite(torch::optim::Adam& adam) {
  std::vector<torch::Tensor> flags;
  for (auto& group : adam.param_groups()) {
    for (auto& p : group.params()) {
      if (p.grad().defined()) flags.push_back(torch::isfinite(p.grad()).all());
    }
  }
  if (flags.empty()) return true;
  return torch::stack(flags).all().item<bool>();
}

void ScaleGradients(torch::optim::Adam& adam, double factor) {
  torch::NoGradGuard no_grad;
  for (auto& group : adam.param_groups()) {
    for (auto& p : group.params()) {
      if (p.grad().defined()) p.grad().mul_(factor);
    }
  }
}

absl::StatusOr<ModelOptions> ModelOptionsForMode(const TrainerConfig& config) {
  ModelOptions model = config.model;
  const TrainingMode mode = config.training.mode();
  if (mode == ESTIMATOR) {
    if (model.input_encoding() == POSE_INPUT_ENCODING_UNSPECIFIED) {
      model.set_input_encoding(POSE_INPUT_NONE);
    }
    if (model.input_encoding() != POSE_INPUT_NONE) {
      return FieldError(kConfigSource, "model.input_encoding",
                        "training.mode ESTIMATOR needs POSE_INPUT_NONE (no pose input)");
    }
  } else if (model.input_encoding() == POSE_INPUT_NONE) {
    return FieldError(kConfigSource, "model.input_encoding",
                      "POSE_INPUT_NONE is for training.mode ESTIMATOR; a refiner needs a pose");
  }
  if (mode == E2E_REFINE && model.input_encoding() == POSE_INPUT_FINE) {
    return FieldError(kConfigSource, "model.input_encoding",
                      "E2E_REFINE renders the estimator's pose differentiably: needs "
                      "POSE_INPUT_COARSE");
  }
  const KeypointSchema& schema =
      config.schema.keypoint_names_size() > 0 ? config.schema : CocoSchema();
  if (model.num_keypoints() == 0) model.set_num_keypoints(schema.keypoint_names_size());
  if (model.num_keypoints() != schema.keypoint_names_size()) {
    return FieldError(kConfigSource, "model.num_keypoints",
                      absl::StrCat(model.num_keypoints(), " but the schema has ",
                                   schema.keypoint_names_size(), " keypoints"));
  }
  return model;
}

absl::StatusOr<DataOptions> DataOptionsForModel(const TrainerConfig& config,
                                                const ResolvedModelOptions& model) {
  DataOptions data = config.data;
  if (data.input_height() != 0 && data.input_height() != model.input_height) {
    return FieldError(kConfigSource, "data.input_height",
                      absl::StrCat(data.input_height(), " differs from the model's ",
                                   model.input_height, " (leave it unset)"));
  }
  if (data.input_width() != 0 && data.input_width() != model.input_width) {
    return FieldError(kConfigSource, "data.input_width",
                      absl::StrCat(data.input_width(), " differs from the model's ",
                                   model.input_width, " (leave it unset)"));
  }
  data.set_input_height(model.input_height);
  data.set_input_width(model.input_width);
  data = ResolveDataOptions(data);
  if (absl::Status status = ValidateDataOptions(data, "TrainerConfig.data"); !status.ok()) {
    return status;
  }
  return data;
}

// The networks being trained: the model and, for E2E_REFINE, the estimator
// in front of it.
struct Networks {
  std::shared_ptr<PoseFixNetImpl> net;
  std::shared_ptr<PoseFixNetImpl> estimator;  // E2E_REFINE only
  ModelOptions estimator_options;
  // The estimator's own codec: its pixel normalization and its decoding, as
  // when it estimates alone.
  std::unique_ptr<PoseCodec> estimator_codec;
};

std::string EstimatorName(const std::string& checkpoint_name) {
  return absl::StrCat(checkpoint_name.substr(0, checkpoint_name.size() - 3), ".estimator.pt");
}

absl::Status SaveAll(const std::string& dir, const std::string& name, const ModelOptions& model,
                     Networks& nets, const torch::optim::Adam& adam, int64_t step) {
  if (nets.estimator) {
    absl::Status status = SaveCheckpoint((fs::path(dir) / EstimatorName(name)).string(),
                                         nets.estimator_options, *nets.estimator, nullptr, step);
    if (!status.ok()) return status;
  }
  return SaveCheckpoint((fs::path(dir) / name).string(), model, *nets.net, &adam, step);
}

// Mid-epoch checkpoints are only kept until the next checkpoint.
void RemoveMidEpochCheckpoint(const std::string& dir, const std::string& name) {
  if (name.find("_step_") == std::string::npos) return;
  std::error_code error;
  fs::remove(fs::path(dir) / name, error);
  fs::remove(fs::path(dir) / EstimatorName(name), error);
}

void DeleteOldCheckpoints(const std::string& dir, const TrainingState& state, int keep) {
  if (keep <= 0) return;
  // Epoch numbers that have checkpoints, newest first.
  std::vector<int> epochs;
  for (const EpochRecordProto& record : state.curve()) epochs.push_back(record.epoch());
  std::sort(epochs.rbegin(), epochs.rend());
  int kept = 0;
  for (int epoch : epochs) {
    const fs::path path = fs::path(dir) / CheckpointName(epoch, "");
    std::error_code error;
    if (!fs::exists(path, error)) continue;
    if (path.filename().string() == state.checkpoint()) continue;
    if (kept++ < keep) continue;
    fs::remove(path, error);
    fs::remove(fs::path(dir) / CheckpointName(epoch, ".estimator"), error);
  }
}

absl::StatusOr<TrainingResult> TrainImpl(const TrainerConfig& config, std::ostream* progress) {
  if (absl::Status status = ValidateTrainerConfig(config); !status.ok()) return status;
  const TrainingOptions options = ResolveTrainingOptions(config.training);
  const KeypointSchema& schema =
      config.schema.keypoint_names_size() > 0 ? config.schema : CocoSchema();
  absl::StatusOr<ModelOptions> model = ModelOptionsForMode(config);
  if (!model.ok()) return model.status();
  absl::StatusOr<ResolvedModelOptions> resolved =
      ResolveModelOptions(*model, "TrainerConfig.model");
  if (!resolved.ok()) return resolved.status();
  absl::StatusOr<DataOptions> data = DataOptionsForModel(config, *resolved);
  if (!data.ok()) return data.status();
  absl::StatusOr<torch::Device> device = ParseDevice(options.device(), "training.device");
  if (!device.ok()) return device.status();
  at::set_num_threads(options.num_threads());

  CocoReadOptions read_options;
  read_options.num_keypoints = schema.keypoint_names_size();
  read_options.keep_extra_fields = false;
  absl::StatusOr<CocoDataset> dataset = ReadCocoDataset(config.train_annotations, read_options);
  if (!dataset.ok()) return dataset.status();
  if (!config.train_estimates.empty()) {
    ResultsReadOptions results_options;
    results_options.num_keypoints = schema.keypoint_names_size();
    results_options.keep_extra_fields = false;
    absl::StatusOr<std::vector<KeypointResult>> estimates =
        ReadCocoResults(config.train_estimates, results_options);
    if (!estimates.ok()) return estimates.status();
    const int attached = AttachEstimates(*estimates, *dataset);
    if (attached == 0) {
      return FieldError(config.train_estimates, "image_id",
                        "no result overlaps a trainable person of the training annotations");
    }
    if (progress != nullptr) {
      *progress << "estimates for unlabelled keypoints: " << attached << " persons from "
                << config.train_estimates << "\n";
    }
  }
  absl::StatusOr<Synthesizer> synthesizer =
      Synthesizer::Create(config.error_model, schema, "TrainerConfig.error_model");
  if (!synthesizer.ok()) return synthesizer.status();
  absl::StatusOr<std::unique_ptr<Loader>> loader = Loader::Create(
      &*dataset, config.train_images, &schema, *data, synthesizer->model().overlap_iou(),
      SynthesizerFunction(&*synthesizer), config.seed);
  if (!loader.ok()) return loader.status();
  if ((*loader)->epoch_size() == 0) {
    return FieldError(config.train_annotations, "annotations",
                      "no trainable person (non-crowd, >= 1 labelled keypoint, positive box)");
  }

  const std::string dir = config.checkpoint_dir;
  if (absl::Status created = CreateDirectories(dir); !created.ok()) {
    return FieldError(kConfigSource, "checkpoint_dir", created.message());
  }
  // What a killed run was writing (up to a checkpoint's size each).
  RemoveStaleTemporaries(dir);
  absl::StatusOr<std::optional<TrainingState>> previous = ReadState(dir);
  if (!previous.ok()) return previous.status();
  TrainingState state;
  const bool resuming = previous->has_value();
  if (resuming) {
    state = **previous;
    if (state.seed() != config.seed) {
      return FieldError(StatePath(dir), "seed",
                        absl::StrCat("the run in this directory used seed ", state.seed(),
                                     ", the configuration asks for ", config.seed,
                                     "; use another checkpoint_dir"));
    }
  } else {
    state.set_seed(config.seed);
    state.set_loss_scale(kInitialLossScale);
  }

  // Networks, seeded so that a fresh run is reproducible.
  torch::manual_seed(config.seed);
  Networks nets;
  nets.net = std::make_shared<PoseFixNetImpl>(*resolved);
  std::vector<torch::nn::Module*> trained = {nets.net.get()};
  if (options.mode() == E2E_REFINE) {
    const std::string path = config.estimator_checkpoint;
    absl::StatusOr<CheckpointInfo> info = ReadCheckpointInfo(path);
    if (!info.ok()) return info.status();
    absl::StatusOr<ResolvedModelOptions> estimator_options =
        ResolveModelOptions(info->options, path);
    if (!estimator_options.ok()) return estimator_options.status();
    if (estimator_options->has_pose_input() ||
        estimator_options->input_height != resolved->input_height ||
        estimator_options->input_width != resolved->input_width ||
        estimator_options->num_keypoints != resolved->num_keypoints) {
      return FieldError(path, "options",
                        "the estimator must take no pose input and have the model's input size "
                        "and keypoints");
    }
    if (estimator_options->output_encoding != POSE_OUTPUT_INTEGRAL) {
      return FieldError(
          path, "options.output_encoding",
          absl::StrCat("E2E_REFINE decodes the estimator differentiably (soft-argmax): "
                       "needs POSE_OUTPUT_INTEGRAL, got ",
                       PoseOutputEncoding_Name(estimator_options->output_encoding)));
    }
    nets.estimator_codec = PoseCodec::Create(*estimator_options);
    nets.estimator_options = info->options;
    nets.estimator = std::make_shared<PoseFixNetImpl>(*estimator_options);
    absl::StatusOr<CheckpointInfo> loaded = LoadCheckpoint(path, *nets.estimator, nullptr);
    if (!loaded.ok()) return loaded.status();
    trained.push_back(nets.estimator.get());
  }
  if (!resuming && !config.init_weights.empty()) {
    absl::Status status =
        ImportBackboneWeights(config.init_weights, resolved->channel_order, *nets.net);
    if (!status.ok()) return status;
  }
  for (torch::nn::Module* module : trained) module->to(*device);
  torch::optim::Adam adam(ParameterGroups(trained, options),
                          torch::optim::AdamOptions(options.learning_rate()));
  if (resuming) {
    const std::string path = (fs::path(dir) / state.checkpoint()).string();
    absl::StatusOr<CheckpointInfo> info = LoadCheckpoint(path, *nets.net, &adam);
    if (!info.ok()) return info.status();
    // The network would load at any size; the run would silently change.
    absl::StatusOr<ResolvedModelOptions> stored = ResolveModelOptions(info->options, path);
    if (!stored.ok()) return stored.status();
    if (stored->input_height != resolved->input_height ||
        stored->input_width != resolved->input_width) {
      return FieldError(
          path, "options.input_height",
          absl::StrCat("the run in this directory trains at ", stored->input_height, "x",
                       stored->input_width, ", the configuration asks for ", resolved->input_height,
                       "x", resolved->input_width, "; use another checkpoint_dir"));
    }
    if (nets.estimator) {
      const std::string estimator_path =
          (fs::path(dir) / EstimatorName(state.checkpoint())).string();
      absl::StatusOr<CheckpointInfo> estimator_info =
          LoadCheckpoint(estimator_path, *nets.estimator, nullptr);
      if (!estimator_info.ok()) return estimator_info.status();
    }
  }

  const std::unique_ptr<PoseCodec> codec = PoseCodec::Create(*resolved);
  const bool mixed = options.mixed_precision() && device->is_cuda();
  double loss_scale = mixed ? state.loss_scale() : 1.0;
  int good_steps = 0;
  const int batch_size = options.batch_size();
  const int epoch_size = (*loader)->epoch_size();
  int steps_per_epoch = (epoch_size + batch_size - 1) / batch_size;
  if (options.max_steps_per_epoch() > 0) {
    steps_per_epoch = std::min(steps_per_epoch, options.max_steps_per_epoch());
  }
  const int64_t total_steps = static_cast<int64_t>(steps_per_epoch) * options.epochs();
  ProgressBar bar(progress, options.log_every_steps(), total_steps);
  if (resuming && state.epochs_done() < options.epochs()) {
    bar.Message(absl::StrCat("resuming ", dir, " after epoch ", state.epochs_done(), " (step ",
                             state.step(), ")"));
  }
  if (!resuming) {
    bar.Message(absl::StrCat("training ", VariantName(*resolved), " ", BackboneName(*resolved), " ",
                             resolved->input_height, "x", resolved->input_width, " on ",
                             device->str(), " (", at::get_num_threads(), " threads): ", epoch_size,
                             " persons, ", steps_per_epoch, " steps of ", batch_size,
                             " per epoch, ", options.epochs(), " epochs"));
  }
  state.set_device(device->str());

  const auto run_start = std::chrono::steady_clock::now();
  const double previous_seconds = state.seconds();
  int64_t steps_this_process = 0, samples_this_process = 0;
  const int64_t skipped_before = state.skipped_samples();
  std::string checkpoint_path =
      state.checkpoint().empty() ? "" : (fs::path(dir) / state.checkpoint()).string();

  for (int epoch = state.epochs_done(); epoch < options.epochs(); ++epoch) {
    const auto epoch_start = std::chrono::steady_clock::now();
    const double rate = LearningRate(options, epoch);
    SetLearningRate(adam, rate);
    for (torch::nn::Module* module : trained) module->train();
    (*loader)->StartEpoch(epoch);
    double loss_sum = 0, heatmap_sum = 0, coordinate_sum = 0, seconds_before = 0;
    // samples: drawn from the loader this epoch; loss_samples: those of the
    // steps that were applied, which the losses average over.
    int64_t samples = 0, loss_samples = 0, skipped_steps = 0;
    int step_in_epoch = 0;
    bool exhausted = false;
    if (state.steps_in_epoch() > 0) {
      // Resuming from a mid-epoch checkpoint: the loader's stream is
      // deterministic, so skipping the samples already trained on puts the
      // next batch exactly where the interrupted run was.
      step_in_epoch = state.steps_in_epoch();
      loss_sum = state.partial_loss_sum();
      heatmap_sum = state.partial_heatmap_sum();
      coordinate_sum = state.partial_coordinate_sum();
      samples = state.partial_samples();
      loss_samples = state.partial_loss_samples();
      skipped_steps = state.partial_skipped_steps();
      seconds_before = state.partial_seconds();
      for (int64_t i = 0; i < samples && !exhausted; ++i) {
        absl::StatusOr<std::optional<TrainingSample>> next = (*loader)->Next();
        if (!next.ok()) return next.status();
        exhausted = !next->has_value();
      }
    }
    while (!exhausted && step_in_epoch < steps_per_epoch) {
      std::vector<TrainingSample> batch;
      batch.reserve(batch_size);
      while (static_cast<int>(batch.size()) < batch_size) {
        absl::StatusOr<std::optional<TrainingSample>> next = (*loader)->Next();
        if (!next.ok()) return next.status();
        if (!next->has_value()) {
          exhausted = true;
          break;
        }
        batch.push_back(std::move(**next));
      }
      if (batch.empty()) break;
      absl::StatusOr<PackedBatch> packed = PackSamples(
          batch, resolved->input_height, resolved->input_width, resolved->num_keypoints);
      if (!packed.ok()) return packed.status();
      const EncodedBatch encoded = EncodeBatch(*packed, *codec, *device);

      adam.zero_grad();
      bool skipped = false;
      Losses losses;
      {
        NetworkOutput output;
        {
          AutocastScope autocast(mixed);
          if (nets.estimator) {
            const torch::Tensor coords = nets.estimator_codec->Decode(
                nets.estimator
                    ->forward(nets.estimator_codec->EncodeImages(packed->crops.to(*device)))
                    .to(torch::kFloat));
            const torch::Tensor points =
                torch::cat({coords, torch::ones_like(coords.narrow(2, 0, 1))}, 2);
            const torch::Tensor heatmaps =
                RenderGaussianHeatmaps(points, resolved->input_height, resolved->input_width,
                                       resolved->input_sigma, resolved->input_heatmap_scale);
            output.heatmaps = nets.net->forward(torch::cat({encoded.images, heatmaps}, 1));
          } else {
            output = nets.net->Run(encoded.input, encoded.input_points);
          }
        }
        losses = codec->Loss(output.heatmaps.to(torch::kFloat), encoded.targets);
        if (output.status_logits.defined()) {
          losses.status = StatusLoss(output.status_logits, encoded.input_status);
          losses.total = losses.total + resolved->status_loss_weight * losses.status;
        }
      }
      if (mixed) {
        (losses.total * loss_scale).backward();
        if (GradientsFinite(adam)) {
          ScaleGradients(adam, 1.0 / loss_scale);
          adam.step();
          if (++good_steps >= kLossScaleGrowthInterval) {
            loss_scale *= 2;
            good_steps = 0;
          }
        } else {
          loss_scale = std::max(1.0, loss_scale / 2);
          good_steps = 0;
          ++skipped_steps;
          skipped = true;
        }
      } else {
        losses.total.backward();
        adam.step();
      }
      const int64_t n = encoded.size;
      const double total = losses.total.item<double>();
      if (!std::isfinite(total) && !mixed) {
        return absl::InternalError(absl::StrCat("training diverged: loss ", total, " at epoch ",
                                                epoch, " step ", step_in_epoch));
      }
      if (!skipped) {
        loss_sum += total * n;
        if (losses.heatmap.defined()) heatmap_sum += losses.heatmap.item<double>() * n;
        if (losses.coordinate.defined()) coordinate_sum += losses.coordinate.item<double>() * n;
        loss_samples += n;
      }
      samples += n;
      ++step_in_epoch;
      ++steps_this_process;
      samples_this_process += n;
      state.set_step(state.step() + 1);
      const int64_t done = static_cast<int64_t>(epoch) * steps_per_epoch + step_in_epoch;
      bar.Update(epoch, options.epochs(), step_in_epoch, steps_per_epoch, done, steps_this_process,
                 samples_this_process, loss_samples > 0 ? loss_sum / loss_samples : 0, false);
      if (options.checkpoint_every_steps() > 0 && !exhausted && step_in_epoch < steps_per_epoch &&
          step_in_epoch % options.checkpoint_every_steps() == 0) {
        const std::string name = absl::StrFormat("epoch_%04d_step_%06d.pt", epoch, step_in_epoch);
        absl::Status saved = SaveAll(dir, name, *model, nets, adam, state.step());
        if (!saved.ok()) return saved;
        const std::string previous_name = state.checkpoint();
        state.set_checkpoint(name);
        state.set_steps_in_epoch(step_in_epoch);
        state.set_partial_loss_sum(loss_sum);
        state.set_partial_heatmap_sum(heatmap_sum);
        state.set_partial_coordinate_sum(coordinate_sum);
        state.set_partial_samples(samples);
        state.set_partial_loss_samples(loss_samples);
        state.set_partial_skipped_steps(skipped_steps);
        state.set_partial_seconds(
            seconds_before +
            std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_start).count());
        state.set_loss_scale(loss_scale);
        state.set_skipped_samples(skipped_before + (*loader)->skipped());
        state.set_seconds(
            previous_seconds +
            std::chrono::duration<double>(std::chrono::steady_clock::now() - run_start).count());
        // Written after the checkpoint is complete, as at epoch ends.
        if (absl::Status status = WriteTextProto(StatePath(dir), state); !status.ok()) {
          return status;
        }
        RemoveMidEpochCheckpoint(dir, previous_name);
      }
    }
    const double seconds =
        seconds_before +
        std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_start).count();
    bar.Update(epoch, options.epochs(), step_in_epoch, steps_per_epoch,
               static_cast<int64_t>(epoch + 1) * steps_per_epoch, steps_this_process,
               samples_this_process, loss_samples > 0 ? loss_sum / loss_samples : 0, true);

    EpochRecordProto* record = state.add_curve();
    record->set_epoch(epoch);
    record->set_samples(samples);
    if (loss_samples > 0) {
      record->set_loss(loss_sum / loss_samples);
      record->set_heatmap_loss(heatmap_sum / loss_samples);
      record->set_coordinate_loss(coordinate_sum / loss_samples);
    }
    record->set_seconds(seconds);
    record->set_samples_per_second(seconds > 0 ? samples / seconds : 0);
    record->set_learning_rate(rate);
    record->set_skipped_steps(skipped_steps);
    record->set_step(state.step());
    state.set_epochs_done(epoch + 1);
    state.set_steps_in_epoch(0);
    state.clear_partial_loss_sum();
    state.clear_partial_heatmap_sum();
    state.clear_partial_coordinate_sum();
    state.clear_partial_samples();
    state.clear_partial_loss_samples();
    state.clear_partial_skipped_steps();
    state.clear_partial_seconds();
    state.set_loss_scale(loss_scale);
    state.set_skipped_samples(skipped_before + (*loader)->skipped());
    state.set_seconds(
        previous_seconds +
        std::chrono::duration<double>(std::chrono::steady_clock::now() - run_start).count());

    const bool last = epoch + 1 == options.epochs();
    if (last && resolved->status_head && model->status_head().keep_threshold() == 0) {
      // The selective policy's threshold, chosen on fresh synthesized
      // training samples (the epoch after the last) and stored with the model.
      absl::StatusOr<std::vector<StatusRecord>> records =
          CollectStatusRecords(*nets.net, *codec, **loader, options.epochs(), kCalibrationSamples,
                               batch_size, Sigmas(schema), device->str());
      if (!records.ok()) return records.status();
      const double threshold = ChooseKeepThreshold(*records);
      model->mutable_status_head()->set_keep_threshold(static_cast<float>(threshold));
      bar.Message(absl::StrCat(
          "status head on up to ", kCalibrationSamples, " synthesized training samples:\n",
          FormatStatusHeadReport(SummarizeStatusRecords(*records, threshold))));
    }
    if (last || (epoch + 1) % options.checkpoint_every_epochs() == 0) {
      const std::string name = CheckpointName(epoch, "");
      absl::Status saved = SaveAll(dir, name, *model, nets, adam, state.step());
      if (!saved.ok()) return saved;
      const std::string previous_name = state.checkpoint();
      state.set_checkpoint(name);
      // The state names the checkpoint only once the checkpoint is complete:
      // a kill between the two leaves the previous, consistent pair.
      if (absl::Status status = WriteTextProto(StatePath(dir), state); !status.ok()) {
        return status;
      }
      checkpoint_path = (fs::path(dir) / name).string();
      RemoveMidEpochCheckpoint(dir, previous_name);
      DeleteOldCheckpoints(dir, state, options.keep_checkpoints());
    }
  }

  TrainingResult result;
  for (const EpochRecordProto& record : state.curve()) result.curve.push_back(FromProto(record));
  result.final_checkpoint = checkpoint_path;
  if (nets.estimator && !state.checkpoint().empty()) {
    result.final_estimator_checkpoint =
        (fs::path(dir) / EstimatorName(state.checkpoint())).string();
  }
  result.device = state.device();
  result.seconds = state.seconds();
  result.steps = state.step();
  result.skipped_samples = state.skipped_samples();
  result.resumed = resuming;
  return result;
}

}  // namespace

TrainingOptions ResolveTrainingOptions(TrainingOptions options) {
  if (options.mode() == TRAINING_MODE_UNSPECIFIED) options.set_mode(MODEL_AGNOSTIC);
  if (options.epochs() == 0) options.set_epochs(140);
  if (options.batch_size() == 0) options.set_batch_size(32);
  if (options.learning_rate() == 0) options.set_learning_rate(5e-4);
  if (options.lr_milestones_size() == 0) {
    options.add_lr_milestones(90);
    options.add_lr_milestones(120);
  }
  if (options.lr_factor() == 0) options.set_lr_factor(0.1);
  if (options.weight_decay() == 0) options.set_weight_decay(1e-5);
  if (options.num_threads() == 0) {
    options.set_num_threads(std::max(1u, std::thread::hardware_concurrency()));
  }
  if (options.device().empty()) options.set_device("auto");
  if (options.checkpoint_every_epochs() == 0) options.set_checkpoint_every_epochs(1);
  if (options.log_every_steps() == 0) options.set_log_every_steps(50);
  return options;
}

absl::Status ValidateTrainerConfig(const TrainerConfig& config) {
  const TrainingOptions& t = config.training;
  if (absl::Status status = ValidateTrainingOptions(t, kConfigSource); !status.ok()) return status;
  if (t.mode() == E2E_REFINE && config.estimator_checkpoint.empty()) {
    return FieldError(kConfigSource, "estimator_checkpoint",
                      "training.mode E2E_REFINE needs the pre-trained estimator's checkpoint");
  }
  if (t.mode() != E2E_REFINE && !config.estimator_checkpoint.empty()) {
    return FieldError(kConfigSource, "estimator_checkpoint", "only for training.mode E2E_REFINE");
  }
  if (config.model.status_head().enabled() && t.mode() != MODEL_AGNOSTIC &&
      t.mode() != TRAINING_MODE_UNSPECIFIED) {
    return FieldError(kConfigSource, "model.status_head.enabled",
                      "the status head learns from synthesized poses: training.mode "
                      "MODEL_AGNOSTIC only");
  }
  if (config.train_annotations.empty()) {
    return FieldError(kConfigSource, "train_annotations", "is required");
  }
  if (config.train_images.empty()) return FieldError(kConfigSource, "train_images", "is required");
  if (config.checkpoint_dir.empty()) {
    return FieldError(kConfigSource, "checkpoint_dir", "is required");
  }
  if (config.schema.keypoint_names_size() > 0) {
    if (absl::Status status = ValidateKeypointSchema(config.schema, "TrainerConfig.schema");
        !status.ok()) {
      return status;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<TrainingResult> Train(const TrainerConfig& config, std::ostream* progress) {
  try {
    return TrainImpl(config, progress);
  } catch (const std::exception& error) {
    return absl::InternalError(absl::StrCat("Train: ", ErrorMessage(error)));
  }
}

std::string EpochCheckpointPath(const std::string& checkpoint_dir, int epoch) {
  return (fs::path(checkpoint_dir) / CheckpointName(epoch, "")).string();
}

absl::StatusOr<std::string> LatestCheckpoint(const std::string& checkpoint_dir) {
  absl::StatusOr<std::optional<TrainingState>> state = ReadState(checkpoint_dir);
  if (!state.ok()) return state.status();
  if (!state->has_value() || (*state)->checkpoint().empty()) {
    return absl::NotFoundError(
        absl::StrCat(checkpoint_dir, ": no checkpoint (", kStateFile, " missing)"));
  }
  return (fs::path(checkpoint_dir) / (*state)->checkpoint()).string();
}

}  // namespace posefix
