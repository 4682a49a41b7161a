#ifndef POSEFIX_CORE_IMAGE_IO_H_
#define POSEFIX_CORE_IMAGE_IO_H_

#include <string>

#include "absl/strings/string_view.h"
#include "opencv2/core.hpp"

namespace posefix {

// Reads a BGR image in its stored pixel order. COCO's annotations (and the
// authors' release) are in that order, whereas cv::imread rotates a JPEG by
// its EXIF orientation tag unless told not to. Empty when the file is
// missing, not an image, or a truncated JPEG (which libjpeg would decode
// with grey rows and only a warning); callers say which field named it.
cv::Mat ReadImage(const std::string& path);

// A JPEG (starts with SOI) whose data does not end with the EOI marker
// (trailing zero padding allowed).
bool IsTruncatedJpeg(absl::string_view bytes);

}  // namespace posefix

#endif  // POSEFIX_CORE_IMAGE_IO_H_
