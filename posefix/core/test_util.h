#ifndef POSEFIX_CORE_TEST_UTIL_H_
#define POSEFIX_CORE_TEST_UTIL_H_

// Helpers for tests only.

#include <utility>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "gtest/gtest.h"
#include "posefix/core/coco_io.h"
#include "posefix/core/types.h"

namespace posefix {

// The value of `value`; when it holds an error instead (a golden file that
// is missing, say), the test fails with that error and gets a default T, so
// that it reports the cause instead of crashing on the dereference.
template <typename T>
T OrFail(absl::StatusOr<T> value) {
  if (!value.ok()) {
    ADD_FAILURE() << value.status();
    return T();
  }
  return *std::move(value);
}

// `results` by column, each pose with as many keypoints as the first.
inline KeypointResultColumns ResultColumns(absl::Span<const KeypointResult> results) {
  return OrFail(
      ToResultColumns("results", results, results.empty() ? 0 : results[0].keypoints.size()));
}

}  // namespace posefix

#endif  // POSEFIX_CORE_TEST_UTIL_H_
