#ifndef POSEFIX_SYNTH_TEST_POSES_H_
#define POSEFIX_SYNTH_TEST_POSES_H_

// Poses for tests and benchmarks of the synthesizer.

#include "posefix/core/types.h"

namespace posefix {

// A standing COCO person of about 100 x 250 pixels with its top-left corner
// at (x, y); every keypoint with visibility `v`.
inline Pose StandingPerson(double x, double y, double v = 2) {
  const double xy[17][2] = {{50, 20},  {45, 15},  {55, 15},  {38, 18},  {62, 18},  {30, 60},
                            {70, 60},  {22, 100}, {78, 100}, {18, 140}, {82, 140}, {38, 140},
                            {62, 140}, {36, 190}, {64, 190}, {35, 240}, {65, 240}};
  Pose pose;
  for (const auto& p : xy) pose.push_back({x + p[0], y + p[1], v});
  return pose;
}

}  // namespace posefix

#endif  // POSEFIX_SYNTH_TEST_POSES_H_
