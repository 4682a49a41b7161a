#include "posefix/core/image_io.h"

#include "opencv2/imgcodecs.hpp"

namespace posefix {

cv::Mat ReadImage(const std::string& path) {
  return cv::imread(path, cv::IMREAD_COLOR | cv::IMREAD_IGNORE_ORIENTATION);
}

}  // namespace posefix
