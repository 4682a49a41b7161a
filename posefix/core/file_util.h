#ifndef POSEFIX_CORE_FILE_UTIL_H_
#define POSEFIX_CORE_FILE_UTIL_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace posefix {

// An InvalidArgument error that names the file and the field at fault, in
// the form "FILE: FIELD: MESSAGE" every tool of the project prints.
absl::Status FieldError(absl::string_view file, absl::string_view field, absl::string_view message);

// The whole content of a file, or NotFound/Unavailable/InvalidArgument (a
// folder) naming the file.
absl::StatusOr<std::string> ReadFileToString(const std::string& path);

// A file's whole content, read-only: mapped into memory where the file can
// be (no copy; the pages are the page cache's, so a large file costs no
// fresh memory), else read into a string (a pipe, an empty file). Errors as
// ReadFileToString's. A mapped file must not be truncated meanwhile (the
// project replaces files by renaming, which leaves a mapping intact).
class FileContents {
 public:
  static absl::StatusOr<FileContents> Read(const std::string& path);

  absl::string_view view() const {
    return mapping_ != nullptr ? absl::string_view(mapping_.get(), mapping_.get_deleter().size)
                               : absl::string_view(text_);
  }

 private:
  // No default member initializer: GCC deems a nested class with one not
  // default-constructible inside its enclosing class.
  struct Unmapper {
    size_t size;
    void operator()(const char* mapping) const;
  };
  FileContents() = default;

  std::unique_ptr<const char, Unmapper> mapping_;
  std::string text_;
};

// Writes to PATH.tmp.<pid>, syncs it and renames it over PATH (then syncs
// the folder), so a reader never sees a half-written file and a failed write
// leaves no file behind. A symbolic link is followed (the file it names is
// replaced); a special file (/dev/null, a FIFO, a device) is written to in
// place; a folder is an error.
absl::Status WriteFileAtomically(const std::string& path, absl::string_view contents);

// Removes, under `folder` and its subfolders, the temporaries that
// WriteFileAtomically leaves when its process is killed: NAME.tmp.PID whose
// process no longer runs (a live writer's are kept). Returns how many.
int RemoveStaleTemporaries(const std::string& folder);

// An exclusive advisory lock (flock) on a file, created if missing, held
// until the object is destroyed (or the process ends, however it ends).
class FileLock {
 public:
  // Waits for the lock with `wait`; otherwise a lock held elsewhere is a
  // FailedPrecondition error naming `path`.
  static absl::StatusOr<FileLock> Acquire(const std::string& path, bool wait);
  FileLock(FileLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  FileLock& operator=(FileLock&& other) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// Creates `path` and any missing parents (like mkdir -p); an existing
// folder is fine. Errors name the path.
absl::Status CreateDirectories(const std::string& path);

// `path` itself when it is absolute or `folder` is empty, else folder/path.
std::string JoinPath(const std::string& folder, const std::string& path);

// Whether something exists at `path`.
bool PathExists(const std::string& path);

}  // namespace posefix

#endif  // POSEFIX_CORE_FILE_UTIL_H_
