#include "posefix/model/trainer.h"

#include <ATen/Parallel.h>
#include <torch/types.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "posefix/core/coco_io.h"
#include "posefix/core/elapsed.h"
#include "posefix/core/file_util.h"
#include "posefix/core/keypoint_schema.h"
#include "posefix/core/status_macros.h"
#include "posefix/data/loader.h"
#include "posefix/data/training_sample.h"
#include "posefix/model/codec.h"
#include "posefix/model/model_options.h"
#include "posefix/model/network.h"
#include "posefix/model/status_head.h"
#include "posefix/model/training_batch.h"
#include "posefix/model/training_optimizer.h"
#include "posefix/model/training_options.h"
#include "posefix/model/training_progress.h"
#include "posefix/model/training_state.h"
#include "posefix/model/training_step.h"
#include "posefix/synth/synthesizer.h"

namespace posefix {
namespace {

constexpr char kConfigSource[] = "TrainerConfig";
// Synthesized training samples the status head's keep threshold is chosen on.
constexpr int kCalibrationSamples = 512;

const KeypointSchema& SchemaOf(const TrainerConfig& config) {
  return config.schema.keypoint_names_size() > 0 ? config.schema : CocoSchema();
}

// The training persons and the loader over them (which points into the
// dataset and the synthesizer).
struct TrainingData {
  std::unique_ptr<CocoDataset> dataset;
  std::unique_ptr<Synthesizer> synthesizer;
  std::unique_ptr<Loader> loader;
};

absl::StatusOr<TrainingData> LoadTrainingData(const TrainerConfig& config,
                                              const KeypointSchema& schema, const DataOptions& data,
                                              std::ostream* progress) {
  CocoReadOptions read_options;
  read_options.num_keypoints = schema.keypoint_names_size();
  read_options.keep_extra_fields = false;
  ASSIGN_OR_RETURN(CocoDataset dataset, ReadCocoDataset(config.train_annotations, read_options));
  TrainingData training;
  training.dataset = std::make_unique<CocoDataset>(std::move(dataset));
  if (!config.train_estimates.empty()) {
    ResultsReadOptions results_options;
    results_options.num_keypoints = schema.keypoint_names_size();
    results_options.keep_extra_fields = false;
    ASSIGN_OR_RETURN(const std::vector<KeypointResult> estimates,
                     ReadCocoResults(config.train_estimates, results_options));
    const int attached = AttachEstimates(estimates, *training.dataset);
    if (attached == 0) {
      return FieldError(config.train_estimates, "image_id",
                        "no result overlaps a trainable person of the training annotations");
    }
    if (progress != nullptr) {
      *progress << "estimates for unlabelled keypoints: " << attached << " persons from "
                << config.train_estimates << "\n";
    }
  }
  ASSIGN_OR_RETURN(Synthesizer synthesizer,
                   Synthesizer::Create(config.error_model, schema, "TrainerConfig.error_model"));
  training.synthesizer = std::make_unique<Synthesizer>(std::move(synthesizer));
  ASSIGN_OR_RETURN(training.loader,
                   Loader::Create(training.dataset.get(), config.train_images, &schema, data,
                                  training.synthesizer->model().overlap_iou(),
                                  SynthesizerFunction(training.synthesizer.get()), config.seed));
  if (training.loader->epoch_size() == 0) {
    return FieldError(config.train_annotations, "annotations",
                      "no trainable person (non-crowd, >= 1 labelled keypoint, positive box)");
  }
  return training;
}

// The run the directory holds, or nullopt for a new one; the directory is
// created if missing, and what a killed run was writing (up to a checkpoint's
// size each) is removed.
absl::StatusOr<std::optional<TrainingState>> OpenRunDirectory(const std::string& dir,
                                                              uint64_t seed) {
  if (absl::Status created = CreateDirectories(dir); !created.ok()) {
    return FieldError(kConfigSource, "checkpoint_dir", created.message());
  }
  RemoveStaleTemporaries(dir);
  return ReadResumableState(dir, seed);
}

// The next batch: batch_size samples, fewer when the epoch's stream ends.
absl::StatusOr<std::vector<TrainingSample>> NextBatch(Loader& loader, int batch_size) {
  std::vector<TrainingSample> batch;
  batch.reserve(batch_size);
  while (static_cast<int>(batch.size()) < batch_size) {
    ASSIGN_OR_RETURN(std::optional<TrainingSample> next, loader.Next());
    if (!next.has_value()) break;
    batch.push_back(*std::move(next));
  }
  return batch;
}

// Draws and drops `count` samples; false when the epoch's stream ended first.
absl::StatusOr<bool> SkipSamples(Loader& loader, int64_t count) {
  for (int64_t i = 0; i < count; ++i) {
    ASSIGN_OR_RETURN(const std::optional<TrainingSample> next, loader.Next());
    if (!next.has_value()) return false;
  }
  return true;
}

// One run's parts, set up by TrainImpl in this order and composed by the
// epoch loop.
struct TrainingRun {
  TrainingOptions options;
  // The model as checkpoints store it (the status head's calibration sets
  // its keep_threshold) and resolved.
  ModelOptions model;
  ResolvedModelOptions resolved;
  const KeypointSchema* schema = nullptr;
  torch::Device device = torch::kCPU;
  std::string dir;
  TrainingData data;
  TrainingState state;
  bool resuming = false;
  TrainingNetworks nets;
  std::optional<torch::optim::Adam> adam;
  std::unique_ptr<PoseCodec> codec;
  std::unique_ptr<TrainingStep> step;
  LossScaler scaler{false, 1};
  int steps_per_epoch = 0;
  std::optional<TrainingProgress> progress;
  // When this process started training, and what earlier processes of the
  // run had counted by then.
  std::chrono::steady_clock::time_point start;
  double earlier_seconds = 0;
  int64_t earlier_skipped_samples = 0;
};

// The run-wide figures every saved state carries.
void RecordRunTotals(TrainingRun& run) {
  run.state.set_loss_scale(run.scaler.scale());
  run.state.set_skipped_samples(run.earlier_skipped_samples + run.data.loader->skipped());
  run.state.set_seconds(run.earlier_seconds + SecondsSince(run.start));
}

absl::Status SaveRunCheckpoint(TrainingRun& run, const std::string& name) {
  RETURN_IF_ERROR(
      SaveTrainingNetworks(run.dir, name, run.model, run.nets, *run.adam, run.state.step()));
  return RecordCheckpoint(run.dir, name, &run.state);
}

// The selective policy's keep threshold, chosen on fresh synthesized
// training samples (the epoch after the last) and stored with the model.
absl::Status CalibrateStatusHead(TrainingRun& run) {
  ASSIGN_OR_RETURN(
      const std::vector<StatusRecord> records,
      CollectStatusRecords(*run.nets.net, *run.codec, *run.data.loader, run.options.epochs(),
                           kCalibrationSamples, run.options.batch_size(), Sigmas(*run.schema),
                           run.device.str()));
  const double threshold = ChooseKeepThreshold(records);
  run.model.mutable_status_head()->set_keep_threshold(static_cast<float>(threshold));
  run.progress->Message(
      absl::StrCat("status head on up to ", kCalibrationSamples, " synthesized training samples:\n",
                   FormatStatusHeadReport(SummarizeStatusRecords(records, threshold))));
  return absl::OkStatus();
}

absl::Status TrainEpoch(TrainingRun& run, int epoch) {
  const auto epoch_start = std::chrono::steady_clock::now();
  const TrainingOptions& options = run.options;
  const double rate = LearningRate(options, epoch);
  SetLearningRate(*run.adam, rate);
  for (torch::nn::Module* module : run.nets.Modules()) module->train();
  Loader& loader = *run.data.loader;
  loader.StartEpoch(epoch);
  EpochTotals totals = UnfinishedEpoch(run.state);
  // A resumed epoch: the loader's stream is deterministic, so dropping the
  // samples already trained on puts the next batch exactly where the
  // interrupted run was.
  ASSIGN_OR_RETURN(const bool more, SkipSamples(loader, totals.samples));
  bool exhausted = !more;
  auto epoch_seconds = [&] { return totals.earlier_seconds + SecondsSince(epoch_start); };

  while (!exhausted && totals.steps < run.steps_per_epoch) {
    ASSIGN_OR_RETURN(const std::vector<TrainingSample> batch,
                     NextBatch(loader, options.batch_size()));
    exhausted = static_cast<int>(batch.size()) < options.batch_size();
    if (batch.empty()) break;
    ASSIGN_OR_RETURN(const PackedBatch packed,
                     PackSamples(batch, run.resolved.input_height, run.resolved.input_width,
                                 run.resolved.num_keypoints));
    const EncodedBatch encoded = EncodeBatch(packed, *run.codec, run.device);

    run.adam->zero_grad();
    const Losses losses = run.step->Forward(packed, encoded);
    const bool applied = run.scaler.BackwardAndStep(losses.total, *run.adam);
    const int64_t n = encoded.size;
    const double total = losses.total.item<double>();
    if (!std::isfinite(total) && !run.scaler.enabled()) {
      return absl::InternalError(absl::StrCat("training diverged: loss ", total, " at epoch ",
                                              epoch, " step ", totals.steps));
    }
    if (applied) {
      totals.loss_sum += total * n;
      if (losses.heatmap.defined()) totals.heatmap_sum += losses.heatmap.item<double>() * n;
      if (losses.coordinate.defined()) {
        totals.coordinate_sum += losses.coordinate.item<double>() * n;
      }
      totals.loss_samples += n;
    } else {
      ++totals.skipped_steps;
    }
    totals.samples += n;
    ++totals.steps;
    run.state.set_step(run.state.step() + 1);
    run.progress->StepDone(epoch, totals.steps, n, totals.MeanLoss());

    if (options.checkpoint_every_steps() > 0 && !exhausted && totals.steps < run.steps_per_epoch &&
        totals.steps % options.checkpoint_every_steps() == 0) {
      SaveUnfinishedEpoch(totals, epoch_seconds(), &run.state);
      RecordRunTotals(run);
      RETURN_IF_ERROR(SaveRunCheckpoint(run, MidEpochCheckpointName(epoch, totals.steps)));
    }
  }
  run.progress->EpochDone(epoch, totals.steps, totals.MeanLoss());
  FinishEpoch(epoch, totals, epoch_seconds(), rate, &run.state);
  RecordRunTotals(run);

  const bool last = epoch + 1 == options.epochs();
  if (last && run.resolved.status_head && !run.model.status_head().has_keep_threshold()) {
    RETURN_IF_ERROR(CalibrateStatusHead(run));
  }
  if (last || (epoch + 1) % options.checkpoint_every_epochs() == 0) {
    RETURN_IF_ERROR(SaveRunCheckpoint(run, EpochCheckpointName(epoch)));
    if (options.has_keep_checkpoints()) {
      DeleteOldCheckpoints(run.dir, run.state, options.keep_checkpoints());
    }
  }
  return absl::OkStatus();
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

TrainingResult ResultOf(const TrainingRun& run) {
  const TrainingState& state = run.state;
  TrainingResult result;
  for (const EpochRecordProto& record : state.curve()) result.curve.push_back(FromProto(record));
  if (!state.checkpoint().empty()) {
    result.final_checkpoint = CheckpointPath(run.dir, state.checkpoint());
    if (run.nets.estimator) {
      result.final_estimator_checkpoint =
          CheckpointPath(run.dir, EstimatorCheckpointName(state.checkpoint()));
    }
  }
  result.device = state.device();
  result.seconds = state.seconds();
  result.steps = state.step();
  result.skipped_samples = state.skipped_samples();
  result.resumed = run.resuming;
  return result;
}

absl::StatusOr<TrainingResult> TrainImpl(const TrainerConfig& config, std::ostream* progress) {
  RETURN_IF_ERROR(ValidateTrainerConfig(config));
  TrainingRun run;
  run.options = ResolveTrainingOptions(config.training);
  const TrainingOptions& options = run.options;
  run.schema = &SchemaOf(config);
  ASSIGN_OR_RETURN(run.model,
                   ModelOptionsForMode(config.model, options.mode(),
                                       run.schema->keypoint_names_size(), kConfigSource));
  ASSIGN_OR_RETURN(run.resolved, ResolveModelOptions(run.model, "TrainerConfig.model"));
  ASSIGN_OR_RETURN(const DataOptions data,
                   DataOptionsForCrop(config.data, run.resolved.input_height,
                                      run.resolved.input_width, kConfigSource));
  ASSIGN_OR_RETURN(run.device, ParseDevice(options.device(), "training.device"));
  ASSIGN_OR_RETURN(run.data, LoadTrainingData(config, *run.schema, data, progress));

  run.dir = config.checkpoint_dir;
  ASSIGN_OR_RETURN(std::optional<TrainingState> previous, OpenRunDirectory(run.dir, config.seed));
  run.resuming = previous.has_value();
  if (run.resuming) {
    run.state = *std::move(previous);
  } else {
    run.state.set_seed(config.seed);
    run.state.set_loss_scale(LossScaler::kInitialScale);
  }

  // The initial weights only start a run; a resumed one loads its checkpoint.
  ASSIGN_OR_RETURN(run.nets, CreateTrainingNetworks(run.resolved, config.estimator_checkpoint,
                                                    run.resuming ? "" : config.init_weights,
                                                    config.seed, run.device));
  run.adam.emplace(MakeAdam(run.nets.Modules(), options));
  if (run.resuming) {
    RETURN_IF_ERROR(
        LoadTrainingNetworks(run.dir, run.state.checkpoint(), run.resolved, run.nets, *run.adam));
  }
  run.codec = PoseCodec::Create(run.resolved);
  const bool mixed = options.mixed_precision() && run.device.is_cuda();
  run.step = CreateTrainingStep(run.nets, *run.codec, run.device, mixed);
  run.scaler = LossScaler(mixed, run.state.loss_scale());

  const int batch_size = options.batch_size();
  const int epoch_size = run.data.loader->epoch_size();
  run.steps_per_epoch = (epoch_size + batch_size - 1) / batch_size;
  if (options.max_steps_per_epoch() > 0) {
    run.steps_per_epoch = std::min(run.steps_per_epoch, options.max_steps_per_epoch());
  }
  run.progress.emplace(progress, options.log_every_steps(), options.epochs(), run.steps_per_epoch);
  if (run.resuming && run.state.epochs_done() < options.epochs()) {
    run.progress->Message(absl::StrCat("resuming ", run.dir, " after epoch ",
                                       run.state.epochs_done(), " (step ", run.state.step(), ")"));
  }
  if (!run.resuming) {
    run.progress->Message(absl::StrCat(
        "training ", VariantName(run.resolved), " ", BackboneName(run.resolved), " ",
        run.resolved.input_height, "x", run.resolved.input_width, " on ", run.device.str(), " (",
        at::get_num_threads(), " threads): ", epoch_size, " persons, ", run.steps_per_epoch,
        " steps of ", batch_size, " per epoch, ", options.epochs(), " epochs"));
  }
  run.state.set_device(run.device.str());

  run.start = std::chrono::steady_clock::now();
  run.earlier_seconds = run.state.seconds();
  run.earlier_skipped_samples = run.state.skipped_samples();
  for (int epoch = run.state.epochs_done(); epoch < options.epochs(); ++epoch) {
    RETURN_IF_ERROR(TrainEpoch(run, epoch));
  }
  return ResultOf(run);
}

}  // namespace

absl::Status ValidateTrainerConfig(const TrainerConfig& config) {
  const TrainingOptions& t = config.training;
  RETURN_IF_ERROR(ValidateTrainingOptions(t, kConfigSource));
  if (t.mode() == E2E_REFINE && config.estimator_checkpoint.empty()) {
    return FieldError(kConfigSource, "estimator_checkpoint",
                      "training.mode E2E_REFINE needs the pre-trained estimator's checkpoint");
  }
  if (t.mode() != E2E_REFINE && !config.estimator_checkpoint.empty()) {
    return FieldError(kConfigSource, "estimator_checkpoint", "only for training.mode E2E_REFINE");
  }
  if (config.train_annotations.empty()) {
    return FieldError(kConfigSource, "train_annotations", "is required");
  }
  if (config.train_images.empty()) return FieldError(kConfigSource, "train_images", "is required");
  if (config.checkpoint_dir.empty()) {
    return FieldError(kConfigSource, "checkpoint_dir", "is required");
  }
  if (config.schema.keypoint_names_size() > 0) {
    RETURN_IF_ERROR(ValidateKeypointSchema(config.schema, "TrainerConfig.schema"));
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

}  // namespace posefix
