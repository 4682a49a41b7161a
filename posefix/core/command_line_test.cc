#include "posefix/core/command_line.h"

#include <cstdlib>

#include "gflags/gflags.h"
#include "gtest/gtest.h"

DEFINE_string(given_path, "", "a path the test sets");
DEFINE_string(default_path, "testdata/x.json", "a path left at its default");

namespace posefix {
namespace {

TEST(CommandLineTest, ResolveUserPathUsesBazelRunsWorkingDirectory) {
  unsetenv("BUILD_WORKING_DIRECTORY");
  EXPECT_EQ(UserWorkingDirectory(), "");
  EXPECT_EQ(ResolveUserPath("data/gt.json"), "data/gt.json");
  setenv("BUILD_WORKING_DIRECTORY", "/home/me/project", 1);
  EXPECT_EQ(ResolveUserPath("data/gt.json"), "/home/me/project/data/gt.json");
  EXPECT_EQ(ResolveUserPath("/abs/gt.json"), "/abs/gt.json");
  EXPECT_EQ(ResolveUserPath(""), "");
  unsetenv("BUILD_WORKING_DIRECTORY");
}

TEST(CommandLineTest, ResolvesOnlyWhatTheUserSet) {
  setenv("BUILD_WORKING_DIRECTORY", "/home/me/repo", 1);
  gflags::SetCommandLineOption("given_path", "data/gt.json");
  ResolvePathFlags({"given_path", "default_path"});
  EXPECT_EQ(FLAGS_given_path, "/home/me/repo/data/gt.json");
  EXPECT_EQ(FLAGS_default_path, "testdata/x.json");
  unsetenv("BUILD_WORKING_DIRECTORY");
}

TEST(CommandLineTest, ExitCodeFollowsTheStatus) {
  char name[] = "tool";
  char* argv[] = {name, nullptr};
  EXPECT_EQ(RunCommandLine(1, argv, "usage", [] { return absl::OkStatus(); }), 0);
  testing::internal::CaptureStderr();
  EXPECT_EQ(RunCommandLine(1, argv, "usage",
                           [] { return absl::InvalidArgumentError("gt.json: images: missing"); }),
            1);
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "gt.json: images: missing\n");
}

}  // namespace
}  // namespace posefix
