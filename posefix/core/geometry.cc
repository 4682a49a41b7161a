#include "posefix/core/geometry.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "opencv2/imgproc.hpp"

namespace posefix {

Box BoxFromKeypoints(const Pose& pose, double extent_scale, double min_extent) {
  double min_x = std::numeric_limits<double>::infinity(), min_y = min_x;
  double max_x = -min_x, max_y = -min_x;
  for (const Keypoint& keypoint : pose) {
    min_x = std::min(min_x, keypoint.x);
    min_y = std::min(min_y, keypoint.y);
    max_x = std::max(max_x, keypoint.x);
    max_y = std::max(max_y, keypoint.y);
  }
  if (pose.empty()) return Box{0, 0, min_extent, min_extent};
  const double center_x = (min_x + max_x) / 2, center_y = (min_y + max_y) / 2;
  double width = (max_x - min_x) * extent_scale;
  double height = (max_y - min_y) * extent_scale;
  if (width <= 0) width = min_extent;
  if (height <= 0) height = min_extent;
  return Box{center_x - width / 2, center_y - height / 2, width, height};
}

Box FixAspectRatio(const Box& box, double aspect_ratio) {
  double width = box.width, height = box.height;
  if (width > aspect_ratio * height) {
    height = width / aspect_ratio;
  } else {
    width = height * aspect_ratio;
  }
  return Box{box.center_x() - width / 2, box.center_y() - height / 2, width, height};
}

Box ScaleBox(const Box& box, double factor) {
  const double width = box.width * factor, height = box.height * factor;
  return Box{box.center_x() - width / 2, box.center_y() - height / 2, width, height};
}

Box ReleaseSanitizedBox(const Box& box, cv::Size image_size) {
  const double x1 = std::max(0.0, box.x), y1 = std::max(0.0, box.y);
  const double x2 = std::min(image_size.width - 1.0, x1 + std::max(0.0, box.width - 1));
  const double y2 = std::min(image_size.height - 1.0, y1 + std::max(0.0, box.height - 1));
  return Box{x1, y1, std::max(0.0, x2 - x1), std::max(0.0, y2 - y1)};
}

double BoxIou(const Box& a, const Box& b) {
  const double left = std::max(a.x, b.x), top = std::max(a.y, b.y);
  const double right = std::min(a.x + a.width, b.x + b.width);
  const double bottom = std::min(a.y + a.height, b.y + b.height);
  if (right <= left || bottom <= top) return 0;
  const double intersection = (right - left) * (bottom - top);
  const double union_area = a.area() + b.area() - intersection;
  return union_area > 0 ? intersection / union_area : 0;
}

absl::StatusOr<CropTransform> MakeCropTransform(const Box& box, double rotation_degrees,
                                                cv::Size crop_size) {
  if (!(box.width > 0) || !(box.height > 0) || !std::isfinite(box.width) ||
      !std::isfinite(box.height) || !std::isfinite(box.x) || !std::isfinite(box.y)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "crop box must have a finite positive size, got ", box.width, " x ", box.height));
  }
  if (crop_size.width <= 0 || crop_size.height <= 0) {
    return absl::InvalidArgumentError("crop size must be positive");
  }
  // Scale so the box fills the crop (the caller fixed the aspect ratio), then
  // rotate about the box centre and move it to the crop centre.
  const double scale_x = crop_size.width / box.width;
  const double scale_y = crop_size.height / box.height;
  const double radians = rotation_degrees * CV_PI / 180;
  const double cosine = std::cos(radians), sine = std::sin(radians);
  // Rotation as in cv::getRotationMatrix2D: counter-clockwise in image axes.
  const cv::Matx22d linear(scale_x * cosine, scale_x * sine, -scale_y * sine, scale_y * cosine);
  const cv::Vec2d center(box.center_x(), box.center_y());
  const cv::Vec2d crop_center(crop_size.width / 2.0, crop_size.height / 2.0);
  const cv::Vec2d offset = crop_center - linear * center;
  CropTransform transform;
  transform.image_to_crop = cv::Matx23d(linear(0, 0), linear(0, 1), offset[0],
                                        linear(1, 0), linear(1, 1), offset[1]);
  cv::invertAffineTransform(transform.image_to_crop, transform.crop_to_image);
  return transform;
}

cv::Point2d Apply(const cv::Matx23d& transform, cv::Point2d point) {
  return {transform(0, 0) * point.x + transform(0, 1) * point.y + transform(0, 2),
          transform(1, 0) * point.x + transform(1, 1) * point.y + transform(1, 2)};
}

Pose TransformPose(const cv::Matx23d& transform, const Pose& pose) {
  Pose result = pose;
  for (Keypoint& keypoint : result) {
    const cv::Point2d moved = Apply(transform, {keypoint.x, keypoint.y});
    keypoint.x = moved.x;
    keypoint.y = moved.y;
  }
  return result;
}

Pose FlipPose(const Pose& pose, double crop_width, const std::vector<int>& flip_permutation) {
  Pose result(pose.size());
  for (size_t j = 0; j < pose.size(); ++j) {
    Keypoint keypoint = pose[flip_permutation[j]];
    // Pixel centres sit at integer coordinates, so x maps to width - 1 - x.
    keypoint.x = crop_width - 1 - keypoint.x;
    result[j] = keypoint;
  }
  return result;
}

cv::Mat WarpCrop(const cv::Mat& image, const CropTransform& transform, cv::Size crop_size) {
  cv::Mat crop;
  cv::warpAffine(image, crop, cv::Mat(transform.image_to_crop), crop_size, cv::INTER_LINEAR,
                 cv::BORDER_CONSTANT, cv::Scalar::all(0));
  return crop;
}

}  // namespace posefix
