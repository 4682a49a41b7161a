#ifndef POSEFIX_SYNTH_SYNTHESIZER_H_
#define POSEFIX_SYNTH_SYNTHESIZER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "opencv2/core.hpp"
#include "posefix/core/keypoint_schema.pb.h"
#include "posefix/core/random.h"
#include "posefix/core/types.h"
#include "posefix/synth/error_model.h"
#include "posefix/synth/error_model.pb.h"

namespace posefix {

// What became of one ground-truth keypoint. The first five equal
// ErrorStatus; kDropped: no status had a valid candidate (the point is
// (0, 0) with v = 0); kUnlabelled: the ground truth has v = 0 (see
// Synthesizer::Synthesize for where such a point goes).
enum class SynthesisStatus : int {
  kGood = 0,
  kJitter = 1,
  kInversion = 2,
  kSwap = 3,
  kMiss = 4,
  kDropped = 5,
  kUnlabelled = 6,
};
constexpr int kNumSynthesisStatuses = 7;

// "good", ..., "miss", "dropped", "unlabelled".
const char* SynthesisStatusName(SynthesisStatus status);

// The distance from a keypoint at which OKS's keypoint similarity equals
// `ks`: sqrt(-2 * area * (2 * sigma)^2 * ln ks).
double KsDistance(double ks, double sigma, double area);

// One person to synthesize, all in one frame (image or crop pixels).
struct SynthesisInput {
  // The person's ground truth; v = 0 marks an unlabelled keypoint.
  Pose target;
  // The persons that overlap it (their count is o of the tables); their
  // labelled keypoints are where swaps go.
  std::vector<Pose> neighbours;
  // The area that scales d^k (the release: box area in crop pixels).
  double area = 0;
  // Where unlabelled keypoints go when no keypoint is labelled (the box
  // centre).
  cv::Point2d center;
  // Optional (empty: none): an estimator's pose of the target. An unlabelled
  // keypoint with a point here (v > 0) is synthesized around it as if it
  // were the ground truth (the release's choice).
  Pose estimate;
};

struct SynthesizedPose {
  // One point per keypoint: v = 1 where a point was placed, v = 0 (at the
  // origin) where it was dropped.
  Pose pose;
  std::vector<SynthesisStatus> status;
  // The probabilities the status was drawn with, after the statuses without
  // a valid candidate were renormalized away; all zero for dropped and
  // unlabelled keypoints.
  std::vector<StatusProbabilities> probabilities;
};

// How the release's candidates are sampled; both give the same law
// (synthesizer_law_test checks it on a large sample).
enum class CandidateSampling {
  // Draws only what decides the law (FirstSurvivor, SurvivorPool::Pick).
  kExact,
  // The release's whole batches (SurvivorPool::PickFromBatches): the
  // reference that tests and benchmarks compare against.
  kReleaseBatches,
};

class Synthesizer {
 public:
  // Completes `model` with the release's tables where absent and validates it
  // against `schema` (errors name `source` and the field).
  static absl::StatusOr<Synthesizer> Create(const ErrorModel& model, const KeypointSchema& schema,
                                            absl::string_view source = "error model",
                                            CandidateSampling sampling = CandidateSampling::kExact);

  // Synthesizes one input pose. For every labelled keypoint a status is
  // drawn with the model's probabilities for (joint, n, o), among the
  // statuses that have a candidate satisfying their constraint. Unlabelled
  // keypoints (v = 0) still get a point, as an estimator always outputs one:
  // where the input has an estimate of the keypoint, a status is drawn
  // around the estimate as above (n stays the labelled count); otherwise
  // uniformly within d^jitter_ks of the mean of the person's labelled
  // keypoints (of `center` when none is labelled). Their status is
  // kUnlabelled: they carry no loss and the taxonomy ignores them. Errors: a
  // pose whose size is not the schema's, a non-finite coordinate, a
  // non-positive area.
  absl::StatusOr<SynthesizedPose> Synthesize(const SynthesisInput& input,
                                             DeterministicRandom* rng) const;

  const ErrorModel& model() const { return model_; }
  const KeypointSchema& schema() const { return schema_; }
  const CompiledStatusTables& tables() const { return tables_; }

 private:
  Synthesizer(const ErrorModel& model, const KeypointSchema& schema, CandidateSampling sampling);

  ErrorModel model_;
  KeypointSchema schema_;
  CompiledStatusTables tables_;
  std::vector<int> flip_;
  // -2 * (2 sigma_j)^2 * ln k for k = good, jitter and miss KS: d^k of
  // joint j is sqrt(area * factor).
  std::vector<double> good_factor_, jitter_factor_, miss_factor_;
  CandidateSampling sampling_;
};

// The release's source of unlabelled keypoints: sets the `estimate` of
// every trainable person (IsTrainablePerson) of `dataset` to the pose of the
// result on its image whose keypoint extent box overlaps the person's box
// most (box IoU > 0; the release matches the estimator's own boxes, which
// COCO results files do not carry). A keypoint with score <= 0 or a
// non-finite coordinate gives no point (v = 0), others v = 1. Returns the
// number of persons that got an estimate.
int AttachEstimates(const std::vector<KeypointResult>& results, CocoDataset& dataset);

// Which area scales d^k when synthesizing on whole images.
enum class AreaSource {
  // The annotation's `area` (segment area), the s^2 of OKS: the synthesized
  // statuses then match the error taxonomy's.
  kAnnotation,
  // The area of the box as the release sanitizes it (ReleaseSanitizedBox:
  // clipped to the image, w - 1 by h - 1), as it does in its crops.
  kBox,
};

// "annotation" or "box", as the synth tools' --area flag spells them.
absl::StatusOr<AreaSource> ParseAreaSource(absl::string_view name);

// The synthesizer of the text-format ErrorModel at `error_model_path`
// (fields left out keep the release's), or of the release's model when the
// path is empty.
absl::StatusOr<Synthesizer> LoadSynthesizer(const std::string& error_model_path,
                                            const KeypointSchema& schema);

// Positions in `persons` of the trainable persons (IsTrainablePerson) other
// than `target` whose box IoU with it is at least `min_iou`, as the release
// counts o: a crowd region or a person without keypoints is no neighbour.
std::vector<int> OverlappingPersons(const std::vector<const PersonAnnotation*>& persons, int target,
                                    double min_iou);

// The area that scales a person's synthesized errors; `image_size` (of the
// person's image) clips the box of AreaSource::kBox.
double SynthesisArea(const PersonAnnotation& person, AreaSource area_source, cv::Size image_size);

// The input for persons[target] in image pixels (of an image of
// `image_size`), its neighbours found by OverlappingPersons.
SynthesisInput ImageSynthesisInput(const std::vector<const PersonAnnotation*>& persons, int target,
                                   double min_iou, AreaSource area_source, cv::Size image_size);

// Crop mode: the same input seen through a similarity transform (target,
// neighbours and centre mapped, area scaled by the transform's determinant;
// for a crop box of the crop's aspect ratio, as the data pipeline makes),
// and mirrored in a crop of `crop_width` with left/right pairs swapped.
SynthesisInput TransformSynthesisInput(const SynthesisInput& input, const cv::Matx23d& transform);
SynthesisInput FlipSynthesisInput(const SynthesisInput& input, double crop_width,
                                  const std::vector<int>& flip_permutation);

// The release's view of a crop: keypoints of the target and of its
// neighbours outside [0, width) x [0, height) are unlabelled, so they leave
// the labelled count n and the sources of the other keypoints.
SynthesisInput DropKeypointsOutsideCrop(const SynthesisInput& input, cv::Size crop_size);

struct SynthesizedPerson {
  int64_t image_id = 0;
  int64_t annotation_id = 0;
  int64_t category_id = 1;
  // Position in CocoDataset::annotations.
  int annotation_index = 0;
  SynthesizedPose synthesized;
};

// Synthesizes every non-crowd person of `dataset` on its whole image, each
// from the stream DeterministicRandom::ForKey({seed, image id, annotation id}), in the
// order of the file. A person's result does not depend on that order.
// `source` names the dataset's file in errors ("FILE: annotations[4].area:").
absl::StatusOr<std::vector<SynthesizedPerson>> SynthesizeDataset(const CocoDataset& dataset,
                                                                 const Synthesizer& synthesizer,
                                                                 uint64_t seed,
                                                                 AreaSource area_source,
                                                                 absl::string_view source);

// The synthesized poses as a COCO keypoint results file's entries (score 1):
// the input poses a refiner is given.
std::vector<KeypointResult> SynthesizedResults(const std::vector<SynthesizedPerson>& people);

}  // namespace posefix

#endif  // POSEFIX_SYNTH_SYNTHESIZER_H_
