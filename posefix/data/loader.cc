#include "posefix/data/loader.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "opencv2/core.hpp"
#include "posefix/core/coco_io.h"
#include "posefix/core/image_io.h"
#include "posefix/core/random.h"

namespace posefix {

absl::StatusOr<std::unique_ptr<Loader>> Loader::Create(
    const CocoDataset* dataset, std::string image_root, const KeypointSchema* schema,
    DataOptions options, double overlap_iou, InputPoseSynthesizer synthesizer, uint64_t seed) {
  absl::Status valid = ValidateDataOptions(options, "loader");
  if (!valid.ok()) return valid;
  if (!synthesizer) return absl::InvalidArgumentError("loader: no input-pose synthesizer");
  for (const PersonAnnotation& annotation : dataset->annotations) {
    if (static_cast<int>(annotation.keypoints.size()) != schema->keypoint_names_size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "annotation ", annotation.id, " has ", annotation.keypoints.size(),
          " keypoints but schema '", schema->name(), "' has ", schema->keypoint_names_size()));
    }
  }
  return std::unique_ptr<Loader>(new Loader(dataset, std::move(image_root), schema,
                                            std::move(options), overlap_iou, std::move(synthesizer),
                                            seed));
}

Loader::Loader(const CocoDataset* dataset, std::string image_root, const KeypointSchema* schema,
               DataOptions options, double overlap_iou, InputPoseSynthesizer synthesizer,
               uint64_t seed)
    : dataset_(dataset),
      image_root_(std::move(image_root)),
      schema_(schema),
      options_(std::move(options)),
      overlap_iou_(overlap_iou),
      synthesizer_(std::move(synthesizer)),
      seed_(seed),
      persons_(TrainablePersons(*dataset)),
      image_index_(IndexImages(*dataset)),
      persons_by_image_(GroupAnnotationsByImage(*dataset)) {
  for (int i = 0; i < options_.num_threads(); ++i) workers_.emplace_back([this] { Work(); });
}

Loader::~Loader() { StopWorkers(); }

void Loader::StopWorkers() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  for (std::thread& worker : workers_) worker.join();
  workers_.clear();
}

void Loader::StartEpoch(int epoch) {
  // A seeded Fisher-Yates shuffle: the same order on every machine.
  std::vector<int> order(persons_.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
  DeterministicRandom random(MixSeed({seed_, static_cast<uint64_t>(epoch), 0x5EED}));
  for (size_t i = order.size(); i > 1; --i) {
    const size_t j = static_cast<size_t>(random.Uniform01() * static_cast<double>(i));
    std::swap(order[i - 1], order[j]);
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    order_ = std::move(order);
    epoch_ = epoch;
    ++generation_;
    next_to_claim_ = 0;
    next_to_return_ = 0;
    window_.clear();
  }
  changed_.notify_all();
}

Loader::Slot Loader::Produce(int person, int position, int epoch) const {
  Slot slot;
  slot.ready = true;
  const PersonAnnotation& annotation = dataset_->annotations[person];
  const ImageInfo& image_info = dataset_->images[image_index_.at(annotation.image_id)];
  const std::string path = absl::StrCat(image_root_, "/", image_info.file_name);
  const cv::Mat image = ReadImage(path);
  if (image.empty()) {
    slot.skipped = options_.skip_unreadable_images();
    slot.sample = absl::NotFoundError(
        absl::StrCat(path, ": cannot read or decode the image of annotation ", annotation.id,
                     " (images[].file_name \"", image_info.file_name, "\")"));
    return slot;
  }
  const uint64_t seed =
      MixSeed({seed_, static_cast<uint64_t>(epoch), static_cast<uint64_t>(position)});
  try {
    slot.sample =
        MakeTrainingSample(image, *dataset_, person, persons_by_image_.at(annotation.image_id),
                           *schema_, options_, overlap_iou_, synthesizer_, seed);
  } catch (const cv::Exception& error) {  // e.g. a failed allocation
    slot.sample = absl::ResourceExhaustedError(
        absl::StrCat(path, ": annotation ", annotation.id, ": OpenCV failed: ", error.what()));
  }
  return slot;
}

void Loader::Work() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    changed_.wait(lock, [this] {
      return stopping_ || (epoch_ >= 0 && next_to_claim_ < static_cast<int>(order_.size()) &&
                           next_to_claim_ < next_to_return_ + options_.queue_capacity());
    });
    if (stopping_) return;
    const int position = next_to_claim_++;
    const int person = persons_[order_[position]];
    const int epoch = epoch_, generation = generation_;
    lock.unlock();
    Slot slot = Produce(person, position, epoch);
    lock.lock();
    if (generation != generation_) continue;  // the epoch was restarted meanwhile
    const int offset = position - next_to_return_;
    if (static_cast<int>(window_.size()) <= offset) window_.resize(offset + 1);
    window_[offset] = std::move(slot);
    changed_.notify_all();
  }
}

absl::StatusOr<std::optional<TrainingSample>> Loader::Next() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (epoch_ < 0) return absl::FailedPreconditionError("Loader::Next before StartEpoch");
  while (true) {
    if (next_to_return_ >= static_cast<int>(order_.size())) return std::nullopt;
    changed_.wait(lock, [this] { return !window_.empty() && window_.front().ready; });
    Slot slot = std::move(window_.front());
    window_.pop_front();
    ++next_to_return_;
    changed_.notify_all();
    if (slot.skipped) {
      ++skipped_;
      continue;
    }
    if (!slot.sample.ok()) return slot.sample.status();
    return std::optional<TrainingSample>(*std::move(slot.sample));
  }
}

}  // namespace posefix
