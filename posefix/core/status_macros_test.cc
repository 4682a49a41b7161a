#include "posefix/core/status_macros.h"

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace posefix {
namespace {

absl::StatusOr<int> Half(int value) {
  if (value % 2 != 0) return absl::InvalidArgumentError(absl::StrCat(value, " is odd"));
  return value / 2;
}

absl::Status CheckEven(int value) { return Half(value).status(); }

int calls = 0;
absl::Status Counted(absl::Status status) {
  ++calls;
  return status;
}

absl::Status BothEven(int a, int b) {
  RETURN_IF_ERROR(CheckEven(a));
  RETURN_IF_ERROR(CheckEven(b));
  return absl::OkStatus();
}

absl::StatusOr<int> Quarter(int value) {
  ASSIGN_OR_RETURN(const int half, Half(value));
  ASSIGN_OR_RETURN(int quarter, Half(half));  // two in one scope
  return quarter;
}

absl::StatusOr<std::unique_ptr<int>> Boxed(int value) {
  if (value < 0) return absl::OutOfRangeError("negative");
  return std::make_unique<int>(value);
}

absl::StatusOr<int> Unboxed(int value) {
  std::unique_ptr<int> box;
  ASSIGN_OR_RETURN(box, Boxed(value));  // into an lvalue, by move
  return *box;
}

TEST(StatusMacrosTest, ReturnIfErrorReturnsTheFirstError) {
  EXPECT_TRUE(BothEven(2, 4).ok());
  EXPECT_EQ(BothEven(3, 5).message(), "3 is odd");
  EXPECT_EQ(BothEven(2, 5).message(), "5 is odd");
}

TEST(StatusMacrosTest, ReturnIfErrorEvaluatesOnce) {
  calls = 0;
  auto run = []() -> absl::Status {
    RETURN_IF_ERROR(Counted(absl::OkStatus()));
    RETURN_IF_ERROR(Counted(absl::NotFoundError("x")));
    RETURN_IF_ERROR(Counted(absl::OkStatus()));
    return absl::OkStatus();
  };
  EXPECT_EQ(run().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(calls, 2);
}

TEST(StatusMacrosTest, AssignOrReturnAssignsOrReturns) {
  EXPECT_EQ(Quarter(12).value(), 3);
  EXPECT_EQ(Quarter(7).status().message(), "7 is odd");
  EXPECT_EQ(Quarter(6).status().message(), "3 is odd");
  EXPECT_EQ(Unboxed(5).value(), 5);
  EXPECT_EQ(Unboxed(-1).status().code(), absl::StatusCode::kOutOfRange);
}

}  // namespace
}  // namespace posefix
