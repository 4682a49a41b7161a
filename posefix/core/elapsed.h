#ifndef POSEFIX_CORE_ELAPSED_H_
#define POSEFIX_CORE_ELAPSED_H_

#include <chrono>

namespace posefix {

// Seconds from `start` to now, on the monotonic clock that timings use.
inline double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace posefix

#endif  // POSEFIX_CORE_ELAPSED_H_
