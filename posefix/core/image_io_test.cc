#include "posefix/core/image_io.h"

#include "gtest/gtest.h"
#include "opencv2/imgcodecs.hpp"

namespace posefix {
namespace {

constexpr char kRotated[] = "testdata/other/exif_orientation6.jpg";

TEST(ImageIoTest, IgnoresTheExifOrientation) {
  // Stored 16 wide and 8 high, dark left half; its EXIF tag asks for a
  // quarter turn, which plain cv::imread applies.
  ASSERT_EQ(cv::imread(kRotated, cv::IMREAD_COLOR).size(), cv::Size(8, 16));
  const cv::Mat image = ReadImage(kRotated);
  ASSERT_EQ(image.size(), cv::Size(16, 8));
  EXPECT_EQ(image.type(), CV_8UC3);
  EXPECT_LT(image.at<cv::Vec3b>(4, 2)[0], 60);
  EXPECT_GT(image.at<cv::Vec3b>(4, 13)[0], 200);
}

TEST(ImageIoTest, MissingOrNotAnImageIsEmpty) {
  EXPECT_TRUE(ReadImage("testdata/other/no_such_image.jpg").empty());
  EXPECT_TRUE(ReadImage("testdata/other/LICENSE").empty());
}

}  // namespace
}  // namespace posefix
