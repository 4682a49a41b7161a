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

namespace posefix {
namespace {

struct Point {
  double x = 0;
  double y = 0;
};

double Distance2(const Point& a, const Point& b) {
  const double dx = a.x - b.x, dy = a.y - b.y;
  return dx * dx + dy * dy;
}

// Where a candidate may lie relative to the points it could be confused
// with (`sources`; the candidate was drawn around sources[self]).
enum class Constraint {
  // Strictly closer to sources[self] than to every other source (good,
  // jitter, inversion, swap).
  kClosestToSelf,
  // Farther than `reach` from every other source (miss; its length already
  // keeps it that far from sources[self]).
  kFarFromAll,
};

struct Draw {
  int self = 0;
  double min_length = 0;
  double max_length = 0;
  Constraint constraint = Constraint::kClosestToSelf;
  double reach = 0;  // kFarFromAll only
};

// Draws one candidate; true when it satisfies the constraint.
bool DrawCandidate(const std::vector<Point>& sources, const Draw& draw, DeterministicRandom* rng,
                   Point* out) {
  const double length = rng->Uniform(draw.min_length, draw.max_length);
  double dx, dy;
  rng->UnitVector(&dx, &dy);
  const Point& centre = sources[draw.self];
  const Point candidate{centre.x + length * dx, centre.y + length * dy};
  // The distance to the centre is measured on the candidate itself, so that a
  // source at the centre's very position ties (and is rejected) exactly.
  const double limit2 = draw.constraint == Constraint::kClosestToSelf ? Distance2(candidate, centre)
                                                                      : draw.reach * draw.reach;
  for (int i = 0; i < static_cast<int>(sources.size()); ++i) {
    if (i == draw.self) continue;
    if (Distance2(candidate, sources[i]) <= limit2) return false;
  }
  *out = candidate;
  return true;
}

// Draws up to `count` candidates and stops at the first survivor. A uniform
// pick among all survivors of a batch (the release) has the distribution of
// the first survivor, and a batch has a survivor exactly when the first one
// comes within `count` draws, so this is the release's sampling, cheaper.
bool FirstSurvivor(const std::vector<Point>& sources, const Draw& draw, int count,
                   DeterministicRandom* rng, Point* out) {
  for (int i = 0; i < count; ++i) {
    if (DrawCandidate(sources, draw, rng, out)) return true;
  }
  return false;
}

// Whether `draw` yields at least `needed` survivors within `count` draws;
// `first` receives the first survivor.
bool HasSurvivors(const std::vector<Point>& sources, const Draw& draw, int count, int needed,
                  DeterministicRandom* rng, Point* first) {
  if (needed > count) return false;
  Point candidate;
  int found = 0;
  for (int i = 0; i < count && found < needed; ++i) {
    if (count - i < needed - found) return false;
    if (DrawCandidate(sources, draw, rng, &candidate) && found++ == 0) *first = candidate;
  }
  return found >= needed;
}

// Whether every candidate of `draw` satisfies its constraint, because all
// other sources are too far away to interfere (a margin covers rounding).
bool AlwaysAccepted(const std::vector<Point>& sources, const Draw& draw) {
  const double clearance = draw.constraint == Constraint::kClosestToSelf
                               ? 2 * draw.max_length
                               : draw.max_length + draw.reach;
  const double limit2 = clearance * clearance * (1 + 1e-9);
  for (int i = 0; i < static_cast<int>(sources.size()); ++i) {
    if (i != draw.self && Distance2(sources[i], sources[draw.self]) <= limit2) return false;
  }
  return true;
}

// The release's pick of a status drawn around several sources (swap, miss):
// a batch of `count` candidates around each source, the survivors of source
// s weighted floor(survivors * fraction[s]), one survivor picked uniformly
// from the weighted pool. Called once the status is known to have a
// survivor, it redraws batches until one has (so the result follows the
// release's distribution conditioned on that). A source whose candidates all
// survive has `count` survivors without drawing them, and a survivor picked
// there is a fresh candidate: the same distribution, much cheaper.
Point PickFromBatches(const std::vector<Point>& sources, const std::vector<Draw>& draws,
                      const std::vector<double>& fractions, int count, DeterministicRandom* rng,
                      const Point& fallback) {
  std::vector<std::vector<Point>> survivors(draws.size());
  std::vector<int64_t> weights(draws.size());
  std::vector<char> certain(draws.size());
  for (size_t s = 0; s < draws.size(); ++s) certain[s] = AlwaysAccepted(sources, draws[s]);
  constexpr int kMaxRounds = 1000;
  for (int round = 0; round < kMaxRounds; ++round) {
    int64_t total = 0;
    for (size_t s = 0; s < draws.size(); ++s) {
      survivors[s].clear();
      int64_t survived = count;
      if (!certain[s]) {
        Point candidate;
        for (int i = 0; i < count; ++i) {
          if (DrawCandidate(sources, draws[s], rng, &candidate)) survivors[s].push_back(candidate);
        }
        survived = static_cast<int64_t>(survivors[s].size());
      }
      weights[s] = static_cast<int64_t>(std::floor(survived * fractions[s]));
      total += weights[s];
    }
    if (total == 0) continue;
    int64_t pick = static_cast<int64_t>(rng->UniformInt(static_cast<uint64_t>(total)));
    for (size_t s = 0; s < draws.size(); ++s) {
      if (pick >= weights[s]) {
        pick -= weights[s];
        continue;
      }
      if (!certain[s]) return survivors[s][rng->UniformInt(survivors[s].size())];
      Point candidate;
      while (!DrawCandidate(sources, draws[s], rng, &candidate)) {
      }
      return candidate;
    }
  }
  // Only reachable when survivors are so rare that 1000 batches had none,
  // although the existence check found one: keep that one.
  return fallback;
}

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
                                                absl::string_view source) {
  absl::Status schema_ok = ValidateKeypointSchema(schema, schema.name());
  if (!schema_ok.ok()) return schema_ok;
  absl::StatusOr<ErrorModel> complete = CompleteErrorModel(model, schema, source);
  if (!complete.ok()) return complete.status();
  return Synthesizer(*complete, schema);
}

Synthesizer::Synthesizer(const ErrorModel& model, const KeypointSchema& schema)
    : model_(model), schema_(schema), tables_(model), flip_(FlipPermutation(schema)) {
  for (double sigma : Sigmas(schema)) {
    good_factor_.push_back(KsFactor(model.good_ks(), sigma));
    jitter_factor_.push_back(KsFactor(model.jitter_ks(), sigma));
    miss_factor_.push_back(KsFactor(model.miss_ks(), sigma));
  }
  // floor(n * fraction) >= 1 from this many survivors on.
  const double fraction = model.miss_other_source_fraction();
  if (fraction <= 0) {
    miss_other_needed_ = std::numeric_limits<int>::max();
  } else {
    double needed = std::ceil(1 / fraction);
    if (std::floor(needed * fraction) < 1) needed += 1;
    miss_other_needed_ = needed > 1e9 ? std::numeric_limits<int>::max() : static_cast<int>(needed);
  }
}

absl::StatusOr<SynthesizedPose> Synthesizer::Synthesize(const SynthesisInput& input,
                                                        DeterministicRandom* rng) const {
  const int num_keypoints = schema_.keypoint_names_size();
  absl::Status ok = CheckPose(input.target, num_keypoints, "target.keypoints");
  if (!ok.ok()) return ok;
  for (size_t i = 0; i < input.neighbours.size(); ++i) {
    ok = CheckPose(input.neighbours[i], num_keypoints, absl::StrCat("neighbours[", i, "]"));
    if (!ok.ok()) return ok;
  }
  if (!input.estimate.empty()) {
    ok = CheckPose(input.estimate, num_keypoints, "estimate.keypoints");
    if (!ok.ok()) return ok;
  }
  if (!(input.area > 0) || !std::isfinite(input.area)) {
    return absl::InvalidArgumentError(
        absl::StrCat("area: must be positive and finite, got ", input.area));
  }

  const Pose& target = input.target;
  const int overlapping = static_cast<int>(input.neighbours.size());
  int labelled = 0;
  Point centroid{0, 0};
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

  std::vector<Point> sources;
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
    std::array<Point, kNumErrorStatuses> found{};
    auto index = [](ErrorStatus s) { return static_cast<int>(s); };

    // The release's order of draws: jitter, miss, inversion, swap, good.
    valid[index(ErrorStatus::kJitter)] =
        FirstSurvivor(sources, {0, d_good, d_jitter, Constraint::kClosestToSelf, 0},
                      model_.jitter_candidates(), rng, &found[index(ErrorStatus::kJitter)]);

    std::vector<Draw> miss_draws;
    std::vector<double> miss_fractions;
    for (int s = 0; s < swap_end; ++s) {
      miss_draws.push_back({s, d_jitter, d_miss, Constraint::kFarFromAll, d_jitter});
      miss_fractions.push_back(s == 0 ? 1.0 : model_.miss_other_source_fraction());
    }
    for (int s = 0; s < swap_end && !valid[index(ErrorStatus::kMiss)]; ++s) {
      valid[index(ErrorStatus::kMiss)] =
          HasSurvivors(sources, miss_draws[s], model_.miss_candidates_per_source(),
                       s == 0 ? 1 : miss_other_needed_, rng, &found[index(ErrorStatus::kMiss)]);
    }

    if (counterpart >= 0) {
      valid[index(ErrorStatus::kInversion)] =
          FirstSurvivor(sources, {counterpart, 0, d_jitter, Constraint::kClosestToSelf, 0},
                        model_.inversion_candidates(), rng, &found[index(ErrorStatus::kInversion)]);
    }

    std::vector<Draw> swap_draws;
    std::vector<double> swap_fractions;
    for (int s = swap_begin; s < swap_end; ++s) {
      swap_draws.push_back({s, 0, d_jitter, Constraint::kClosestToSelf, 0});
      swap_fractions.push_back(1.0);
    }
    for (const Draw& draw : swap_draws) {
      if (valid[index(ErrorStatus::kSwap)]) break;
      valid[index(ErrorStatus::kSwap)] =
          FirstSurvivor(sources, draw, model_.swap_candidates_per_source(), rng,
                        &found[index(ErrorStatus::kSwap)]);
    }

    valid[index(ErrorStatus::kGood)] =
        FirstSurvivor(sources, {0, 0, d_good, Constraint::kClosestToSelf, 0},
                      model_.good_candidates(), rng, &found[index(ErrorStatus::kGood)]);

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

    Point point = found[chosen];
    if (chosen == index(ErrorStatus::kMiss)) {
      point = PickFromBatches(sources, miss_draws, miss_fractions,
                              model_.miss_candidates_per_source(), rng, point);
    } else if (chosen == index(ErrorStatus::kSwap)) {
      point = PickFromBatches(sources, swap_draws, swap_fractions,
                              model_.swap_candidates_per_source(), rng, point);
    }
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
  absl::StatusOr<ErrorModel> model = LoadErrorModel(error_model_path, schema);
  if (!model.ok()) return model.status();
  return Synthesizer::Create(*model, schema, error_model_path);
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
