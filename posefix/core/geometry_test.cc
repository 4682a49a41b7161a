#include "posefix/core/geometry.h"

#include <cmath>

#include "gtest/gtest.h"
#include "posefix/core/keypoint_schema.h"

namespace posefix {
namespace {

TEST(GeometryTest, BoxFromKeypointsWidensEachExtent) {
  const Pose pose = {{10, 20, 1}, {30, 60, 1}, {20, 40, 0.5}};
  const Box box = BoxFromKeypoints(pose);
  EXPECT_DOUBLE_EQ(box.center_x(), 20);
  EXPECT_DOUBLE_EQ(box.center_y(), 40);
  EXPECT_DOUBLE_EQ(box.width, 24);
  EXPECT_DOUBLE_EQ(box.height, 48);
}

TEST(GeometryTest, DegenerateExtentGetsTheMinimum) {
  const Box box = BoxFromKeypoints({{5, 7, 1}, {5, 7, 1}});
  EXPECT_DOUBLE_EQ(box.width, 20);
  EXPECT_DOUBLE_EQ(box.height, 20);
  EXPECT_DOUBLE_EQ(box.center_x(), 5);
  EXPECT_DOUBLE_EQ(box.center_y(), 7);
}

TEST(GeometryTest, AspectRatioGrowsTheShortSide) {
  const Box wide = FixAspectRatio({0, 0, 90, 40}, 0.75);
  EXPECT_DOUBLE_EQ(wide.width, 90);
  EXPECT_DOUBLE_EQ(wide.height, 120);
  EXPECT_DOUBLE_EQ(wide.center_y(), 20);
  const Box tall = FixAspectRatio({0, 0, 30, 120}, 0.75);
  EXPECT_DOUBLE_EQ(tall.width, 90);
  EXPECT_DOUBLE_EQ(tall.height, 120);
  EXPECT_DOUBLE_EQ(tall.center_x(), 15);
}

TEST(GeometryTest, ScaleKeepsTheCentre) {
  const Box box = ScaleBox({10, 10, 40, 80}, 1.25);
  EXPECT_DOUBLE_EQ(box.width, 50);
  EXPECT_DOUBLE_EQ(box.height, 100);
  EXPECT_DOUBLE_EQ(box.center_x(), 30);
  EXPECT_DOUBLE_EQ(box.center_y(), 50);
}

TEST(GeometryTest, BoxIou) {
  EXPECT_DOUBLE_EQ(BoxIou({0, 0, 2, 2}, {1, 1, 2, 2}), 1.0 / 7.0);
  EXPECT_DOUBLE_EQ(BoxIou({0, 0, 2, 2}, {0, 0, 2, 2}), 1.0);
  EXPECT_DOUBLE_EQ(BoxIou({0, 0, 2, 2}, {5, 5, 1, 1}), 0.0);
  EXPECT_DOUBLE_EQ(BoxIou({0, 0, 0, 0}, {0, 0, 0, 0}), 0.0);
}

TEST(GeometryTest, CropTransformMapsBoxOntoCrop) {
  const Box box{100, 50, 96, 128};
  absl::StatusOr<CropTransform> transform = MakeCropTransform(box, 0, cv::Size(192, 256));
  ASSERT_TRUE(transform.ok()) << transform.status();
  const cv::Point2d top_left = Apply(transform->image_to_crop, {100, 50});
  const cv::Point2d bottom_right = Apply(transform->image_to_crop, {196, 178});
  EXPECT_NEAR(top_left.x, 0, 1e-9);
  EXPECT_NEAR(top_left.y, 0, 1e-9);
  EXPECT_NEAR(bottom_right.x, 192, 1e-9);
  EXPECT_NEAR(bottom_right.y, 256, 1e-9);
}

TEST(GeometryTest, RotationTurnsAboutTheCentreAndInverts) {
  const Box box{0, 0, 100, 100};
  absl::StatusOr<CropTransform> transform = MakeCropTransform(box, 90, cv::Size(100, 100));
  ASSERT_TRUE(transform.ok());
  // Counter-clockwise by 90 degrees in image axes (y down): right of the
  // centre goes to above it.
  const cv::Point2d moved = Apply(transform->image_to_crop, {80, 50});
  EXPECT_NEAR(moved.x, 50, 1e-9);
  EXPECT_NEAR(moved.y, 20, 1e-9);
  const Pose pose = {{13.5, 77.25, 2}, {91, 4, 1}};
  const Pose back = TransformPose(transform->crop_to_image,
                                  TransformPose(transform->image_to_crop, pose));
  for (size_t j = 0; j < pose.size(); ++j) {
    EXPECT_NEAR(back[j].x, pose[j].x, 1e-9);
    EXPECT_NEAR(back[j].y, pose[j].y, 1e-9);
    EXPECT_EQ(back[j].v, pose[j].v);
  }
}

TEST(GeometryTest, InvalidBoxIsAnError) {
  EXPECT_FALSE(MakeCropTransform({0, 0, 0, 10}, 0, cv::Size(10, 10)).ok());
  EXPECT_FALSE(MakeCropTransform({0, 0, NAN, 10}, 0, cv::Size(10, 10)).ok());
  EXPECT_FALSE(MakeCropTransform({0, 0, 10, 10}, 0, cv::Size(0, 10)).ok());
}

TEST(GeometryTest, WarpCropSamplesThroughTheTransform) {
  cv::Mat image(40, 60, CV_8UC3, cv::Scalar(0, 0, 0));
  image.at<cv::Vec3b>(20, 30) = cv::Vec3b(255, 128, 7);
  const Box box{20, 10, 20, 20};
  absl::StatusOr<CropTransform> transform = MakeCropTransform(box, 0, cv::Size(20, 20));
  ASSERT_TRUE(transform.ok());
  const cv::Mat crop = WarpCrop(image, *transform, cv::Size(20, 20));
  ASSERT_EQ(crop.size(), cv::Size(20, 20));
  EXPECT_EQ(crop.at<cv::Vec3b>(10, 10), cv::Vec3b(255, 128, 7));
  EXPECT_EQ(crop.at<cv::Vec3b>(0, 0), cv::Vec3b(0, 0, 0));
}

TEST(GeometryTest, FlipMirrorsAndSwapsPairs) {
  Pose pose(17);
  pose[1] = {10, 5, 2};  // left eye
  pose[2] = {20, 6, 1};  // right eye
  pose[0] = {15, 9, 2};
  const Pose flipped = FlipPose(pose, 192, FlipPermutation(CocoSchema()));
  EXPECT_EQ(flipped[0], (Keypoint{176, 9, 2}));
  EXPECT_EQ(flipped[1], (Keypoint{171, 6, 1}));
  EXPECT_EQ(flipped[2], (Keypoint{181, 5, 2}));
  EXPECT_EQ(FlipPose(flipped, 192, FlipPermutation(CocoSchema())), pose);
}

TEST(GeometryTest, ReleaseSanitizedBoxClipsAndDropsOnePixel) {
  const cv::Size image(640, 480);
  EXPECT_EQ(ReleaseSanitizedBox({10, 20, 100, 50}, image), (Box{10, 20, 99, 49}));
  // Clipped at both ends: x from 0, the far corner at the last pixel.
  EXPECT_EQ(ReleaseSanitizedBox({-5, 400, 700, 100}, image), (Box{0, 400, 639, 79}));
  EXPECT_EQ(ReleaseSanitizedBox({10, 20, 0.5, 50}, image).width, 0);
  EXPECT_EQ(ReleaseSanitizedBox({700, 20, 10, 10}, image).width, 0);
}

}  // namespace
}  // namespace posefix
