#include "posefix/experiments/source_revision.h"

#include <cstdlib>
#include <filesystem>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "posefix/core/file_util.h"
#include "posefix/core/test_util.h"

namespace posefix {
namespace {

// Runs a git command in `checkout` with a fixed identity and no user or
// system configuration.
void Git(const std::string& checkout, const std::string& arguments) {
  const std::string command = absl::StrCat(
      "GIT_CONFIG_NOSYSTEM=1 HOME=/nonexistent git -C \"", checkout,
      "\" -c user.name=test -c user.email=test@example.com ", arguments, " > /dev/null 2>&1");
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
}

// A checkout with one commit, in a folder whose name needs quoting.
std::string CommittedCheckout(const std::string& name) {
  const std::string checkout = JoinPath(std::getenv("TEST_TMPDIR"), name);
  std::filesystem::remove_all(checkout);
  std::filesystem::create_directories(checkout);
  EXPECT_TRUE(WriteFileAtomically(JoinPath(checkout, "a.txt"), "one\n").ok());
  Git(checkout, "init -q");
  Git(checkout, "add a.txt");
  Git(checkout, "commit -q -m first");
  return checkout;
}

std::string Head(const std::string& checkout) {
  const std::string head = JoinPath(checkout, "head.out");
  const std::string command =
      absl::StrCat("git -C \"", checkout, "\" rev-parse HEAD > \"", head, "\"");
  EXPECT_EQ(std::system(command.c_str()), 0);
  std::string text = OrFail(ReadFileToString(head));
  std::filesystem::remove(head);
  return text.substr(0, text.find('\n'));
}

TEST(SourceRevisionTest, NoCheckoutIsUnknown) {
  EXPECT_EQ(SourceRevision(""), "unknown");
  const std::string plain = JoinPath(std::getenv("TEST_TMPDIR"), "plain");
  std::filesystem::create_directories(plain);
  EXPECT_EQ(SourceRevision(plain), "unknown");
}

TEST(SourceRevisionTest, CleanCheckoutIsItsHead) {
  const std::string checkout = CommittedCheckout("it's clean");
  const std::string head = Head(checkout);
  ASSERT_EQ(head.size(), 40u);
  EXPECT_EQ(SourceRevision(checkout), head);
  // Untracked files do not make a checkout dirty.
  ASSERT_TRUE(WriteFileAtomically(JoinPath(checkout, "untracked.txt"), "x").ok());
  EXPECT_EQ(SourceRevision(checkout), head);
}

TEST(SourceRevisionTest, ChangedTrackedFileMarksItDirty) {
  const std::string checkout = CommittedCheckout("dirty");
  ASSERT_TRUE(WriteFileAtomically(JoinPath(checkout, "a.txt"), "two\n").ok());
  EXPECT_EQ(SourceRevision(checkout), Head(checkout) + "-dirty");
}

}  // namespace
}  // namespace posefix
