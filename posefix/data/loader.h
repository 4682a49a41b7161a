#ifndef POSEFIX_DATA_LOADER_H_
#define POSEFIX_DATA_LOADER_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "posefix/core/keypoint_schema.pb.h"
#include "posefix/core/types.h"
#include "posefix/data/data_options.pb.h"
#include "posefix/data/training_sample.h"

namespace posefix {

// Decodes, crops, augments and synthesizes training samples on worker
// threads, at most `queue_capacity` ahead of the consumer (or one image's
// persons, when an image alone has more). An epoch visits the images in a
// shuffled order and each image's persons one after the other, in a
// shuffled order, so that a worker decodes each image once for all its
// persons. Augmentations and synthesis depend only on (seed, epoch,
// position): the same seed gives the same stream whatever the thread count.
class Loader {
 public:
  // `dataset` and `schema` must outlive the loader; `options` must be
  // resolved and valid. Images are read from image_root/file_name. Persons
  // whose boxes overlap by `overlap_iou` are each other's neighbours in the
  // synthesis (ErrorModel.overlap_iou).
  static absl::StatusOr<std::unique_ptr<Loader>> Create(
      const CocoDataset* dataset, std::string image_root, const KeypointSchema* schema,
      DataOptions options, double overlap_iou, InputPoseSynthesizer synthesizer, uint64_t seed);
  ~Loader();

  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  // Number of samples an epoch yields (before skips).
  int epoch_size() const { return static_cast<int>(persons_.size()); }

  // Starts `epoch`, dropping whatever was left of the previous one.
  void StartEpoch(int epoch);

  // The next sample of the epoch, nullopt at its end. An unreadable image is
  // an error naming the file, or a counted skip with skip_unreadable_images.
  absl::StatusOr<std::optional<TrainingSample>> Next();

  // Samples skipped so far because their image could not be read.
  int64_t skipped() const { return skipped_; }

 private:
  Loader(const CocoDataset* dataset, std::string image_root, const KeypointSchema* schema,
         DataOptions options, double overlap_iou, InputPoseSynthesizer synthesizer, uint64_t seed);

  struct Slot {
    bool ready = false;
    absl::StatusOr<TrainingSample> sample = absl::UnknownError("not produced");
    bool skipped = false;
  };

  void Work();
  void StopWorkers();
  // Makes the samples of `persons` (dataset annotations of one image, at
  // positions begin, begin + 1, ... of `epoch`), decoding the image once.
  std::vector<Slot> ProduceImage(const std::vector<int>& persons, int begin, int epoch) const;

  const CocoDataset* dataset_;
  const std::string image_root_;
  const KeypointSchema* schema_;
  const DataOptions options_;
  const double overlap_iou_;
  const InputPoseSynthesizer synthesizer_;
  const uint64_t seed_;
  std::vector<int> persons_;
  // persons_ grouped by image: positions in persons_.
  std::vector<std::vector<int>> image_groups_;
  absl::flat_hash_map<int64_t, int> image_index_;
  absl::flat_hash_map<int64_t, std::vector<int>> persons_by_image_;

  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<int> order_;         // this epoch's permutation of persons_
  std::vector<int> group_starts_;  // where each image's persons begin in order_, then its size
  int next_group_ = 0;             // first group no worker has taken
  int epoch_ = -1;
  int generation_ = 0;       // bumped by StartEpoch so stale work is dropped
  int next_to_return_ = 0;   // first position the consumer has not taken
  std::deque<Slot> window_;  // positions [next_to_return_, next_to_return_ + size)
  bool stopping_ = false;
  int64_t skipped_ = 0;
  std::vector<std::thread> workers_;
};

}  // namespace posefix

#endif  // POSEFIX_DATA_LOADER_H_
