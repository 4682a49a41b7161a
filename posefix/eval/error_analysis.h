#ifndef POSEFIX_EVAL_ERROR_ANALYSIS_H_
#define POSEFIX_EVAL_ERROR_ANALYSIS_H_

#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "posefix/core/keypoint_schema.pb.h"
#include "posefix/core/types.h"
#include "posefix/eval/metrics.pb.h"

namespace posefix {

struct ErrorAnalysisOptions {
  // Detections are matched to ground truth by COCOeval's greedy matching at
  // this OKS (coco-analyze's oksLocThrs).
  double match_oks = 0.1;
  // KS above which a keypoint is good, and below which it is a miss unless
  // it lies near another keypoint (coco-analyze's jitterKsThrs).
  double good_ks = 0.85;
  double jitter_ks = 0.5;
  // Detections kept per image, best scores first.
  int max_dets = 20;
};

// The classes of one matched detection's keypoints and the pose with every
// erroneous keypoint corrected.
struct KeypointClassification {
  // One per keypoint; KEYPOINT_ERROR_TYPE_UNSPECIFIED where the ground truth
  // is unlabelled or the schema ignores the keypoint.
  std::vector<KeypointErrorType> types;
  // The detection with each erroneous keypoint moved to its ground truth,
  // offset along x by the distance at which its KS would be the class's
  // limit (jitter: good_ks, miss: jitter_ks, inversion and swap: the KS it
  // had to the wrong keypoint), as coco-analyze corrects them.
  Pose corrected;
};

// Classifies the keypoints of `detection` matched to `matched` among all
// ground truth of the image (`others` excludes `matched`, in file order).
// KS rows are, in this order: the matched person, the others, the matched
// person's left/right-flipped keypoints, the others flipped; a keypoint's
// class comes from the first row with the highest KS.
KeypointClassification ClassifyKeypoints(absl::Span<const Keypoint> detection,
                                         const PersonAnnotation& matched,
                                         absl::Span<const PersonAnnotation* const> others,
                                         absl::Span<const double> variances,
                                         absl::Span<const int> flip,
                                         absl::Span<const int> ignored_keypoints,
                                         const ErrorAnalysisOptions& options);

// The error taxonomy of Ronchi & Perona over a results file, for the area
// ranges all (32^2 and up, as coco-analyze), medium and large: counts per
// class, per keypoint and overall, and the AP after correcting each error
// type alone and cumulatively. `result_areas` as for PrepareEvalCells.
absl::StatusOr<ErrorAnalysis> AnalyzeKeypointErrors(const CocoDataset& ground_truth,
                                                    const KeypointResultColumns& results,
                                                    absl::Span<const double> result_areas,
                                                    const KeypointSchema& schema,
                                                    const ErrorAnalysisOptions& options = {});

// The error table printed by the evaluate tool.
std::string FormatErrorAnalysis(const ErrorAnalysis& analysis);

}  // namespace posefix

#endif  // POSEFIX_EVAL_ERROR_ANALYSIS_H_
