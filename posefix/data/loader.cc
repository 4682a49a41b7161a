#include "posefix/data/loader.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "opencv2/core.hpp"
#include "posefix/core/coco_io.h"
#include "posefix/core/image_io.h"
#include "posefix/core/random.h"
#include "posefix/core/status_macros.h"

namespace posefix {

absl::StatusOr<std::unique_ptr<Loader>> Loader::Create(
    const CocoDataset* dataset, std::string image_root, const KeypointSchema* schema,
    DataOptions options, double overlap_iou, InputPoseSynthesizer synthesizer, uint64_t seed) {
  RETURN_IF_ERROR(ValidateDataOptions(options, "loader"));
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
  absl::flat_hash_map<int64_t, int> group_of_image;
  for (int i = 0; i < static_cast<int>(persons_.size()); ++i) {
    const int64_t image_id = dataset_->annotations[persons_[i]].image_id;
    auto [it, inserted] = group_of_image.try_emplace(image_id, image_groups_.size());
    if (inserted) image_groups_.emplace_back();
    image_groups_[it->second].push_back(i);
  }
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
  // Seeded Fisher-Yates shuffles (the same order on every machine): of the
  // images, then of each image's persons.
  DeterministicRandom random(MixSeed({seed_, static_cast<uint64_t>(epoch), 0x5EED}));
  auto shuffle = [&random](std::vector<int>& values) {
    for (size_t i = values.size(); i > 1; --i) {
      const size_t j = static_cast<size_t>(random.Uniform01() * static_cast<double>(i));
      std::swap(values[i - 1], values[j]);
    }
  };
  std::vector<int> images(image_groups_.size());
  for (size_t i = 0; i < images.size(); ++i) images[i] = static_cast<int>(i);
  shuffle(images);
  std::vector<int> order, group_starts;
  order.reserve(persons_.size());
  for (int image : images) {
    std::vector<int> persons = image_groups_[image];
    shuffle(persons);
    group_starts.push_back(static_cast<int>(order.size()));
    order.insert(order.end(), persons.begin(), persons.end());
  }
  group_starts.push_back(static_cast<int>(order.size()));
  {
    std::lock_guard<std::mutex> lock(mutex_);
    order_ = std::move(order);
    group_starts_ = std::move(group_starts);
    epoch_ = epoch;
    ++generation_;
    next_group_ = 0;
    next_to_return_ = 0;
    window_.clear();
  }
  changed_.notify_all();
}

std::vector<Loader::Slot> Loader::ProduceImage(const std::vector<int>& persons, int begin,
                                               int epoch) const {
  std::vector<Slot> slots(persons.size());
  const int64_t image_id = dataset_->annotations[persons[0]].image_id;
  const ImageInfo& image_info = dataset_->images[image_index_.at(image_id)];
  const std::string path = absl::StrCat(image_root_, "/", image_info.file_name);
  const cv::Mat image = ReadImage(path);
  const std::vector<int>& image_persons = persons_by_image_.at(image_id);
  for (int position = begin; position < begin + static_cast<int>(persons.size()); ++position) {
    const int person = persons[position - begin];
    const PersonAnnotation& annotation = dataset_->annotations[person];
    Slot& slot = slots[position - begin];
    slot.ready = true;
    if (image.empty()) {
      slot.skipped = options_.skip_unreadable_images();
      slot.sample = absl::NotFoundError(
          absl::StrCat(path, ": cannot read or decode the image of annotation ", annotation.id,
                       " (images[].file_name \"", image_info.file_name, "\")"));
      continue;
    }
    const uint64_t seed =
        MixSeed({seed_, static_cast<uint64_t>(epoch), static_cast<uint64_t>(position)});
    try {
      slot.sample = MakeTrainingSample(image, *dataset_, person, image_persons, *schema_, options_,
                                       overlap_iou_, synthesizer_, seed);
    } catch (const cv::Exception& error) {  // e.g. a failed allocation
      slot.sample = absl::ResourceExhaustedError(
          absl::StrCat(path, ": annotation ", annotation.id, ": OpenCV failed: ", error.what()));
    }
  }
  return slots;
}

void Loader::Work() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    // The next image's persons fit within the capacity ahead of the
    // consumer, or are the very next positions it waits for.
    changed_.wait(lock, [this] {
      if (stopping_) return true;
      if (epoch_ < 0 || next_group_ + 1 >= static_cast<int>(group_starts_.size())) return false;
      return group_starts_[next_group_ + 1] <= next_to_return_ + options_.queue_capacity() ||
             group_starts_[next_group_] == next_to_return_;
    });
    if (stopping_) return;
    const int begin = group_starts_[next_group_], end = group_starts_[next_group_ + 1];
    ++next_group_;
    // Copied under the lock: StartEpoch may replace order_ meanwhile.
    std::vector<int> persons;
    for (int position = begin; position < end; ++position) {
      persons.push_back(persons_[order_[position]]);
    }
    const int epoch = epoch_, generation = generation_;
    lock.unlock();
    std::vector<Slot> slots = ProduceImage(persons, begin, epoch);
    lock.lock();
    if (generation != generation_) continue;  // the epoch was restarted meanwhile
    const int offset = begin - next_to_return_;
    if (static_cast<int>(window_.size()) < end - next_to_return_) {
      window_.resize(end - next_to_return_);
    }
    for (int i = 0; i < end - begin; ++i) window_[offset + i] = std::move(slots[i]);
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
    ASSIGN_OR_RETURN(TrainingSample sample, std::move(slot.sample));
    return std::optional<TrainingSample>(std::move(sample));
  }
}

}  // namespace posefix
