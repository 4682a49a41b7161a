#include "posefix/core/file_util.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "posefix/core/test_util.h"

namespace posefix {
namespace {

std::string TempPath(const std::string& name) {
  return std::string(std::getenv("TEST_TMPDIR")) + "/" + name;
}

TEST(FileUtilTest, WriteThenReadRoundTrips) {
  const std::string path = TempPath("round_trip.txt");
  ASSERT_TRUE(WriteFileAtomically(path, "hello\nworld").ok());
  absl::StatusOr<std::string> read = ReadFileToString(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, "hello\nworld");
}

TEST(FileUtilTest, OverwriteReplacesWholeFile) {
  const std::string path = TempPath("overwrite.txt");
  ASSERT_TRUE(WriteFileAtomically(path, "a long first version").ok());
  ASSERT_TRUE(WriteFileAtomically(path, "short").ok());
  EXPECT_EQ(OrFail(ReadFileToString(path)), "short");
}

TEST(FileUtilTest, MissingFileIsNotFoundAndNamesThePath) {
  absl::StatusOr<std::string> read = ReadFileToString(TempPath("does_not_exist.json"));
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(read.status().message().find("does_not_exist.json"), std::string::npos);
}

TEST(FileUtilTest, FailedWriteLeavesNothingBehind) {
  const std::string directory = TempPath("no_such_dir");
  absl::Status status = WriteFileAtomically(directory + "/out.json", "{}");
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("out.json"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(directory));
}

TEST(FileUtilTest, SymbolicLinksAreWrittenThrough) {
  const std::string target = TempPath("link_target.json");
  const std::string link = TempPath("link.json");
  ASSERT_TRUE(WriteFileAtomically(target, "old").ok());
  std::filesystem::remove(link);
  std::filesystem::create_symlink(target, link);
  ASSERT_TRUE(WriteFileAtomically(link, "new").ok());
  EXPECT_TRUE(std::filesystem::is_symlink(link));
  EXPECT_EQ(OrFail(ReadFileToString(target)), "new");
  EXPECT_FALSE(std::filesystem::exists(target + ".tmp." + std::to_string(getpid())));
}

TEST(FileUtilTest, SpecialFilesAreWrittenInPlaceNotReplaced) {
  // As root, replacing /dev/null would break the whole machine.
  ASSERT_TRUE(WriteFileAtomically("/dev/null", "discarded").ok());
  EXPECT_TRUE(std::filesystem::is_character_file("/dev/null"));

  const std::string fifo = TempPath("results.fifo");
  std::filesystem::remove(fifo);
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  absl::StatusOr<std::string> received;
  std::thread reader([&] { received = ReadFileToString(fifo); });
  ASSERT_TRUE(WriteFileAtomically(fifo, "through the pipe").ok());
  reader.join();
  ASSERT_TRUE(received.ok()) << received.status();
  EXPECT_EQ(*received, "through the pipe");
  EXPECT_TRUE(std::filesystem::is_fifo(fifo));
}

TEST(FileUtilTest, AFolderIsNotAFile) {
  const std::string folder = TempPath("a_folder");
  std::filesystem::create_directories(folder);
  absl::Status written = WriteFileAtomically(folder, "x");
  EXPECT_EQ(written.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(written.message().find("a_folder: is a folder, not a file"), std::string::npos)
      << written;
  absl::StatusOr<std::string> read = ReadFileToString(folder);
  EXPECT_EQ(read.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(read.status().message().find("a_folder: is a folder, not a file"), std::string::npos)
      << read.status();
}

// FileContents maps regular files and reads the rest, with ReadFileToString's
// content and errors either way.
TEST(FileUtilTest, FileContentsAreTheFilesWhateverItIs) {
  const std::string path = TempPath("contents.json");
  std::string text(100000, 'x');
  text.back() = '\n';
  ASSERT_TRUE(WriteFileAtomically(path, text).ok());
  absl::StatusOr<FileContents> mapped = FileContents::Read(path);
  ASSERT_TRUE(mapped.ok()) << mapped.status();
  EXPECT_EQ(mapped->view(), text);
  FileContents moved = *std::move(mapped);
  EXPECT_EQ(moved.view(), text);

  const std::string empty = TempPath("empty.json");
  ASSERT_TRUE(WriteFileAtomically(empty, "").ok());
  absl::StatusOr<FileContents> nothing = FileContents::Read(empty);
  ASSERT_TRUE(nothing.ok()) << nothing.status();
  EXPECT_TRUE(nothing->view().empty());

  const std::string fifo = TempPath("contents.fifo");
  std::filesystem::remove(fifo);
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  absl::StatusOr<FileContents> piped = absl::UnknownError("not read");
  std::thread reader([&] { piped = FileContents::Read(fifo); });
  ASSERT_TRUE(WriteFileAtomically(fifo, "through the pipe").ok());
  reader.join();
  ASSERT_TRUE(piped.ok()) << piped.status();
  EXPECT_EQ(piped->view(), "through the pipe");

  for (const std::string& bad : {TempPath("does_not_exist.json"), TempPath("")}) {
    absl::StatusOr<FileContents> failed = FileContents::Read(bad);
    ASSERT_FALSE(failed.ok());
    EXPECT_EQ(failed.status(), ReadFileToString(bad).status());
  }
}

TEST(FileUtilTest, StaleTemporariesAreRemovedLiveOnesKept) {
  const std::string folder = TempPath("run");
  std::filesystem::create_directories(folder + "/checkpoints");
  // 4194305 is above Linux's largest pid_max: never a running process.
  const std::string stale = folder + "/checkpoints/epoch_0003.pt.tmp.4194305";
  const std::string live = folder + "/metrics.pb.tmp." + std::to_string(getpid());
  const std::string kept = folder + "/notes.tmp.txt";
  for (const std::string& path : {stale, live, kept})
    ASSERT_TRUE(WriteFileAtomically(path, "x").ok());
  EXPECT_EQ(RemoveStaleTemporaries(folder), 1);
  EXPECT_FALSE(std::filesystem::exists(stale));
  EXPECT_TRUE(std::filesystem::exists(live));
  EXPECT_TRUE(std::filesystem::exists(kept));
  EXPECT_EQ(RemoveStaleTemporaries(TempPath("no_such_folder")), 0);
}

TEST(FileUtilTest, AFileLockIsExclusiveUntilReleased) {
  const std::string path = TempPath("run.lock");
  {
    absl::StatusOr<FileLock> held = FileLock::Acquire(path, /*wait=*/false);
    ASSERT_TRUE(held.ok()) << held.status();
    absl::StatusOr<FileLock> second = FileLock::Acquire(path, /*wait=*/false);
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_NE(second.status().message().find("run.lock: locked by another process"),
              std::string::npos);
    FileLock moved = *std::move(held);  // still held
    EXPECT_FALSE(FileLock::Acquire(path, /*wait=*/false).ok());
  }
  EXPECT_TRUE(FileLock::Acquire(path, /*wait=*/false).ok());
}

TEST(FileUtilTest, CreateDirectoriesMakesParentsAndAcceptsExisting) {
  const std::string nested = TempPath("a/b/c");
  ASSERT_TRUE(CreateDirectories(nested).ok());
  EXPECT_TRUE(std::filesystem::is_directory(nested));
  EXPECT_TRUE(CreateDirectories(nested).ok());
  const std::string file = TempPath("plain_file");
  ASSERT_TRUE(WriteFileAtomically(file, "x").ok());
  absl::Status status = CreateDirectories(file + "/sub");
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("plain_file/sub"), std::string::npos);
}

TEST(FileUtilTest, FieldErrorNamesFileAndField) {
  absl::Status status = FieldError("a.json", "annotations[2].bbox", "negative size");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "a.json: annotations[2].bbox: negative size");
}

}  // namespace
}  // namespace posefix
