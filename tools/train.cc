// Trains a PoseFix model (or an ablation) on a COCO-format dataset; resumes
// when --checkpoint_dir already holds a run.
//   bazel run //tools:train -- --annotations=A.json --images=DIR \
//       --checkpoint_dir=DIR [--resnet_depth=18 --input_height=128 ...]
// --model, --training and --data take text-format ModelOptions,
// TrainingOptions and DataOptions; the single-value flags override them.

#include <iostream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "gflags/gflags.h"
#include "posefix/core/command_line.h"
#include "posefix/core/file_util.h"
#include "posefix/core/keypoint_schema.h"
#include "posefix/core/status_macros.h"
#include "posefix/core/text_proto.h"
#include "posefix/model/compute_threads.h"
#include "posefix/model/trainer.h"
#include "posefix/model/training_options.h"
#include "posefix/synth/error_model.h"

DEFINE_string(annotations, "", "COCO keypoint annotation file to train on (required).");
DEFINE_string(images, "", "Folder that images[].file_name is relative to (required).");
DEFINE_string(estimates, "",
              "An estimator's COCO keypoint results on the training images: unlabelled "
              "keypoints are synthesized around them, as the release (optional).");
DEFINE_string(checkpoint_dir, "", "Run directory: checkpoints and training state (required).");
DEFINE_string(model, "", "Text-format ModelOptions, e.g. 'resnet_depth: 18'.");
DEFINE_string(training, "", "Text-format TrainingOptions.");
DEFINE_string(data, "", "Text-format DataOptions.");
DEFINE_string(error_model, "", "Text-format ErrorModel file (default: the release's).");
DEFINE_string(schema, "coco", "Built-in keypoint schema or a text-format KeypointSchema file.");
DEFINE_string(init_weights, "", "torchvision ResNet weights for the backbone (optional).");
DEFINE_string(estimator_checkpoint, "", "E2E_REFINE: the pre-trained estimator.");
DEFINE_uint64(seed, 0, "Seed of initialization, order, augmentation and synthesis.");
DEFINE_int32(resnet_depth, 0, "Overrides model.resnet_depth.");
DEFINE_int32(input_height, 0, "Overrides model.input_height.");
DEFINE_int32(input_width, 0, "Overrides model.input_width.");
DEFINE_int32(epochs, 0, "Overrides training.epochs.");
DEFINE_int32(batch_size, 0, "Overrides training.batch_size.");
DEFINE_double(learning_rate, 0, "Overrides training.learning_rate.");
DEFINE_string(lr_milestones, "", "Overrides training.lr_milestones, e.g. '20,26'.");
DEFINE_int32(threads, 0, "Overrides training.num_threads (LibTorch intra-op threads).");
DEFINE_int32(loader_threads, 0, "Overrides data.num_threads.");
DEFINE_int32(max_steps_per_epoch, 0, "Overrides training.max_steps_per_epoch.");
DEFINE_string(device, "", "Overrides training.device: auto, cpu, cuda, cuda:N.");

namespace posefix {
namespace {

absl::Status Run() {
  ResolvePathFlags({"annotations", "images", "estimates", "checkpoint_dir", "init_weights",
                    "estimator_checkpoint", "error_model"});
  TrainerConfig config;
  RETURN_IF_ERROR(ParseTextProto("--model", FLAGS_model, &config.model));
  RETURN_IF_ERROR(ParseTextProto("--training", FLAGS_training, &config.training));
  RETURN_IF_ERROR(ParseTextProto("--data", FLAGS_data, &config.data));
  absl::StatusOr<KeypointSchema> schema =
      ResolveKeypointSchema(FLAGS_schema, UserWorkingDirectory());
  if (!schema.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--schema: ", schema.status().message()));
  }
  config.schema = *std::move(schema);
  if (!FLAGS_error_model.empty()) {
    ASSIGN_OR_RETURN(config.error_model, LoadErrorModel(FLAGS_error_model, config.schema));
  }
  if (FLAGS_resnet_depth) config.model.set_resnet_depth(FLAGS_resnet_depth);
  if (FLAGS_input_height) config.model.set_input_height(FLAGS_input_height);
  if (FLAGS_input_width) config.model.set_input_width(FLAGS_input_width);
  if (FLAGS_epochs) config.training.set_epochs(FLAGS_epochs);
  if (FLAGS_batch_size) config.training.set_batch_size(FLAGS_batch_size);
  if (FLAGS_learning_rate) config.training.set_learning_rate(FLAGS_learning_rate);
  if (!FLAGS_lr_milestones.empty()) {
    config.training.clear_lr_milestones();
    for (absl::string_view part : absl::StrSplit(FLAGS_lr_milestones, ',')) {
      int epoch = 0;
      if (!absl::SimpleAtoi(part, &epoch)) {
        return FieldError("--lr_milestones", part, "not an integer");
      }
      config.training.add_lr_milestones(epoch);
    }
  }
  if (FLAGS_threads) config.training.set_num_threads(FLAGS_threads);
  if (FLAGS_loader_threads) config.data.set_num_threads(FLAGS_loader_threads);
  if (FLAGS_max_steps_per_epoch) config.training.set_max_steps_per_epoch(FLAGS_max_steps_per_epoch);
  if (!FLAGS_device.empty()) config.training.set_device(FLAGS_device);
  config.train_annotations = FLAGS_annotations;
  config.train_images = FLAGS_images;
  config.train_estimates = FLAGS_estimates;
  config.checkpoint_dir = FLAGS_checkpoint_dir;
  config.init_weights = FLAGS_init_weights;
  config.estimator_checkpoint = FLAGS_estimator_checkpoint;
  config.seed = FLAGS_seed;
  SetComputeThreads(ResolveTrainingOptions(config.training).num_threads());
  ASSIGN_OR_RETURN(const TrainingResult result, Train(config, &std::cerr));
  std::cout << "epoch,loss,heatmap_loss,coordinate_loss,samples,seconds,samples_per_second,lr\n";
  for (const EpochRecord& r : result.curve) {
    std::cout << r.epoch << ',' << r.loss << ',' << r.heatmap_loss << ',' << r.coordinate_loss
              << ',' << r.samples << ',' << r.seconds << ',' << r.samples_per_second << ','
              << r.learning_rate << '\n';
  }
  std::cout << "checkpoint: " << result.final_checkpoint << "\ndevice: " << result.device
            << "\nsteps: " << result.steps << "\nseconds: " << result.seconds
            << "\nskipped samples: " << result.skipped_samples << '\n';
  return absl::OkStatus();
}

}  // namespace
}  // namespace posefix

int main(int argc, char** argv) {
  posefix::KeepLargeAllocationsInTheHeap();
  return posefix::RunCommandLine(argc, argv, "Trains PoseFix; see tools/train.cc.", posefix::Run);
}
