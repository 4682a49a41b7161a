#ifndef POSEFIX_CORE_IMAGE_IO_H_
#define POSEFIX_CORE_IMAGE_IO_H_

#include <string>

#include "opencv2/core.hpp"

namespace posefix {

// Reads a BGR image in its stored pixel order. COCO's annotations (and the
// authors' release) are in that order, whereas cv::imread rotates a JPEG by
// its EXIF orientation tag unless told not to. Empty when the file is
// missing or not an image (callers say which field named it).
cv::Mat ReadImage(const std::string& path);

}  // namespace posefix

#endif  // POSEFIX_CORE_IMAGE_IO_H_
