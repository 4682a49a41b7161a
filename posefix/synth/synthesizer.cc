#include "posefix/synth/synthesizer.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "posefix/core/coco_io.h"
#include "posefix/core/file_util.h"
#include "posefix/core/geometry.h"
#include "posefix/core/keypoint_schema.h"
#include "posefix/core/status_macros.h"
#include "posefix/synth/candidate_sampling.h"

namespace posefix {
namespace {

double KsFactor(double ks, double sigma) {
  const double kappa = 2 * sigma;
  return -2 * kappa * kappa * std::log(ks);
}

absl::Status CheckPose(const Pose& pose, int num_keypoints, const std::string& field) {
  if (static_cast<int>(pose.size()) != num_keypoints) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": has ", pose.size(), " keypoints, the schema ", num_keypoints));
  }
  for (int j = 0; j < num_keypoints; ++j) {
    const Keypoint& k = pose[j];
    if (!std::isfinite(k.x) || !std::isfinite(k.y) || !std::isfinite(k.v)) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, "[", j, "]: coordinates must be finite"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

const char* SynthesisStatusName(SynthesisStatus status) {
  switch (status) {
    case SynthesisStatus::kDropped:
      return "dropped";
    case SynthesisStatus::kUnlabelled:
      return "unlabelled";
    default:
      return ErrorStatusName(static_cast<ErrorStatus>(status));
  }
}

double KsDistance(double ks, double sigma, double area) {
  return std::sqrt(area * KsFactor(ks, sigma));
}

absl::StatusOr<Synthesizer> Synthesizer::Create(const ErrorModel& model,
                                                const KeypointSchema& schema,
                                                absl::string_view source,
                                                CandidateSampling sampling) {
  RETURN_IF_ERROR(ValidateKeypointSchema(schema, schema.name()));
  ASSIGN_OR_RETURN(const ErrorModel complete, CompleteErrorModel(model, schema, source));
  return Synthesizer(complete, schema, sampling);
}

Synthesizer::Synthesizer(const ErrorModel& model, const KeypointSchema& schema,
                         CandidateSampling sampling)
    : model_(model),
      schema_(schema),
      tables_(model),
      flip_(FlipPermutation(schema)),
      sampling_(sampling) {
  for (double sigma : Sigmas(schema)) {
    good_factor_.push_back(KsFactor(model.good_ks(), sigma));
    jitter_factor_.push_back(KsFactor(model.jitter_ks(), sigma));
    miss_factor_.push_back(KsFactor(model.miss_ks(), sigma));
  }
}

absl::StatusOr<SynthesizedPose> Synthesizer::Synthesize(const SynthesisInput& input,
                                                        DeterministicRandom* rng) const {
  const int num_keypoints = schema_.keypoint_names_size();
  RETURN_IF_ERROR(CheckPose(input.target, num_keypoints, "target.keypoints"));
  for (size_t i = 0; i < input.neighbours.size(); ++i) {
    RETURN_IF_ERROR(
        CheckPose(input.neighbours[i], num_keypoints, absl::StrCat("neighbours[", i, "]")));
  }
  if (!input.estimate.empty()) {
    RETURN_IF_ERROR(CheckPose(input.estimate, num_keypoints, "estimate.keypoints"));
  }
  if (!(input.area > 0) || !std::isfinite(input.area)) {
    return absl::InvalidArgumentError(
        absl::StrCat("area: must be positive and finite, got ", input.area));
  }

  const Pose& target = input.target;
  const int overlapping = static_cast<int>(input.neighbours.size());
  int labelled = 0;
  CandidatePoint centroid{0, 0};
  for (const Keypoint& k : target) {
    if (k.v > 0) {
      ++labelled;
      centroid.x += k.x;
      centroid.y += k.y;
    }
  }
  if (labelled > 0) {
    centroid.x /= labelled;
    centroid.y /= labelled;
  } else {
    centroid = {input.center.x, input.center.y};
  }

  SynthesizedPose result;
  result.pose.assign(num_keypoints, Keypoint{});
  result.status.assign(num_keypoints, SynthesisStatus::kDropped);
  result.probabilities.assign(num_keypoints, StatusProbabilities{});

  std::vector<CandidatePoint> sources;
  for (int j = 0; j < num_keypoints; ++j) {
    const double d_good = std::sqrt(input.area * good_factor_[j]);
    const double d_jitter = std::sqrt(input.area * jitter_factor_[j]);
    const double d_miss = std::sqrt(input.area * miss_factor_[j]);

    const bool labelled_j = target[j].v > 0;
    const bool estimated_j = !labelled_j && !input.estimate.empty() && input.estimate[j].v > 0;
    if (!labelled_j && !estimated_j) {
      const double length = rng->Uniform(0, d_jitter);
      double dx, dy;
      rng->UnitVector(&dx, &dy);
      result.pose[j] = {centroid.x + length * dx, centroid.y + length * dy, 1};
      result.status[j] = SynthesisStatus::kUnlabelled;
      continue;
    }

    // The points this keypoint can be confused with: its own ground truth,
    // its counterpart, and the same and the counterpart keypoint of every
    // neighbour, where labelled.
    const int pair = flip_[j];
    sources.clear();
    const Keypoint& own = labelled_j ? target[j] : input.estimate[j];
    sources.push_back({own.x, own.y});
    int counterpart = -1;
    if (pair != j && target[pair].v > 0) {
      counterpart = static_cast<int>(sources.size());
      sources.push_back({target[pair].x, target[pair].y});
    }
    const int swap_begin = static_cast<int>(sources.size());
    for (const Pose& neighbour : input.neighbours) {
      if (neighbour[j].v > 0) sources.push_back({neighbour[j].x, neighbour[j].y});
    }
    if (pair != j) {
      for (const Pose& neighbour : input.neighbours) {
        if (neighbour[pair].v > 0) sources.push_back({neighbour[pair].x, neighbour[pair].y});
      }
    }
    const int swap_end = static_cast<int>(sources.size());

    std::array<bool, kNumErrorStatuses> valid{};
    std::array<CandidatePoint, kNumErrorStatuses> found{};
    auto index = [](ErrorStatus s) { return static_cast<int>(s); };
    const bool release_batches = sampling_ == CandidateSampling::kReleaseBatches;
    // A status drawn around one source.
    auto draw_single = [&](const CandidateDraw& draw, int count, ErrorStatus status) {
      CandidatePoint* out = &found[index(status)];
      valid[index(status)] =
          release_batches ? SurvivorPool(sources, {draw}, {1.0}, count).PickFromBatches(rng, out)
                          : FirstSurvivor(sources, draw, count, rng, out);
    };
    // A status drawn around several sources (miss, swap).
    auto draw_pooled = [&](SurvivorPool& pool, ErrorStatus status) {
      valid[index(status)] = release_batches ? pool.PickFromBatches(rng, &found[index(status)])
                                             : pool.HasSurvivors(rng);
    };

    // The release's order of draws: jitter, miss, inversion, swap, good.
    draw_single({0, d_good, d_jitter, Constraint::kClosestToSelf, 0}, model_.jitter_candidates(),
                ErrorStatus::kJitter);

    SurvivorPool::Draws miss_draws;
    SurvivorPool::Fractions miss_fractions;
    for (int s = 0; s < swap_end; ++s) {
      miss_draws.push_back({s, d_jitter, d_miss, Constraint::kFarFromAll, d_jitter});
      miss_fractions.push_back(s == 0 ? 1.0 : model_.miss_other_source_fraction());
    }
    SurvivorPool miss(sources, std::move(miss_draws), std::move(miss_fractions),
                      model_.miss_candidates_per_source());
    draw_pooled(miss, ErrorStatus::kMiss);

    if (counterpart >= 0) {
      draw_single({counterpart, 0, d_jitter, Constraint::kClosestToSelf, 0},
                  model_.inversion_candidates(), ErrorStatus::kInversion);
    }

    SurvivorPool::Draws swap_draws;
    for (int s = swap_begin; s < swap_end; ++s) {
      swap_draws.push_back({s, 0, d_jitter, Constraint::kClosestToSelf, 0});
    }
    SurvivorPool::Fractions swap_fractions(swap_draws.size(), 1.0);
    SurvivorPool swap(sources, std::move(swap_draws), std::move(swap_fractions),
                      model_.swap_candidates_per_source());
    draw_pooled(swap, ErrorStatus::kSwap);

    draw_single({0, 0, d_good, Constraint::kClosestToSelf, 0}, model_.good_candidates(),
                ErrorStatus::kGood);

    StatusProbabilities p = tables_.Probabilities(j, labelled, overlapping);
    double total = 0;
    for (int s = 0; s < kNumErrorStatuses; ++s) {
      p[s] = valid[s] ? std::max(p[s], 0.0) : 0.0;
      total += p[s];
    }
    if (!(total > 0)) {  // dropped
      if (!labelled_j) result.status[j] = SynthesisStatus::kUnlabelled;
      continue;
    }
    for (double& value : p) value /= total;

    const double u = rng->Uniform01();
    int chosen = -1;
    double cumulative = 0;
    for (int s = 0; s < kNumErrorStatuses; ++s) {
      if (p[s] <= 0) continue;
      chosen = s;  // the last possible status absorbs rounding
      cumulative += p[s];
      if (u < cumulative) break;
    }

    CandidatePoint point = found[chosen];
    if (!release_batches && chosen == index(ErrorStatus::kMiss)) point = miss.Pick(rng);
    if (!release_batches && chosen == index(ErrorStatus::kSwap)) point = swap.Pick(rng);
    result.pose[j] = {point.x, point.y, 1};
    if (labelled_j) {
      result.status[j] = static_cast<SynthesisStatus>(chosen);
      result.probabilities[j] = p;
    } else {
      result.status[j] = SynthesisStatus::kUnlabelled;
    }
  }
  return result;
}

absl::StatusOr<AreaSource> ParseAreaSource(absl::string_view name) {
  if (name == "annotation") return AreaSource::kAnnotation;
  if (name == "box") return AreaSource::kBox;
  return absl::InvalidArgumentError(
      absl::StrCat("must be 'annotation' or 'box', got '", name, "'"));
}

absl::StatusOr<Synthesizer> LoadSynthesizer(const std::string& error_model_path,
                                            const KeypointSchema& schema) {
  if (error_model_path.empty()) {
    return Synthesizer::Create(ErrorModel(), schema, "release error model");
  }
  ASSIGN_OR_RETURN(const ErrorModel model, LoadErrorModel(error_model_path, schema));
  return Synthesizer::Create(model, schema, error_model_path);
}

std::vector<int> OverlappingPersons(const std::vector<const PersonAnnotation*>& persons, int target,
                                    double min_iou) {
  std::vector<int> neighbours;
  for (int i = 0; i < static_cast<int>(persons.size()); ++i) {
    if (i == target || !IsTrainablePerson(*persons[i])) continue;
    if (BoxIou(persons[target]->bbox, persons[i]->bbox) >= min_iou) neighbours.push_back(i);
  }
  return neighbours;
}

int AttachEstimates(const std::vector<KeypointResult>& results, CocoDataset& dataset) {
  absl::flat_hash_map<int64_t, std::vector<const KeypointResult*>> by_image;
  for (const KeypointResult& result : results) by_image[result.image_id].push_back(&result);
  int attached = 0;
  for (PersonAnnotation& person : dataset.annotations) {
    person.estimate.clear();
    auto it = by_image.find(person.image_id);
    if (it == by_image.end() || !IsTrainablePerson(person)) continue;
    const KeypointResult* best = nullptr;
    double best_iou = 0;
    for (const KeypointResult* result : it->second) {
      const double iou = BoxIou(person.bbox, BoxFromKeypoints(result->keypoints, 1.0));
      if (iou > best_iou) {
        best_iou = iou;
        best = result;
      }
    }
    if (best == nullptr || best->keypoints.size() != person.keypoints.size()) continue;
    person.estimate = best->keypoints;
    for (Keypoint& k : person.estimate) {
      k.v = k.v > 0 && std::isfinite(k.x) && std::isfinite(k.y) ? 1 : 0;
    }
    ++attached;
  }
  return attached;
}

double SynthesisArea(const PersonAnnotation& person, AreaSource area_source, cv::Size image_size) {
  return area_source == AreaSource::kAnnotation
             ? person.area
             : ReleaseSanitizedBox(person.bbox, image_size).area();
}

SynthesisInput ImageSynthesisInput(const std::vector<const PersonAnnotation*>& persons, int target,
                                   double min_iou, AreaSource area_source, cv::Size image_size) {
  const PersonAnnotation& person = *persons[target];
  SynthesisInput input;
  input.target = person.keypoints;
  for (int i : OverlappingPersons(persons, target, min_iou)) {
    input.neighbours.push_back(persons[i]->keypoints);
  }
  input.area = SynthesisArea(person, area_source, image_size);
  input.center = {person.bbox.center_x(), person.bbox.center_y()};
  input.estimate = person.estimate;
  return input;
}

SynthesisInput TransformSynthesisInput(const SynthesisInput& input, const cv::Matx23d& transform) {
  SynthesisInput result;
  result.target = TransformPose(transform, input.target);
  for (const Pose& neighbour : input.neighbours) {
    result.neighbours.push_back(TransformPose(transform, neighbour));
  }
  const double det = transform(0, 0) * transform(1, 1) - transform(0, 1) * transform(1, 0);
  result.area = input.area * std::abs(det);
  result.center = Apply(transform, input.center);
  if (!input.estimate.empty()) result.estimate = TransformPose(transform, input.estimate);
  return result;
}

SynthesisInput FlipSynthesisInput(const SynthesisInput& input, double crop_width,
                                  const std::vector<int>& flip_permutation) {
  SynthesisInput result;
  result.target = FlipPose(input.target, crop_width, flip_permutation);
  for (const Pose& neighbour : input.neighbours) {
    result.neighbours.push_back(FlipPose(neighbour, crop_width, flip_permutation));
  }
  result.area = input.area;
  result.center = {crop_width - 1 - input.center.x, input.center.y};
  if (!input.estimate.empty()) {
    result.estimate = FlipPose(input.estimate, crop_width, flip_permutation);
  }
  return result;
}

SynthesisInput DropKeypointsOutsideCrop(const SynthesisInput& input, cv::Size crop_size) {
  auto drop = [&](Pose pose) {
    for (Keypoint& k : pose) {
      if (!(k.x >= 0 && k.x < crop_size.width && k.y >= 0 && k.y < crop_size.height)) k.v = 0;
    }
    return pose;
  };
  SynthesisInput result = input;
  result.target = drop(input.target);
  for (Pose& neighbour : result.neighbours) neighbour = drop(neighbour);
  if (!input.estimate.empty()) result.estimate = drop(input.estimate);
  return result;
}

absl::StatusOr<std::vector<SynthesizedPerson>> SynthesizeDataset(const CocoDataset& dataset,
                                                                 const Synthesizer& synthesizer,
                                                                 uint64_t seed,
                                                                 AreaSource area_source,
                                                                 absl::string_view source) {
  // Persons of each image, crowd regions included (OverlappingPersons skips
  // them). Sorted by annotation id below, so that neither the order of the
  // file nor that of the neighbours changes a person's result.
  absl::flat_hash_map<int64_t, std::vector<int>> by_image;
  std::vector<int64_t> image_order;
  for (int i = 0; i < static_cast<int>(dataset.annotations.size()); ++i) {
    const PersonAnnotation& a = dataset.annotations[i];
    auto [it, inserted] = by_image.try_emplace(a.image_id);
    if (inserted) image_order.push_back(a.image_id);
    it->second.push_back(i);
  }
  const absl::flat_hash_map<int64_t, int> image_index = IndexImages(dataset);
  std::vector<SynthesizedPerson> people;
  for (int64_t image_id : image_order) {
    // Without an images[] entry there is no size to clip a box to.
    cv::Size image_size(0, 0);
    if (auto image = image_index.find(image_id); image != image_index.end()) {
      image_size = {dataset.images[image->second].width, dataset.images[image->second].height};
    }
    std::vector<int>& indices = by_image[image_id];
    std::sort(indices.begin(), indices.end(), [&dataset](int a, int b) {
      return dataset.annotations[a].id < dataset.annotations[b].id;
    });
    std::vector<const PersonAnnotation*> persons;
    for (int i : indices) persons.push_back(&dataset.annotations[i]);
    for (int t = 0; t < static_cast<int>(persons.size()); ++t) {
      const PersonAnnotation& person = *persons[t];
      if (person.iscrowd) continue;
      const std::string field = absl::StrCat("annotations[", indices[t], "]");
      const double area = SynthesisArea(person, area_source, image_size);
      if (!(area > 0) || !std::isfinite(area)) {
        return FieldError(
            source, field + (area_source == AreaSource::kAnnotation ? ".area" : ".bbox"),
            absl::StrCat("the area that scales the errors must be positive, got ", area,
                         area_source == AreaSource::kBox
                             ? " (the box as the release clips it to its image's width and height)"
                             : ""));
      }
      DeterministicRandom rng = DeterministicRandom::ForKey(
          {seed, static_cast<uint64_t>(person.image_id), static_cast<uint64_t>(person.id)});
      absl::StatusOr<SynthesizedPose> synthesized =
          synthesizer.Synthesize(ImageSynthesisInput(persons, t, synthesizer.model().overlap_iou(),
                                                     area_source, image_size),
                                 &rng);
      if (!synthesized.ok()) {
        return FieldError(source, field, synthesized.status().message());
      }
      SynthesizedPerson out;
      out.image_id = person.image_id;
      out.annotation_id = person.id;
      out.category_id = person.category_id;
      out.annotation_index = indices[t];
      out.synthesized = *std::move(synthesized);
      people.push_back(std::move(out));
    }
  }
  return people;
}

std::vector<KeypointResult> SynthesizedResults(const std::vector<SynthesizedPerson>& people) {
  std::vector<KeypointResult> results;
  results.reserve(people.size());
  for (const SynthesizedPerson& person : people) {
    KeypointResult result;
    result.image_id = person.image_id;
    result.category_id = person.category_id;
    result.keypoints = person.synthesized.pose;
    result.score = 1;
    results.push_back(std::move(result));
  }
  return results;
}

}  // namespace posefix
