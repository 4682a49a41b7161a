#include "posefix/core/image_io.h"

#include <cstdlib>
#include <string>

#include "gtest/gtest.h"
#include "opencv2/imgcodecs.hpp"
#include "posefix/core/file_util.h"
#include "posefix/core/test_util.h"

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
  EXPECT_TRUE(ReadImage("testdata/other").empty());
}

TEST(ImageIoTest, ATruncatedJpegIsNotAnImage) {
  const std::string whole = OrFail(ReadFileToString("testdata/coco/val2017/000000000785.jpg"));
  EXPECT_FALSE(IsTruncatedJpeg(whole));
  EXPECT_FALSE(IsTruncatedJpeg(whole + std::string(16, '\0')));
  EXPECT_FALSE(IsTruncatedJpeg("not a jpeg"));
  const std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/truncated.jpg";
  ASSERT_TRUE(WriteFileAtomically(path, whole.substr(0, whole.size() / 2)).ok());
  EXPECT_TRUE(IsTruncatedJpeg(OrFail(ReadFileToString(path))));
  // OpenCV decodes what is there, with only libjpeg's warning.
  EXPECT_FALSE(cv::imread(path, cv::IMREAD_COLOR).empty());
  EXPECT_TRUE(ReadImage(path).empty());
}

}  // namespace
}  // namespace posefix
