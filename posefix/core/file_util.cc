#include "posefix/core/file_util.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "posefix/core/status_macros.h"

namespace posefix {

absl::Status FieldError(absl::string_view file, absl::string_view field,
                        absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(file, ": ", field, ": ", message));
}

absl::StatusOr<std::string> ReadFileToString(const std::string& path) {
  std::error_code ignored;
  if (std::filesystem::is_directory(path, ignored)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": is a folder, not a file"));
  }
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    const int error = errno;
    std::string message = absl::StrCat(path, ": cannot open: ", std::strerror(error));
    return error == ENOENT ? absl::NotFoundError(message) : absl::UnavailableError(message);
  }
  std::string contents;
  // One allocation for a regular file, with room past the end for parsers
  // that read ahead in blocks (simdjson needs 64 bytes of padding).
  std::error_code size_error;
  const std::uintmax_t size = std::filesystem::file_size(path, size_error);
  if (!size_error) {
    contents.reserve(size + 64);
    // Read straight into the string: no second copy of a large file.
    contents.resize(size);
    contents.resize(std::fread(contents.data(), 1, size, file));
  }
  // The rest of a file that grew meanwhile, or of one without a size (a pipe).
  char buffer[1 << 16];
  size_t read = 0;
  while ((read = std::fread(buffer, 1, sizeof(buffer), file)) > 0) {
    contents.append(buffer, read);
  }
  const int error = std::ferror(file) != 0 ? errno : 0;
  std::fclose(file);
  if (error != 0) {
    return absl::UnavailableError(absl::StrCat(path, ": read error: ", std::strerror(error)));
  }
  return contents;
}

absl::StatusOr<FileContents> FileContents::Read(const std::string& path) {
  FileContents contents;
  // Only a regular file is opened here: opening a pipe would consume its
  // writer. The size is the opened file's (it may have been replaced since).
  struct stat info;
  if (::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode)) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0 && ::fstat(fd, &info) == 0 && S_ISREG(info.st_mode) && info.st_size > 0) {
      // MAP_POPULATE maps every page now, in one call, instead of a fault
      // per page as the parser reaches it.
      void* mapping = ::mmap(nullptr, static_cast<size_t>(info.st_size), PROT_READ,
                             MAP_PRIVATE | MAP_POPULATE, fd, 0);
      if (mapping != MAP_FAILED) {
        contents.mapping_ = {static_cast<const char*>(mapping),
                             Unmapper{static_cast<size_t>(info.st_size)}};
      }
    }
    if (fd >= 0) ::close(fd);
    if (contents.mapping_ != nullptr) return contents;
  }
  ASSIGN_OR_RETURN(contents.text_, ReadFileToString(path));
  return contents;
}

void FileContents::Unmapper::operator()(const char* mapping) const {
  ::munmap(const_cast<char*>(mapping), size);
}

namespace {

absl::Status WriteAll(int fd, absl::string_view contents, const std::string& path) {
  while (!contents.empty()) {
    const ssize_t written = ::write(fd, contents.data(), contents.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return absl::UnavailableError(absl::StrCat(path, ": write failed: ", std::strerror(errno)));
    }
    contents.remove_prefix(static_cast<size_t>(written));
  }
  return absl::OkStatus();
}

// So that a rename into `folder` survives a crash.
void SyncFolder(const std::filesystem::path& folder) {
  const int fd = ::open(folder.empty() ? "." : folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

absl::Status WriteFileAtomically(const std::string& path, absl::string_view contents) {
  namespace fs = std::filesystem;
  std::error_code error;
  // A symbolic link is written through: the file it names is replaced.
  fs::path target = path;
  if (fs::is_symlink(fs::symlink_status(target, error))) {
    target = fs::weakly_canonical(target, error);
    if (error) {
      return absl::UnavailableError(
          absl::StrCat(path, ": cannot follow the symbolic link: ", error.message()));
    }
  }
  const fs::file_status status = fs::status(target, error);
  if (fs::is_directory(status)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": is a folder, not a file"));
  }
  if (fs::exists(status) && !fs::is_regular_file(status)) {
    // /dev/null, a FIFO, a terminal: written in place, never replaced.
    const int fd = ::open(target.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
      return absl::UnavailableError(absl::StrCat(path, ": cannot write: ", std::strerror(errno)));
    }
    absl::Status written = WriteAll(fd, contents, path);
    ::close(fd);
    return written;
  }

  const std::string temporary = absl::StrCat(target.string(), ".tmp.", getpid());
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) {
    return absl::UnavailableError(absl::StrCat(path, ": cannot write: ", std::strerror(errno)));
  }
  absl::Status written = WriteAll(fd, contents, path);
  if (written.ok() && ::fsync(fd) != 0) {
    written = absl::UnavailableError(absl::StrCat(path, ": fsync failed: ", std::strerror(errno)));
  }
  if (::close(fd) != 0 && written.ok()) {
    written = absl::UnavailableError(absl::StrCat(path, ": write failed (disk full?)"));
  }
  if (!written.ok()) {
    std::remove(temporary.c_str());
    return written;
  }
  if (std::rename(temporary.c_str(), target.c_str()) != 0) {
    const int rename_error = errno;
    std::remove(temporary.c_str());
    return absl::UnavailableError(
        absl::StrCat(path, ": cannot rename into place: ", std::strerror(rename_error)));
  }
  SyncFolder(target.parent_path());
  return absl::OkStatus();
}

int RemoveStaleTemporaries(const std::string& folder) {
  namespace fs = std::filesystem;
  std::error_code error;
  std::vector<fs::path> stale;
  for (fs::recursive_directory_iterator
           it(folder, fs::directory_options::skip_permission_denied, error),
       end;
       !error && it != end; it.increment(error)) {
    if (!it->is_regular_file(error)) continue;
    const std::string name = it->path().filename().string();
    const size_t mark = name.rfind(".tmp.");
    if (mark == std::string::npos) continue;
    int64_t pid = 0;
    if (!absl::SimpleAtoi(absl::string_view(name).substr(mark + 5), &pid) || pid <= 0) continue;
    const bool running = ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
    if (!running) stale.push_back(it->path());
  }
  int removed = 0;
  for (const fs::path& path : stale) removed += fs::remove(path, error) ? 1 : 0;
  return removed;
}

absl::StatusOr<FileLock> FileLock::Acquire(const std::string& path, bool wait) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0) {
    return absl::UnavailableError(absl::StrCat(path, ": cannot open: ", std::strerror(errno)));
  }
  int locked;
  do {
    locked = ::flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB));
  } while (locked != 0 && errno == EINTR);
  if (locked != 0) {
    const int error = errno;
    ::close(fd);
    if (error == EWOULDBLOCK) {
      return absl::FailedPreconditionError(absl::StrCat(path, ": locked by another process"));
    }
    return absl::UnavailableError(absl::StrCat(path, ": cannot lock: ", std::strerror(error)));
  }
  return FileLock(fd);
}

FileLock& FileLock::operator=(FileLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the lock
}

absl::Status CreateDirectories(const std::string& path) {
  std::error_code error;
  std::filesystem::create_directories(path, error);
  if (error) {
    return absl::UnavailableError(
        absl::StrCat(path, ": cannot create the folder: ", error.message()));
  }
  return absl::OkStatus();
}

std::string JoinPath(const std::string& folder, const std::string& path) {
  if (path.empty() || path[0] == '/' || folder.empty()) return path;
  return absl::StrCat(folder, "/", path);
}

bool PathExists(const std::string& path) {
  struct stat info;
  return stat(path.c_str(), &info) == 0;
}

}  // namespace posefix
