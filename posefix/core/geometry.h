#ifndef POSEFIX_CORE_GEOMETRY_H_
#define POSEFIX_CORE_GEOMETRY_H_

#include "absl/status/statusor.h"
#include "opencv2/core.hpp"
#include "posefix/core/types.h"

namespace posefix {

// The release's test-time person box: the min/max extent of all keypoints,
// each extent widened by `extent_scale` about its centre, or set to
// `min_extent` pixels where the keypoints span nothing.
Box BoxFromKeypoints(const Pose& pose, double extent_scale = 1.2, double min_extent = 20);

// Grows the short side of `box` about its centre so that width / height
// equals `aspect_ratio` (0.75 for a 4:3 height:width crop).
Box FixAspectRatio(const Box& box, double aspect_ratio);

// Scales width and height by `factor` about the centre.
Box ScaleBox(const Box& box, double factor);

// The release's sanitized COCO box: the near corner clipped to the image,
// the far one at (x + w - 1, y + h - 1) clipped to the last pixel; empty
// (width or height 0) where nothing is left.
Box ReleaseSanitizedBox(const Box& box, cv::Size image_size);

// Intersection over union of two boxes; 0 when either is empty.
double BoxIou(const Box& a, const Box& b);

// A similarity transform from image pixels to crop pixels: the box centre
// goes to the crop centre, the box (rotated by `rotation_degrees`,
// counter-clockwise as OpenCV does) fills `crop_size`.
struct CropTransform {
  cv::Matx23d image_to_crop;
  cv::Matx23d crop_to_image;
};

absl::StatusOr<CropTransform> MakeCropTransform(const Box& box, double rotation_degrees,
                                                cv::Size crop_size);

cv::Point2d Apply(const cv::Matx23d& transform, cv::Point2d point);

// Transforms x and y of every keypoint; v is kept.
Pose TransformPose(const cv::Matx23d& transform, const Pose& pose);

// Mirrors a pose in a crop of width `crop_width` and swaps the left/right
// pairs given by `flip_permutation` (see FlipPermutation).
Pose FlipPose(const Pose& pose, double crop_width, const std::vector<int>& flip_permutation);

// Bilinear crop of `image` through `transform`; pixels outside are zero.
cv::Mat WarpCrop(const cv::Mat& image, const CropTransform& transform, cv::Size crop_size);

}  // namespace posefix

#endif  // POSEFIX_CORE_GEOMETRY_H_
