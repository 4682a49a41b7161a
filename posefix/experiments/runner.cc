#include "posefix/experiments/runner.h"

#include <dirent.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <memory>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "google/protobuf/util/message_differencer.h"
#include "posefix/core/coco_io.h"
#include "posefix/core/file_util.h"
#include "posefix/core/keypoint_schema.h"
#include "posefix/core/text_proto.h"
#include "posefix/eval/evaluate.h"
#include "posefix/eval/oks_nms.h"
#include "posefix/experiments/experiment_spec.h"
#include "posefix/experiments/report.h"
#include "posefix/model/refine_results.h"
#include "posefix/model/refiner.h"
#include "posefix/model/trainer.h"
#include "posefix/synth/synthesizer.h"

namespace posefix {
namespace {

constexpr int kMaxDependencyDepth = 8;

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::string UtcNow() {
  const std::time_t now = std::time(nullptr);
  std::tm utc;
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

void Log(const RunnerOptions& options, const std::string& run_id, const std::string& line) {
  if (options.log != nullptr) *options.log << "[" << run_id << "] " << line << std::endl;
}

absl::StatusOr<KeypointSchema> SchemaOf(const ExperimentSpec& spec, const std::string& root) {
  return ResolveKeypointSchema(spec.dataset().schema().empty() ? "coco" : spec.dataset().schema(),
                               root);
}

// The pieces of a spec's run resolved against the file system.
struct RunPlan {
  ExperimentSpec spec;
  std::string spec_path;
  std::string run_id;
  std::string run_dir;
  std::string data_root;
  KeypointSchema schema;
};

absl::StatusOr<RunMetrics> RunWithDepth(const std::string& spec_path, const RunnerOptions& options,
                                        int depth);

// The spec at `spec_path` loaded, validated and resolved.
absl::StatusOr<RunPlan> MakePlan(const std::string& spec_path, const RunnerOptions& options) {
  RunPlan plan;
  plan.spec_path = spec_path;
  absl::StatusOr<ExperimentSpec> spec = LoadExperimentSpec(spec_path);
  if (!spec.ok()) return spec.status();
  if (absl::Status s = ValidateExperimentSpec(*spec, spec_path); !s.ok()) return s;
  plan.spec = *std::move(spec);
  plan.run_id = RunId(plan.spec);
  plan.run_dir = JoinPath(options.out_dir, plan.run_id);
  plan.data_root = !plan.spec.data_root().empty() ? plan.spec.data_root() : options.data_root;
  absl::StatusOr<KeypointSchema> schema = SchemaOf(plan.spec, plan.data_root);
  if (!schema.ok()) return schema.status();
  plan.schema = *std::move(schema);
  return plan;
}

// The final checkpoint of the run of `dependency` (a spec path relative to
// `spec_path`), running it first when needed.
absl::StatusOr<std::string> DependencyCheckpoint(const std::string& spec_path,
                                                 absl::string_view field,
                                                 const std::string& dependency,
                                                 const RunnerOptions& options, int depth) {
  const std::string path = ResolveRelativeTo(spec_path, dependency);
  if (!PathExists(path)) return FieldError(spec_path, field, absl::StrCat(path, ": no such spec"));
  absl::StatusOr<RunMetrics> metrics = RunWithDepth(path, options, depth + 1);
  if (!metrics.ok()) return metrics.status();
  return JoinPath(JoinPath(options.out_dir, metrics->run_id()), metrics->checkpoint());
}

// Refines every result of `input_path` with the model of `checkpoint` and
// writes the refined results to `output_path` (atomically): the one refine
// path tools:refine takes too, with the spec's evaluation options.
absl::StatusOr<std::string> RefineResults(const RunPlan& plan, const std::string& checkpoint,
                                          const std::string& input_path,
                                          const std::string& output_path) {
  const EvaluationSpec& evaluation = plan.spec.evaluation();
  RefineFileOptions options;
  options.checkpoint = checkpoint;
  options.refiner.flip_test = !evaluation.has_flip_test() || evaluation.flip_test();
  options.refiner.flip_permutation = FlipPermutation(plan.schema);
  options.refiner.device =
      plan.spec.training().device().empty() ? "auto" : plan.spec.training().device();
  options.refiner.batch_size = evaluation.batch_size() > 0 ? evaluation.batch_size() : 32;
  options.refiner.num_threads = evaluation.num_threads() > 0 ? evaluation.num_threads() : 2;
  options.refiner.policy = evaluation.policy() == REFINE_SELECTIVE ? RefinementPolicy::kSelective
                                                                   : RefinementPolicy::kReplaceAll;
  const DatasetSpec& dataset = plan.spec.dataset();
  options.images_dir = JoinPath(plan.data_root, dataset.eval_images());
  options.annotations = JoinPath(plan.data_root, dataset.eval_annotations());
  options.input = input_path;
  options.output = output_path;
  options.schema = plan.schema;
  options.oks_nms_threshold = !evaluation.oks_nms()                ? 0
                              : evaluation.oks_nms_threshold() > 0 ? evaluation.oks_nms_threshold()
                                                                   : OksNmsOptions().threshold;
  absl::StatusOr<RefineReport> report = RefineResultsFile(options);
  if (!report.ok()) return report.status();
  return report->device;
}

struct TrainingFiles {
  std::string annotations;
  std::string images;
};

// The training set of a spec: train_annotations over train_images plus every
// extra_train source, minus the images of exclude_from_training. The file
// itself when that is all; otherwise the merged set is written into the run
// directory with absolute image paths.
absl::StatusOr<TrainingFiles> TrainingSet(const RunPlan& plan) {
  const DatasetSpec& dataset = plan.spec.dataset();
  TrainingFiles files{JoinPath(plan.data_root, dataset.train_annotations()),
                      JoinPath(plan.data_root, dataset.train_images())};
  if (dataset.extra_train().empty() && dataset.exclude_from_training().empty()) return files;

  absl::flat_hash_set<int64_t> excluded;
  if (!dataset.exclude_from_training().empty()) {
    absl::StatusOr<CocoDataset> exclude =
        ReadCocoDataset(JoinPath(plan.data_root, dataset.exclude_from_training()));
    if (!exclude.ok()) return exclude.status();
    for (const ImageInfo& image : exclude->images) excluded.insert(image.id);
  }
  std::vector<TrainingSource> sources(1);
  sources[0].set_annotations(dataset.train_annotations());
  sources[0].set_images(dataset.train_images());
  sources.insert(sources.end(), dataset.extra_train().begin(), dataset.extra_train().end());
  CocoDataset merged;
  absl::flat_hash_set<int64_t> image_ids;
  CocoReadOptions read_options;
  read_options.num_keypoints = plan.schema.keypoint_names_size();
  read_options.keep_extra_fields = false;
  for (const TrainingSource& source : sources) {
    const std::string path = JoinPath(plan.data_root, source.annotations());
    absl::StatusOr<CocoDataset> part = ReadCocoDataset(path, read_options);
    if (!part.ok()) return part.status();
    if (merged.categories.empty()) merged.categories = part->categories;
    const std::string folder = JoinPath(plan.data_root, source.images());
    absl::flat_hash_set<int64_t> kept;
    for (ImageInfo& image : part->images) {
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
    for (PersonAnnotation& annotation : part->annotations) {
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
  if (absl::Status s = WriteCocoDataset(files.annotations, merged); !s.ok()) return s;
  return files;
}

// The input poses of a run: the spec's results file, or poses synthesized
// on the evaluation annotations (dataset.synthesize_input_seed), written once
// into the run directory.
absl::StatusOr<std::string> InputPoses(const RunPlan& plan) {
  const DatasetSpec& dataset = plan.spec.dataset();
  const std::string file = JoinPath(plan.data_root, dataset.input_results());
  if (!dataset.has_synthesize_input_seed() && !dataset.input_results_beyond_eval_images()) {
    return file;
  }
  const std::string path = JoinPath(plan.run_dir, "input_results.json");
  if (PathExists(path)) return path;
  const std::string ground_truth = JoinPath(plan.data_root, dataset.eval_annotations());
  CocoReadOptions read_options;
  read_options.num_keypoints = plan.schema.keypoint_names_size();
  read_options.keep_extra_fields = false;
  absl::StatusOr<CocoDataset> annotations = ReadCocoDataset(ground_truth, read_options);
  if (!annotations.ok()) return annotations.status();
  if (!dataset.has_synthesize_input_seed()) {
    ResultsReadOptions results_options;
    results_options.num_keypoints = plan.schema.keypoint_names_size();
    absl::StatusOr<std::vector<KeypointResult>> all = ReadCocoResults(file, results_options);
    if (!all.ok()) return all.status();
    const absl::flat_hash_map<int64_t, int> images = IndexImages(*annotations);
    std::vector<KeypointResult> kept;
    for (KeypointResult& result : *all) {
      if (images.contains(result.image_id)) kept.push_back(std::move(result));
    }
    if (absl::Status s = WriteCocoResults(path, kept); !s.ok()) return s;
    return path;
  }
  absl::StatusOr<Synthesizer> synthesizer =
      Synthesizer::Create(plan.spec.error_model(), plan.schema, plan.spec_path + ": error_model");
  if (!synthesizer.ok()) return synthesizer.status();
  absl::StatusOr<std::vector<SynthesizedPerson>> people =
      SynthesizeDataset(*annotations, *synthesizer, dataset.synthesize_input_seed(),
                        AreaSource::kAnnotation, ground_truth);
  if (!people.ok()) return people.status();
  if (absl::Status s = WriteCocoResults(path, SynthesizedResults(*people)); !s.ok()) return s;
  return path;
}

absl::Status CheckFile(const std::string& spec_path, const std::string& field,
                       const std::string& path) {
  if (PathExists(path)) return absl::OkStatus();
  return FieldError(spec_path, field, absl::StrCat(path, ": no such file or folder"));
}

absl::Status CheckInputs(const RunPlan& plan) {
  const DatasetSpec& d = plan.spec.dataset();
  const bool trains = plan.spec.checkpoint().empty() && plan.spec.checkpoint_from_spec().empty();
  std::vector<std::pair<std::string, std::string>> files = {
      {"dataset.eval_annotations", d.eval_annotations()},
      {"dataset.eval_images", d.eval_images()},
  };
  if (!d.has_synthesize_input_seed()) {
    files.push_back({"dataset.input_results", d.input_results()});
  }
  if (trains) {
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
    if (absl::Status s = CheckFile(plan.spec_path, field, JoinPath(plan.data_root, path));
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

// Reads what CheckInputs found: every annotation and results file of the
// plan parses (the input results against the evaluation images), so that a
// malformed file fails before training rather than after. `checked` holds
// the files already read by an earlier plan of the same check.
absl::Status CheckInputContents(const RunPlan& plan, absl::flat_hash_set<std::string>& checked) {
  const DatasetSpec& d = plan.spec.dataset();
  const int num_keypoints = plan.schema.keypoint_names_size();
  auto in_spec = [&](absl::string_view field, const absl::Status& status) {
    return FieldError(plan.spec_path, field, status.message());
  };
  CocoReadOptions read_options;
  read_options.num_keypoints = num_keypoints;
  read_options.keep_extra_fields = false;
  const std::string eval_path = JoinPath(plan.data_root, d.eval_annotations());
  absl::StatusOr<CocoDataset> eval = ReadCocoDataset(eval_path, read_options);
  if (!eval.ok()) return in_spec("dataset.eval_annotations", eval.status());

  std::vector<std::pair<std::string, std::string>> results;
  if (!d.has_synthesize_input_seed())
    results.push_back({"dataset.input_results", d.input_results()});
  std::vector<std::pair<std::string, std::string>> annotations;
  const bool trains = plan.spec.checkpoint().empty() && plan.spec.checkpoint_from_spec().empty();
  if (trains) {
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
    const std::string path = JoinPath(plan.data_root, file);
    if (!checked.insert(absl::StrCat("annotations:", path)).second) continue;
    if (absl::StatusOr<CocoDataset> read = ReadCocoDataset(path, read_options); !read.ok()) {
      return in_spec(field, read.status());
    }
  }
  for (const auto& [field, file] : results) {
    const std::string path = JoinPath(plan.data_root, file);
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
  if (absl::StatusOr<Synthesizer> synthesizer = Synthesizer::Create(
          plan.spec.error_model(), plan.schema, plan.spec_path + ": error_model");
      !synthesizer.ok()) {
    return synthesizer.status();
  }
  return absl::OkStatus();
}

std::string RelativeTo(const std::string& folder, const std::string& path) {
  const std::string prefix = absl::StrCat(folder, "/");
  return absl::StartsWith(path, prefix) ? path.substr(prefix.size()) : path;
}

absl::StatusOr<RunMetrics> RunWithDepth(const std::string& spec_path, const RunnerOptions& options,
                                        int depth) {
  if (depth > kMaxDependencyDepth) {
    return FieldError(spec_path, "checkpoint_from_spec", "dependencies nested too deep (a cycle?)");
  }
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<RunPlan> made = MakePlan(spec_path, options);
  if (!made.ok()) return made.status();
  RunPlan plan = *std::move(made);

  // A run directory holds exactly one merged spec.
  const std::string spec_file = JoinPath(plan.run_dir, "spec.pbtxt");
  if (PathExists(plan.run_dir)) {
    ExperimentSpec existing;
    if (absl::Status s = ReadTextProto(spec_file, &existing); !s.ok()) {
      return absl::AlreadyExistsError(
          absl::StrCat(plan.run_dir, ": exists without a readable spec.pbtxt; not overwriting it (",
                       s.message(), ")"));
    }
    if (!google::protobuf::util::MessageDifferencer::Equals(existing, plan.spec)) {
      return absl::AlreadyExistsError(absl::StrCat(plan.run_dir, ": holds a run of another spec (",
                                                   spec_file, " differs from ", spec_path,
                                                   "); not overwriting it"));
    }
    const std::string metrics_file = JoinPath(plan.run_dir, "metrics.pb");
    if (PathExists(metrics_file)) {
      absl::StatusOr<RunMetrics> metrics = ReadRunMetrics(metrics_file);
      if (metrics.ok()) {
        Log(options, plan.run_id, "finished earlier; skipped");
        return *std::move(metrics);
      }
      // Evaluated again below; the file is replaced when that is done.
      Log(options, plan.run_id, absl::StrCat(metrics.status().message(), "; evaluating again"));
    }
    const int removed = RemoveStaleTemporaries(plan.run_dir);
    Log(options, plan.run_id,
        removed > 0 ? absl::StrCat("resuming (removed ", removed, " stale temporary files)")
                    : std::string("resuming"));
  }

  // Dependencies first, so that a failure there leaves nothing of this run.
  std::string checkpoint =
      plan.spec.checkpoint().empty() ? "" : JoinPath(plan.data_root, plan.spec.checkpoint());
  if (!plan.spec.checkpoint_from_spec().empty()) {
    absl::StatusOr<std::string> path = DependencyCheckpoint(
        spec_path, "checkpoint_from_spec", plan.spec.checkpoint_from_spec(), options, depth);
    if (!path.ok()) return path.status();
    checkpoint = *path;
    if (plan.spec.checkpoint_epoch() > 0) {
      checkpoint = EpochCheckpointPath(std::filesystem::path(checkpoint).parent_path().string(),
                                       plan.spec.checkpoint_epoch() - 1);
      if (!PathExists(checkpoint)) {
        return FieldError(spec_path, "checkpoint_epoch",
                          absl::StrCat(checkpoint,
                                       ": no such checkpoint (not reached, or "
                                       "deleted by training.keep_checkpoints)"));
      }
    }
  }
  std::string estimator = plan.spec.estimator_checkpoint().empty()
                              ? ""
                              : JoinPath(plan.data_root, plan.spec.estimator_checkpoint());
  if (!plan.spec.estimator_from_spec().empty()) {
    absl::StatusOr<std::string> path = DependencyCheckpoint(
        spec_path, "estimator_from_spec", plan.spec.estimator_from_spec(), options, depth);
    if (!path.ok()) return path.status();
    estimator = *path;
  }
  if (absl::Status s = CheckInputs(plan); !s.ok()) return s;

  if (absl::Status s = CreateDirectories(options.out_dir); !s.ok()) return s;
  if (absl::Status s = CreateDirectories(plan.run_dir); !s.ok()) return s;
  // One process per run directory: a second start of the same spec stops
  // here instead of training into the same folder.
  absl::StatusOr<FileLock> run_lock =
      FileLock::Acquire(JoinPath(plan.run_dir, "run.lock"), /*wait=*/false);
  if (!run_lock.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat(plan.run_dir, ": this spec is running in another process (",
                     run_lock.status().message(), "); not running it twice"));
  }
  if (!PathExists(spec_file)) {
    if (absl::Status s = WriteTextProto(spec_file, plan.spec); !s.ok()) return s;
  }
  WriteRunIndex(options.out_dir).IgnoreError();

  RunMetrics metrics;
  metrics.set_name(plan.spec.name());
  metrics.set_run_id(plan.run_id);
  metrics.set_variant(ExperimentVariantName(plan.spec));
  *metrics.mutable_spec() = plan.spec;
  metrics.set_input_label(plan.spec.dataset().input_label().empty()
                              ? plan.spec.dataset().input_results().substr(
                                    plan.spec.dataset().input_results().find_last_of('/') + 1)
                              : plan.spec.dataset().input_label());
  metrics.set_source_revision(options.source_revision);
  metrics.set_seed(plan.spec.seed());

  // Training (resumes from the checkpoint folder).
  const DatasetSpec& dataset = plan.spec.dataset();
  const TrainingMode mode = plan.spec.training().mode();
  std::string estimator_of_run;  // E2E_REFINE: the fine-tuned estimator
  if (checkpoint.empty()) {
    Log(options, plan.run_id, "training");
    TrainerConfig config;
    config.model = plan.spec.model();
    config.training = plan.spec.training();
    config.data = plan.spec.data();
    config.error_model = plan.spec.error_model();
    config.schema = plan.schema;
    absl::StatusOr<TrainingFiles> training_set = TrainingSet(plan);
    if (!training_set.ok()) return training_set.status();
    config.train_annotations = training_set->annotations;
    config.train_images = training_set->images;
    if (!plan.spec.dataset().train_estimates().empty()) {
      config.train_estimates = JoinPath(plan.data_root, plan.spec.dataset().train_estimates());
    }
    config.checkpoint_dir = JoinPath(plan.run_dir, "checkpoints");
    config.init_weights =
        plan.spec.init_weights().empty() ? "" : JoinPath(plan.data_root, plan.spec.init_weights());
    config.estimator_checkpoint = estimator;
    config.seed = plan.spec.seed();
    absl::StatusOr<TrainingResult> trained = Train(config, options.log);
    if (!trained.ok()) return trained.status();
    checkpoint = trained->final_checkpoint;
    double seconds = 0;
    for (const EpochRecord& record : trained->curve) {
      seconds += record.seconds;
      TrainingCurvePoint* point = metrics.add_training_curve();
      point->set_epoch(record.epoch + 1);
      point->set_loss(record.loss);
      point->set_heatmap_loss(record.heatmap_loss);
      point->set_coordinate_loss(record.coordinate_loss);
      point->set_learning_rate(record.learning_rate);
      point->set_seconds(seconds);
      point->set_step(record.step);
    }
    metrics.mutable_timings()->set_train_seconds(trained->seconds);
    metrics.set_device(trained->device);
    if (mode == E2E_REFINE) {
      estimator_of_run = std::string(absl::StripSuffix(checkpoint, ".pt")) + ".estimator.pt";
    }
  }
  metrics.set_checkpoint(RelativeTo(plan.run_dir, checkpoint));

  // Refinement.
  absl::StatusOr<std::string> input_or = InputPoses(plan);
  if (!input_or.ok()) return input_or.status();
  const std::string input = *input_or;
  const std::string refined = JoinPath(plan.run_dir, "refined_results.json");
  const std::string refine_record_path = JoinPath(plan.run_dir, "refine.pbtxt");
  RefineRecord refine_record;
  if (!PathExists(refined) || !ReadTextProto(refine_record_path, &refine_record).ok()) {
    const auto refine_start = std::chrono::steady_clock::now();
    Log(options, plan.run_id, "refining " + input);
    std::string poses = input;
    if (!estimator_of_run.empty()) {
      // E2E-refine: the fine-tuned estimator estimates in the input poses'
      // boxes, then the refinement module refines its poses.
      poses = JoinPath(plan.run_dir, "estimated_results.json");
      absl::StatusOr<std::string> device = RefineResults(plan, estimator_of_run, input, poses);
      if (!device.ok()) return device.status();
    }
    absl::StatusOr<std::string> device = RefineResults(plan, checkpoint, poses, refined);
    if (!device.ok()) return device.status();
    refine_record.set_device(*device);
    refine_record.set_seconds(SecondsSince(refine_start));
    if (absl::Status s = WriteTextProto(refine_record_path, refine_record); !s.ok()) return s;
  }
  metrics.mutable_timings()->set_refine_seconds(refine_record.seconds());
  if (metrics.device().empty()) metrics.set_device(refine_record.device());
  metrics.set_refined_results("refined_results.json");

  // Evaluation.
  Log(options, plan.run_id, "evaluating");
  auto eval_start = std::chrono::steady_clock::now();
  EvaluateRequest request;
  request.ground_truth_file = JoinPath(plan.data_root, dataset.eval_annotations());
  request.schema = plan.schema;
  request.analyze = true;
  request.num_threads =
      plan.spec.evaluation().num_threads() > 0 ? plan.spec.evaluation().num_threads() : 2;
  request.results_file = input;
  absl::StatusOr<EvaluationMetrics> before = RunEvaluation(request);
  if (!before.ok()) return before.status();
  request.results_file = refined;
  request.baseline_results_file = input;
  absl::StatusOr<EvaluationMetrics> after = RunEvaluation(request);
  if (!after.ok()) return after.status();
  *metrics.mutable_before() = *std::move(before);
  *metrics.mutable_after() = *std::move(after);
  metrics.mutable_timings()->set_evaluate_seconds(SecondsSince(eval_start));
  metrics.mutable_timings()->set_total_seconds(SecondsSince(start));
  metrics.set_finished_at(UtcNow());

  if (absl::Status s = WriteTextProto(JoinPath(plan.run_dir, "metrics.pbtxt"), metrics); !s.ok()) {
    return s;
  }
  std::string bytes;
  metrics.SerializeToString(&bytes);
  if (absl::Status s = WriteFileAtomically(JoinPath(plan.run_dir, "metrics.pb"), bytes); !s.ok()) {
    return s;
  }
  if (absl::Status s = WriteRunIndex(options.out_dir); !s.ok()) return s;
  Log(options, plan.run_id,
      absl::StrFormat("done: AP %.1f -> %.1f (%.0f s)", 100 * metrics.before().stats().ap(),
                      100 * metrics.after().stats().ap(), metrics.timings().total_seconds()));
  return metrics;
}

}  // namespace

absl::Status CheckExperimentInputs(const std::vector<std::string>& spec_paths,
                                   const RunnerOptions& options) {
  absl::flat_hash_set<std::string> checked;
  std::vector<std::pair<std::string, int>> pending;
  for (const std::string& path : spec_paths) pending.push_back({path, 0});
  absl::flat_hash_set<std::string> seen;
  while (!pending.empty()) {
    const auto [spec_path, depth] = pending.back();
    pending.pop_back();
    if (!seen.insert(spec_path).second) continue;
    absl::StatusOr<RunPlan> plan = MakePlan(spec_path, options);
    if (!plan.ok()) return plan.status();
    if (absl::Status s = CheckInputs(*plan); !s.ok()) return s;
    if (absl::Status s = CheckInputContents(*plan, checked); !s.ok()) return s;
    for (const auto& [field, dependency] :
         {std::pair<const char*, std::string>{"checkpoint_from_spec",
                                              plan->spec.checkpoint_from_spec()},
          std::pair<const char*, std::string>{"estimator_from_spec",
                                              plan->spec.estimator_from_spec()}}) {
      if (dependency.empty()) continue;
      const std::string path = ResolveRelativeTo(spec_path, dependency);
      if (!PathExists(path))
        return FieldError(spec_path, field, absl::StrCat(path, ": no such spec"));
      if (depth >= kMaxDependencyDepth) {
        return FieldError(spec_path, field, "dependencies nested too deep (a cycle?)");
      }
      pending.push_back({path, depth + 1});
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<RunMetrics> RunExperiment(const std::string& spec_path,
                                         const RunnerOptions& options) {
  if (options.out_dir.empty()) return absl::InvalidArgumentError("out_dir: required");
  if (absl::Status s = CheckExperimentInputs({spec_path}, options); !s.ok()) return s;
  return RunWithDepth(spec_path, options, 0);
}

absl::Status WriteRunIndex(const std::string& out_dir) {
  // Scan and write under one lock, so that a writer that scanned before
  // another run finished cannot overwrite the newer index.
  absl::StatusOr<FileLock> lock = FileLock::Acquire(JoinPath(out_dir, "index.lock"), /*wait=*/true);
  if (!lock.ok()) return lock.status();
  DIR* dir = opendir(out_dir.c_str());
  if (dir == nullptr) return absl::NotFoundError(absl::StrCat(out_dir, ": cannot open"));
  std::vector<std::string> runs;
  while (dirent* entry = readdir(dir)) {
    const std::string name = entry->d_name;
    if (name != "." && name != ".." &&
        PathExists(JoinPath(JoinPath(out_dir, name), "spec.pbtxt"))) {
      runs.push_back(name);
    }
  }
  closedir(dir);
  std::sort(runs.begin(), runs.end());
  std::string index = "run_id\tname\tvariant\tstate\tinput_ap\trefined_ap\tfinished_at\n";
  for (const std::string& run : runs) {
    const std::string folder = JoinPath(out_dir, run);
    ExperimentSpec spec;
    if (!ReadTextProto(JoinPath(folder, "spec.pbtxt"), &spec).ok()) continue;
    absl::StatusOr<RunMetrics> read = ReadRunMetrics(JoinPath(folder, "metrics.pb"));
    const bool finished = read.ok();
    const RunMetrics metrics = finished ? *std::move(read) : RunMetrics();
    absl::StrAppend(&index, run, "\t", spec.name(), "\t", ExperimentVariantName(spec), "\t",
                    finished ? "finished" : "incomplete", "\t",
                    finished ? absl::StrFormat("%.4f", metrics.before().stats().ap()) : "", "\t",
                    finished ? absl::StrFormat("%.4f", metrics.after().stats().ap()) : "", "\t",
                    metrics.finished_at(), "\n");
  }
  return WriteFileAtomically(JoinPath(out_dir, "index.tsv"), index);
}

std::string SourceRevision(const std::string& checkout) {
  if (checkout.empty()) return "unknown";
  auto run = [](const std::string& command) -> std::string {
    std::FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) return "";
    std::string output;
    char buffer[256];
    while (std::fgets(buffer, sizeof(buffer), pipe) != nullptr) output += buffer;
    if (pclose(pipe) != 0) return "";
    return output;
  };
  const std::string quoted = absl::StrCat("'", checkout, "'");
  std::string head = run(absl::StrCat("git -C ", quoted, " rev-parse HEAD 2>/dev/null"));
  head = std::string(absl::StripSuffix(head, "\n"));
  if (head.size() != 40) return "unknown";
  const std::string changes =
      run(absl::StrCat("git -C ", quoted, " status --porcelain --untracked-files=no 2>/dev/null"));
  return changes.empty() ? head : absl::StrCat(head, "-dirty");
}

}  // namespace posefix
