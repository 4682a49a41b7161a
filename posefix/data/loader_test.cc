#include "posefix/data/loader.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include "gtest/gtest.h"
#include "posefix/core/coco_io.h"
#include "posefix/core/keypoint_schema.h"

namespace posefix {
namespace {

constexpr char kImages[] = "testdata/coco/val2017";
constexpr char kAnnotations[] = "testdata/coco/annotations/person_keypoints_val2017_fixture.json";

// Moves every labelled keypoint by a seeded offset: enough to tell streams
// apart without depending on posefix/synth.
InputPoseSynthesizer Shifting(std::atomic<int>* calls = nullptr) {
  return [calls](const SynthesisInput& input,
                 DeterministicRandom* random) -> absl::StatusOr<SynthesizedPose> {
    if (calls != nullptr) ++*calls;
    Pose pose = input.target;
    for (Keypoint& keypoint : pose) {
      keypoint.x += random->Uniform01() * 4 - 2;
      keypoint.y += random->Uniform01() * 4 - 2;
    }
    return SynthesizedPose{pose, {}, {}};
  };
}

class LoaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<CocoDataset> dataset = ReadCocoDataset(kAnnotations);
    ASSERT_TRUE(dataset.ok()) << dataset.status();
    dataset_ = *std::move(dataset);
  }

  std::unique_ptr<Loader> Make(int threads, uint64_t seed, DataOptions options = DataOptions(),
                               const std::string& images = kImages,
                               std::atomic<int>* calls = nullptr) {
    options.set_num_threads(threads);
    options.set_input_width(96);
    options.set_input_height(128);
    auto loader =
        Loader::Create(&dataset_, images, &CocoSchema(), options, 0.1, Shifting(calls), seed);
    EXPECT_TRUE(loader.ok()) << loader.status();
    return loader.ok() ? *std::move(loader) : nullptr;
  }

  static std::vector<TrainingSample> Drain(Loader& loader, int epoch) {
    loader.StartEpoch(epoch);
    std::vector<TrainingSample> samples;
    while (true) {
      absl::StatusOr<std::optional<TrainingSample>> next = loader.Next();
      EXPECT_TRUE(next.ok()) << next.status();
      if (!next.ok() || !next->has_value()) break;
      samples.push_back(**std::move(next));
    }
    return samples;
  }

  CocoDataset dataset_;
};

TEST_F(LoaderTest, YieldsEveryTrainablePersonOncePerEpoch) {
  std::unique_ptr<Loader> loader = Make(2, 1);
  ASSERT_NE(loader, nullptr);
  const std::vector<TrainingSample> samples = Drain(*loader, 0);
  ASSERT_EQ(static_cast<int>(samples.size()), loader->epoch_size());
  EXPECT_EQ(samples.size(), TrainablePersons(dataset_).size());
  std::set<int64_t> ids;
  for (const TrainingSample& sample : samples) {
    ids.insert(sample.annotation_id);
    EXPECT_EQ(sample.crop.size(), cv::Size(96, 128));
    EXPECT_EQ(sample.crop.type(), CV_8UC3);
  }
  EXPECT_EQ(ids.size(), samples.size());
}

TEST_F(LoaderTest, SameSeedSameStreamWhateverTheThreadCount) {
  std::unique_ptr<Loader> one = Make(1, 9), three = Make(3, 9), other = Make(2, 10);
  const std::vector<TrainingSample> a = Drain(*one, 4), b = Drain(*three, 4), c = Drain(*other, 4);
  ASSERT_EQ(a.size(), b.size());
  bool differs = false;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].annotation_id, b[i].annotation_id);
    EXPECT_EQ(a[i].input, b[i].input);
    EXPECT_EQ(cv::norm(a[i].crop, b[i].crop, cv::NORM_L1), 0);
    differs = differs || a[i].annotation_id != c[i].annotation_id || a[i].input != c[i].input;
  }
  EXPECT_TRUE(differs);
}

TEST_F(LoaderTest, EpochsShuffleDifferently) {
  std::unique_ptr<Loader> loader = Make(2, 3);
  const std::vector<TrainingSample> first = Drain(*loader, 0), second = Drain(*loader, 1);
  ASSERT_EQ(first.size(), second.size());
  bool reordered = false;
  for (size_t i = 0; i < first.size(); ++i) {
    reordered = reordered || first[i].annotation_id != second[i].annotation_id;
  }
  EXPECT_TRUE(reordered);
  // Restarting an epoch replays it exactly.
  const std::vector<TrainingSample> again = Drain(*loader, 0);
  for (size_t i = 0; i < first.size(); ++i) EXPECT_EQ(first[i].input, again[i].input);
}

TEST_F(LoaderTest, RestartingMidEpochDropsStaleSamples) {
  std::unique_ptr<Loader> loader = Make(2, 3);
  loader->StartEpoch(0);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(loader->Next().ok());
  const std::vector<TrainingSample> replay = Drain(*loader, 0);
  std::unique_ptr<Loader> fresh = Make(2, 3);
  const std::vector<TrainingSample> expected = Drain(*fresh, 0);
  ASSERT_EQ(replay.size(), expected.size());
  for (size_t i = 0; i < replay.size(); ++i) EXPECT_EQ(replay[i].input, expected[i].input);
}

// Work is claimed an image at a time: at most the capacity ahead of the
// consumer, unless one image alone has more persons.
TEST_F(LoaderTest, ProducesAtMostTheQueueCapacityAhead) {
  DataOptions options;
  options.set_queue_capacity(4);
  std::map<int64_t, int> persons_per_image;
  for (int person : TrainablePersons(dataset_)) {
    ++persons_per_image[dataset_.annotations[person].image_id];
  }
  int largest = 0;
  for (const auto& [image, count] : persons_per_image) largest = std::max(largest, count);
  const int bound = std::max(4, largest);
  std::atomic<int> calls{0};
  std::unique_ptr<Loader> loader = Make(2, 1, options, kImages, &calls);
  loader->StartEpoch(0);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_GT(calls.load(), 0);
  EXPECT_LE(calls.load(), bound);
  ASSERT_TRUE(loader->Next().ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_LE(calls.load(), bound + 1);
}

// Each image is decoded once for all its persons: they come one after the
// other, and images come in a different order in another epoch.
TEST_F(LoaderTest, EachImagesPersonsComeTogether) {
  std::unique_ptr<Loader> loader = Make(3, 5);
  std::vector<std::vector<int64_t>> image_orders;
  for (int epoch = 0; epoch < 2; ++epoch) {
    const std::vector<TrainingSample> samples = Drain(*loader, epoch);
    std::vector<int64_t> images;
    std::set<int64_t> finished;
    for (size_t i = 0; i < samples.size(); ++i) {
      const int64_t image = samples[i].image_id;
      EXPECT_FALSE(finished.count(image)) << "image " << image << " comes back at " << i;
      if (i == 0 || samples[i - 1].image_id != image) images.push_back(image);
      if (i + 1 == samples.size() || samples[i + 1].image_id != image) finished.insert(image);
    }
    image_orders.push_back(images);
  }
  EXPECT_GT(image_orders[0].size(), 1u);
  EXPECT_NE(image_orders[0], image_orders[1]);
}

TEST_F(LoaderTest, MissingImageIsAnErrorNamingTheFile) {
  std::unique_ptr<Loader> loader = Make(2, 1, DataOptions(), "testdata/no_such_dir");
  loader->StartEpoch(0);
  absl::StatusOr<std::optional<TrainingSample>> next = loader->Next();
  ASSERT_FALSE(next.ok());
  EXPECT_NE(next.status().message().find("testdata/no_such_dir/0000"), std::string::npos)
      << next.status();
}

TEST_F(LoaderTest, UnreadableImagesCanBeSkippedAndCounted) {
  // A copy of the images folder with one image missing and one corrupt.
  const std::string root = std::string(std::getenv("TEST_TMPDIR")) + "/images";
  std::filesystem::create_directories(root);
  for (const auto& entry : std::filesystem::directory_iterator(kImages)) {
    std::filesystem::copy_file(entry.path(), root + "/" + entry.path().filename().string(),
                               std::filesystem::copy_options::overwrite_existing);
  }
  const PersonAnnotation& first = dataset_.annotations[TrainablePersons(dataset_)[0]];
  std::string broken;
  int broken_persons = 0;
  for (const ImageInfo& image : dataset_.images) {
    if (image.id == first.image_id) broken = image.file_name;
  }
  for (int p : TrainablePersons(dataset_))
    broken_persons += dataset_.annotations[p].image_id == first.image_id;
  std::filesystem::resize_file(root + "/" + broken, 100);  // truncated JPEG
  DataOptions options;
  options.set_skip_unreadable_images(true);
  std::unique_ptr<Loader> loader = Make(2, 1, options, root);
  const std::vector<TrainingSample> samples = Drain(*loader, 0);
  EXPECT_EQ(loader->skipped(), broken_persons);
  EXPECT_EQ(static_cast<int>(samples.size()), loader->epoch_size() - broken_persons);
}

TEST_F(LoaderTest, WrongKeypointCountIsRejectedAtCreation) {
  auto loader =
      Loader::Create(&dataset_, kImages, &MpiiSchema(), DataOptions(), 0.1, Shifting(), 1);
  ASSERT_FALSE(loader.ok());
  EXPECT_NE(loader.status().message().find("schema 'mpii' has 16"), std::string::npos);
}

}  // namespace
}  // namespace posefix
