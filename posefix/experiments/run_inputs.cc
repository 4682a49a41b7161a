#include "posefix/experiments/run_inputs.h"

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "posefix/core/coco_io.h"
#include "posefix/core/file_util.h"
#include "posefix/core/status_macros.h"
#include "posefix/experiments/experiment_spec.h"
#include "posefix/synth/synthesizer.h"

namespace posefix {
namespace {

absl::Status CheckFile(const std::string& spec_path, const std::string& field,
                       const std::string& path) {
  if (PathExists(path)) return absl::OkStatus();
  return FieldError(spec_path, field, absl::StrCat(path, ": no such file or folder"));
}

// Annotation files in the plan's schema, without the members nothing reads.
CocoReadOptions AnnotationReadOptions(const RunPlan& plan) {
  CocoReadOptions options;
  options.num_keypoints = plan.options.schema().keypoint_names_size();
  options.keep_extra_fields = false;
  return options;
}

}  // namespace

absl::Status CheckRunInputs(const RunPlan& plan) {
  const DatasetSpec& d = plan.spec.dataset();
  std::vector<std::pair<std::string, std::string>> files = {
      {"dataset.eval_annotations", d.eval_annotations()},
      {"dataset.eval_images", d.eval_images()},
  };
  if (!d.has_synthesize_input_seed()) {
    files.push_back({"dataset.input_results", d.input_results()});
  }
  if (!RefinesOnly(plan.spec)) {
    files.push_back({"dataset.train_annotations", d.train_annotations()});
    files.push_back({"dataset.train_images", d.train_images()});
    for (int i = 0; i < d.extra_train_size(); ++i) {
      files.push_back({absl::StrCat("dataset.extra_train[", i, "].annotations"),
                       d.extra_train(i).annotations()});
      files.push_back(
          {absl::StrCat("dataset.extra_train[", i, "].images"), d.extra_train(i).images()});
    }
    if (!d.exclude_from_training().empty()) {
      files.push_back({"dataset.exclude_from_training", d.exclude_from_training()});
    }
    if (!d.train_estimates().empty()) {
      files.push_back({"dataset.train_estimates", d.train_estimates()});
    }
  }
  if (!plan.spec.init_weights().empty())
    files.push_back({"init_weights", plan.spec.init_weights()});
  if (!plan.spec.checkpoint().empty()) files.push_back({"checkpoint", plan.spec.checkpoint()});
  if (!plan.spec.estimator_checkpoint().empty()) {
    files.push_back({"estimator_checkpoint", plan.spec.estimator_checkpoint()});
  }
  for (const auto& [field, path] : files) {
    RETURN_IF_ERROR(CheckFile(plan.spec_path, field, DataPath(plan, path)));
  }
  return absl::OkStatus();
}

absl::Status CheckRunInputContents(const RunPlan& plan, absl::flat_hash_set<std::string>& checked) {
  const DatasetSpec& d = plan.spec.dataset();
  const int num_keypoints = plan.options.schema().keypoint_names_size();
  auto in_spec = [&](absl::string_view field, const absl::Status& status) {
    return FieldError(plan.spec_path, field, status.message());
  };
  const CocoReadOptions read_options = AnnotationReadOptions(plan);
  const std::string eval_path = DataPath(plan, d.eval_annotations());
  absl::StatusOr<CocoDataset> eval = ReadCocoDataset(eval_path, read_options);
  if (!eval.ok()) return in_spec("dataset.eval_annotations", eval.status());

  std::vector<std::pair<std::string, std::string>> results;
  if (!d.has_synthesize_input_seed())
    results.push_back({"dataset.input_results", d.input_results()});
  std::vector<std::pair<std::string, std::string>> annotations;
  if (!RefinesOnly(plan.spec)) {
    annotations.push_back({"dataset.train_annotations", d.train_annotations()});
    for (int i = 0; i < d.extra_train_size(); ++i) {
      annotations.push_back({absl::StrCat("dataset.extra_train[", i, "].annotations"),
                             d.extra_train(i).annotations()});
    }
    if (!d.exclude_from_training().empty()) {
      annotations.push_back({"dataset.exclude_from_training", d.exclude_from_training()});
    }
    if (!d.train_estimates().empty())
      results.push_back({"dataset.train_estimates", d.train_estimates()});
  }
  for (const auto& [field, file] : annotations) {
    const std::string path = DataPath(plan, file);
    if (!checked.insert(absl::StrCat("annotations:", path)).second) continue;
    if (absl::StatusOr<CocoDataset> read = ReadCocoDataset(path, read_options); !read.ok()) {
      return in_spec(field, read.status());
    }
  }
  for (const auto& [field, file] : results) {
    const std::string path = DataPath(plan, file);
    const bool against_eval =
        field == "dataset.input_results" && !d.input_results_beyond_eval_images();
    if (!checked.insert(absl::StrCat("results:", against_eval ? eval_path : "", ":", path))
             .second) {
      continue;
    }
    ResultsReadOptions results_options;
    results_options.num_keypoints = num_keypoints;
    results_options.keep_extra_fields = false;
    if (against_eval) results_options.ground_truth = &*eval;
    if (absl::StatusOr<std::vector<KeypointResult>> read = ReadCocoResults(path, results_options);
        !read.ok()) {
      return in_spec(field, read.status());
    }
  }
  RETURN_IF_ERROR(Synthesizer::Create(plan.spec.error_model(), plan.options.schema(),
                                      plan.spec_path + ": error_model")
                      .status());
  return absl::OkStatus();
}

absl::StatusOr<TrainingFiles> TrainingSet(const RunPlan& plan) {
  const DatasetSpec& dataset = plan.spec.dataset();
  TrainingFiles files{DataPath(plan, dataset.train_annotations()),
                      DataPath(plan, dataset.train_images())};
  if (dataset.extra_train().empty() && dataset.exclude_from_training().empty()) return files;

  absl::flat_hash_set<int64_t> excluded;
  if (!dataset.exclude_from_training().empty()) {
    ASSIGN_OR_RETURN(const CocoDataset exclude,
                     ReadCocoDataset(DataPath(plan, dataset.exclude_from_training())));
    for (const ImageInfo& image : exclude.images) excluded.insert(image.id);
  }
  std::vector<TrainingSource> sources(1);
  sources[0].set_annotations(dataset.train_annotations());
  sources[0].set_images(dataset.train_images());
  sources.insert(sources.end(), dataset.extra_train().begin(), dataset.extra_train().end());
  CocoDataset merged;
  absl::flat_hash_set<int64_t> image_ids;
  const CocoReadOptions read_options = AnnotationReadOptions(plan);
  for (const TrainingSource& source : sources) {
    const std::string path = DataPath(plan, source.annotations());
    ASSIGN_OR_RETURN(CocoDataset part, ReadCocoDataset(path, read_options));
    if (merged.categories.empty()) merged.categories = part.categories;
    const std::string folder = DataPath(plan, source.images());
    absl::flat_hash_set<int64_t> kept;
    for (ImageInfo& image : part.images) {
      if (excluded.contains(image.id)) continue;
      if (!image_ids.insert(image.id).second) {
        return FieldError(path, absl::StrCat("images[id ", image.id, "]"),
                          "image id already in another training source");
      }
      image.file_name =
          absl::StrCat(std::filesystem::absolute(folder).string(), "/", image.file_name);
      kept.insert(image.id);
      merged.images.push_back(std::move(image));
    }
    for (PersonAnnotation& annotation : part.annotations) {
      if (kept.contains(annotation.image_id)) merged.annotations.push_back(std::move(annotation));
    }
  }
  // Annotation ids need only be unique within a file (the local COCO
  // subsets reuse 900000001, ...); a merged ground truth must not repeat
  // one, so repeats get fresh ids above every source's.
  int64_t next_id = 0;
  for (const PersonAnnotation& annotation : merged.annotations) {
    next_id = std::max(next_id, annotation.id + 1);
  }
  absl::flat_hash_set<int64_t> annotation_ids;
  for (PersonAnnotation& annotation : merged.annotations) {
    if (!annotation_ids.insert(annotation.id).second) {
      annotation.id = next_id++;
      annotation_ids.insert(annotation.id);
    }
  }
  files.annotations = JoinPath(plan.run_dir, "train_annotations.json");
  files.images = "/";
  RETURN_IF_ERROR(WriteCocoDataset(files.annotations, merged));
  return files;
}

absl::StatusOr<std::string> InputPoses(const RunPlan& plan) {
  const DatasetSpec& dataset = plan.spec.dataset();
  const std::string file = DataPath(plan, dataset.input_results());
  if (!dataset.has_synthesize_input_seed() && !dataset.input_results_beyond_eval_images()) {
    return file;
  }
  const std::string path = JoinPath(plan.run_dir, "input_results.json");
  if (PathExists(path)) return path;
  const std::string ground_truth = DataPath(plan, dataset.eval_annotations());
  const CocoReadOptions read_options = AnnotationReadOptions(plan);
  ASSIGN_OR_RETURN(const CocoDataset annotations, ReadCocoDataset(ground_truth, read_options));
  if (!dataset.has_synthesize_input_seed()) {
    ResultsReadOptions results_options;
    results_options.num_keypoints = plan.options.schema().keypoint_names_size();
    ASSIGN_OR_RETURN(std::vector<KeypointResult> all, ReadCocoResults(file, results_options));
    const absl::flat_hash_map<int64_t, int> images = IndexImages(annotations);
    std::vector<KeypointResult> kept;
    for (KeypointResult& result : all) {
      if (images.contains(result.image_id)) kept.push_back(std::move(result));
    }
    RETURN_IF_ERROR(WriteCocoResults(path, kept));
    return path;
  }
  ASSIGN_OR_RETURN(const Synthesizer synthesizer,
                   Synthesizer::Create(plan.spec.error_model(), plan.options.schema(),
                                       plan.spec_path + ": error_model"));
  ASSIGN_OR_RETURN(const std::vector<SynthesizedPerson> people,
                   SynthesizeDataset(annotations, synthesizer, dataset.synthesize_input_seed(),
                                     AreaSource::kAnnotation, ground_truth));
  RETURN_IF_ERROR(WriteCocoResults(path, SynthesizedResults(people)));
  return path;
}

}  // namespace posefix
