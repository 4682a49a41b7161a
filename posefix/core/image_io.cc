#include "posefix/core/image_io.h"

#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "opencv2/imgcodecs.hpp"
#include "posefix/core/file_util.h"

namespace posefix {

bool IsTruncatedJpeg(absl::string_view bytes) {
  if (!absl::StartsWith(bytes, "\xFF\xD8")) return false;
  // Some writers pad the file with zeros after the end-of-image marker.
  while (!bytes.empty() && bytes.back() == '\0') bytes.remove_suffix(1);
  return !absl::EndsWith(bytes, "\xFF\xD9");
}

cv::Mat ReadImage(const std::string& path) {
  absl::StatusOr<std::string> bytes = ReadFileToString(path);
  if (!bytes.ok() || bytes->empty() || IsTruncatedJpeg(*bytes)) return cv::Mat();
  const cv::Mat encoded(1, static_cast<int>(bytes->size()), CV_8U, bytes->data());
  return cv::imdecode(encoded, cv::IMREAD_COLOR | cv::IMREAD_IGNORE_ORIENTATION);
}

}  // namespace posefix
