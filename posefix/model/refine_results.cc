#include "posefix/model/refine_results.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <memory>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "posefix/core/coco_io.h"
#include "posefix/core/elapsed.h"
#include "posefix/core/file_util.h"
#include "posefix/core/geometry.h"
#include "posefix/core/image_io.h"
#include "posefix/core/keypoint_schema.h"
#include "posefix/core/status_macros.h"
#include "posefix/eval/oks.h"
#include "posefix/eval/oks_nms.h"
#include "posefix/model/model_options.h"

namespace posefix {
namespace {

// Results of one image waiting to be refined.
struct ImageWork {
  int64_t image_id = 0;
  std::string path;
  std::vector<int> results;  // indices into the results vector
};

bool IsFar(const Keypoint& k, int width, int height) {
  return k.x < -width || k.x >= 2.0 * width || k.y < -height || k.y >= 2.0 * height;
}

// Applies options.far_keypoints to one result; false when it is skipped.
absl::StatusOr<bool> HandleFarKeypoints(const RefineFileOptions& options, int index,
                                        const cv::Size& size, Pose& pose, RefineReport& report) {
  int far = 0;
  for (const Keypoint& k : pose) far += IsFar(k, size.width, size.height) ? 1 : 0;
  if (far == 0) return true;
  switch (options.far_keypoints) {
    case FarKeypointPolicy::kError:
      return FieldError(options.input, absl::StrCat("[", index, "].keypoints"),
                        absl::StrCat(far, " keypoint(s) more than one image size (", size.width,
                                     "x", size.height, ") outside the image"));
    case FarKeypointPolicy::kSkip:
      ++report.skipped_far_keypoints;
      return false;
    case FarKeypointPolicy::kClamp:
      for (Keypoint& k : pose) {
        if (!IsFar(k, size.width, size.height)) continue;
        k.x = std::clamp(k.x, 0.0, size.width - 1.0);
        k.y = std::clamp(k.y, 0.0, size.height - 1.0);
        ++report.clamped_keypoints;
      }
      return true;
  }
  return true;
}

absl::StatusOr<std::unique_ptr<Refiner>> LoadRefiner(const RefineFileOptions& options,
                                                     const KeypointSchema& schema) {
  if (options.checkpoint.empty()) {
    return FieldError("RefineFileOptions", "checkpoint", "is required when no Refiner is given");
  }
  RefinerOptions refiner_options = options.refiner;
  if (refiner_options.flip_permutation.empty()) {
    refiner_options.flip_permutation = FlipPermutation(schema);
  }
  return Refiner::FromCheckpoint(options.checkpoint, refiner_options);
}

}  // namespace

absl::StatusOr<RefineReport> RefineResultsFile(const RefineFileOptions& options, Refiner* refiner) {
  const auto start = std::chrono::steady_clock::now();
  const KeypointSchema& schema =
      options.schema.keypoint_names_size() > 0 ? options.schema : CocoSchema();
  const int joints = schema.keypoint_names_size();
  if (options.images_per_batch <= 0) {
    return FieldError("RefineFileOptions", "images_per_batch", "must be positive");
  }
  if (options.annotations.empty()) {
    return FieldError("RefineFileOptions", "annotations",
                      "is required (a COCO annotation file or image list mapping image_id to "
                      "file_name)");
  }
  CocoReadOptions read_options;
  read_options.num_keypoints = joints;
  read_options.keep_extra_fields = false;
  const std::string annotations_path = options.annotations;
  ASSIGN_OR_RETURN(const CocoDataset dataset, ReadCocoDataset(annotations_path, read_options));
  ResultsReadOptions results_options;
  results_options.num_keypoints = joints;
  const std::string input_path = options.input;
  ASSIGN_OR_RETURN(const std::vector<KeypointResult> results,
                   ReadCocoResults(input_path, results_options));

  std::unique_ptr<Refiner> owned;
  if (refiner == nullptr) {
    ASSIGN_OR_RETURN(owned, LoadRefiner(options, schema));
    refiner = owned.get();
  }
  ASSIGN_OR_RETURN(const ResolvedModelOptions model, ResolveModelOptions(refiner->model_options()));
  const int model_joints = model.num_keypoints;
  if (model_joints != joints) {
    return FieldError(
        options.checkpoint, "num_keypoints",
        absl::StrCat("the model has ", model_joints, " keypoints, the schema ", joints));
  }

  RefineReport report;
  report.input_results = static_cast<int64_t>(results.size());
  report.device = refiner->device();
  const auto image_index = IndexImages(dataset);
  const std::string images_dir = options.images_dir;

  // Filter as the release does, grouping the kept results by image in order
  // of first appearance.
  std::vector<ImageWork> work;
  absl::flat_hash_map<int64_t, int> work_of_image;
  for (int i = 0; i < static_cast<int>(results.size()); ++i) {
    const KeypointResult& result = results[i];
    if (result.category_id != 1) {
      ++report.skipped_category;
      continue;
    }
    if (!(result.score > 0)) {
      ++report.skipped_score;
      continue;
    }
    const auto image = image_index.find(result.image_id);
    if (image == image_index.end()) {
      if (options.skip_unknown_images) {
        ++report.skipped_unknown_image;
        continue;
      }
      return FieldError(input_path, absl::StrCat("[", i, "].image_id"),
                        absl::StrCat("image ", result.image_id, " is not in ", annotations_path,
                                     " (--skip_unknown_images skips such results)"));
    }
    auto [it, inserted] = work_of_image.try_emplace(result.image_id, work.size());
    if (inserted) {
      ImageWork item;
      item.image_id = result.image_id;
      item.path =
          (std::filesystem::path(images_dir) / dataset.images[image->second].file_name).string();
      work.push_back(std::move(item));
    }
    work[it->second].results.push_back(i);
  }

  std::vector<KeypointResult> refined;
  std::vector<double> refined_crop_areas;  // one per refined result
  refined.reserve(results.size());
  const cv::Size crop_size(model.input_width, model.input_height);
  const double aspect = static_cast<double>(crop_size.width) / crop_size.height;
  for (size_t begin = 0; begin < work.size(); begin += options.images_per_batch) {
    const size_t end = std::min(work.size(), begin + options.images_per_batch);
    std::vector<cv::Mat> crops;
    std::vector<Pose> poses;
    std::vector<CropTransform> transforms;
    std::vector<int> owners;            // result index of each crop
    std::vector<double> crop_areas;     // of each crop's box in the image
    std::vector<Pose> inputs_in_image;  // after HandleFarKeypoints
    for (size_t w = begin; w < end; ++w) {
      const ImageWork& item = work[w];
      const cv::Mat image = ReadImage(item.path);
      if (image.empty()) {
        if (options.skip_missing_images) {
          report.skipped_missing_image += static_cast<int64_t>(item.results.size());
          continue;
        }
        return FieldError(
            input_path, absl::StrCat("[", item.results.front(), "].image_id"),
            absl::StrCat("image ", item.image_id, ": cannot read ", item.path,
                         " (missing, not an image or a truncated JPEG; --skip_missing_images "
                         "skips its results)"));
      }
      ++report.images;
      for (int index : item.results) {
        Pose pose = results[index].keypoints;
        ASSIGN_OR_RETURN(const bool keep,
                         HandleFarKeypoints(options, index, image.size(), pose, report));
        if (!keep) continue;
        const Box box = ScaleBox(FixAspectRatio(BoxFromKeypoints(pose), aspect), 1.25);
        absl::StatusOr<CropTransform> transform = MakeCropTransform(box, 0, crop_size);
        if (!transform.ok()) {
          return FieldError(input_path, absl::StrCat("[", index, "].keypoints"),
                            transform.status().message());
        }
        crops.push_back(WarpCrop(image, *transform, crop_size));
        poses.push_back(TransformPose(transform->image_to_crop, pose));
        inputs_in_image.push_back(pose);
        transforms.push_back(*transform);
        owners.push_back(index);
        crop_areas.push_back(box.area());
      }
    }
    if (crops.empty()) continue;
    ASSIGN_OR_RETURN(const std::vector<Pose> out, refiner->RefineCrops(crops, poses));
    for (size_t c = 0; c < out.size(); ++c) {
      KeypointResult result = results[owners[c]];
      Pose pose =
          MapRefinedToImage(transforms[c].crop_to_image, out[c], poses[c], inputs_in_image[c]);
      // The refined keypoints inherit the input scores (no rescoring), unless
      // the status head scores them.
      if (!model.status_head) {
        for (int j = 0; j < joints; ++j) pose[j].v = result.keypoints[j].v;
      }
      result.keypoints = std::move(pose);
      refined.push_back(std::move(result));
      refined_crop_areas.push_back(crop_areas[c]);
    }
  }
  report.refined = static_cast<int64_t>(refined.size());

  if (options.oks_nms_threshold > 0) {
    OksNmsOptions nms;
    nms.threshold = options.oks_nms_threshold;
    // As the release: each pose's OKS scale is the area of its crop box.
    nms.areas = std::move(refined_crop_areas);
    ASSIGN_OR_RETURN(const std::vector<int> kept, OksNms(refined, OksVariances(schema), nms));
    std::vector<KeypointResult> survivors;
    survivors.reserve(kept.size());
    for (int index : kept) survivors.push_back(std::move(refined[index]));
    report.removed_by_nms = report.refined - static_cast<int64_t>(survivors.size());
    refined = std::move(survivors);
  }
  report.written = static_cast<int64_t>(refined.size());
  if (!options.output.empty()) {
    RETURN_IF_ERROR(WriteCocoResults(options.output, refined));
  }
  report.seconds = SecondsSince(start);
  report.instances_per_second = report.seconds > 0 ? report.refined / report.seconds : 0;
  return report;
}

std::string RefineReportToString(const RefineReport& report) {
  return absl::StrFormat(
      "input results: %d\nrefined: %d\nwritten: %d\nremoved by OKS-NMS: %d\n"
      "skipped (category != 1): %d\nskipped (score <= 0): %d\nskipped (unknown image): %d\n"
      "skipped (missing image): %d\nskipped (far keypoints): %d\nclamped keypoints: %d\n"
      "images: %d\ndevice: %s\nseconds: %.2f\ninstances/s: %.1f\n",
      report.input_results, report.refined, report.written, report.removed_by_nms,
      report.skipped_category, report.skipped_score, report.skipped_unknown_image,
      report.skipped_missing_image, report.skipped_far_keypoints, report.clamped_keypoints,
      report.images, report.device, report.seconds, report.instances_per_second);
}

}  // namespace posefix
