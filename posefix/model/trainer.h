#ifndef POSEFIX_MODEL_TRAINER_H_
#define POSEFIX_MODEL_TRAINER_H_

// Training PoseFix and its ablations (torch-free header; the implementation
// is in trainer.cc). One call trains from a configuration to a checkpoint,
// resuming from the latest checkpoint of the run's directory when there is
// one, so an interrupted run (even by kill -9) continues where its last
// checkpoint left it; on the CPU with a fixed thread count the resumed run
// ends with the same weights, bit for bit, as an uninterrupted one.

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "posefix/core/keypoint_schema.pb.h"
#include "posefix/data/data_options.pb.h"
#include "posefix/model/model.pb.h"
#include "posefix/model/training.pb.h"
#include "posefix/synth/error_model.pb.h"

namespace posefix {

struct TrainerConfig {
  // The network. input_height/input_width also set the crop size of `data`
  // (whose own sizes must be unset or equal).
  ModelOptions model;
  TrainingOptions training;
  // Cropping, augmentation and the loader's threads.
  DataOptions data;
  // The synthesis of input poses (MODEL_AGNOSTIC); an empty message is the
  // release's model.
  ErrorModel error_model;
  // The keypoint schema (flip pairs, sigmas). Empty: COCO-17.
  KeypointSchema schema;

  // A COCO keypoint annotation file and the folder its images[].file_name
  // are relative to (file_name may hold a subfolder, e.g. "val2017/x.jpg").
  std::string train_annotations;
  std::string train_images;
  // Optional: an estimator's COCO keypoint results on the training images.
  // Each trainable person gets the best-overlapping result's pose, and its
  // unlabelled keypoints are synthesized around that pose's points, as the
  // release does (AttachEstimates in posefix/synth). Empty: they are placed
  // near the person's labelled keypoints.
  std::string train_estimates;

  // Checkpoints (epoch_NNNN.pt) and the sidecar training_state.pbtxt are
  // written here; created if missing. A directory with a training state
  // resumes that run.
  std::string checkpoint_dir;
  // Optional: torchvision ResNet weights for the backbone
  // (posefix/model/weight_import.h: TorchScript or state dict); only used
  // when a run starts, not when it resumes.
  std::string init_weights;
  // E2E_REFINE only: the ESTIMATOR checkpoint the refinement net is
  // appended to.
  std::string estimator_checkpoint;

  // Network initialization, loader order, augmentation and synthesis all
  // follow this seed.
  uint64_t seed = 0;
};

struct EpochRecord {
  int epoch = 0;  // 0-based
  double loss = 0;
  double heatmap_loss = 0;
  double coordinate_loss = 0;
  int64_t samples = 0;
  double seconds = 0;
  double samples_per_second = 0;
  double learning_rate = 0;
  // Optimizer steps taken when the epoch ended.
  int64_t step = 0;
};

struct TrainingResult {
  // Every epoch of the run, including those done before a resume.
  std::vector<EpochRecord> curve;
  // Path of the last checkpoint (a Refiner loads it: Refiner::FromCheckpoint).
  std::string final_checkpoint;
  // E2E_REFINE: the fine-tuned estimator written beside final_checkpoint
  // (the refinement net); empty otherwise.
  std::string final_estimator_checkpoint;
  // The device trained on, e.g. "cpu" or "cuda:0".
  std::string device;
  // Training seconds over all runs of this checkpoint_dir.
  double seconds = 0;
  int64_t steps = 0;
  // Samples skipped because their image could not be read
  // (data.skip_unreadable_images).
  int64_t skipped_samples = 0;
  // True when this call continued an earlier run.
  bool resumed = false;
};

// Checks a configuration before any work: every error names the field, as
// "TrainerConfig: training.lr_milestones[1]: must increase".
absl::Status ValidateTrainerConfig(const TrainerConfig& config);

// Trains (or resumes) and returns the curve and the final checkpoint, on
// the LibTorch threads the program set (SetComputeThreads with
// ResolveTrainingOptions(training).num_threads(), training_options.h): the
// count is process-wide, so library code leaves it to programs.
// `progress` (nullable) gets a progress bar: one line rewritten in place when
// it is a terminal (std::cerr on a TTY), else a plain line every
// log_every_steps steps, with loss, samples/s and time left. A run whose
// directory already holds the final epoch returns at once.
absl::StatusOr<TrainingResult> Train(const TrainerConfig& config, std::ostream* progress);

}  // namespace posefix

#endif  // POSEFIX_MODEL_TRAINER_H_
