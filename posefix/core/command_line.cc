#include "posefix/core/command_line.h"

#include <malloc.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "gflags/gflags.h"
#include "posefix/core/file_util.h"

namespace posefix {

std::string UserWorkingDirectory() {
  const char* working_directory = std::getenv("BUILD_WORKING_DIRECTORY");
  return working_directory == nullptr ? "" : working_directory;
}

std::string ResolveUserPath(const std::string& path) {
  return JoinPath(UserWorkingDirectory(), path);
}

void ResolvePathFlags(std::initializer_list<const char*> flag_names) {
  for (const char* name : flag_names) {
    gflags::CommandLineFlagInfo info;
    // An unknown name is a programming error in the caller's list.
    if (!gflags::GetCommandLineFlagInfo(name, &info)) std::abort();
    if (info.is_default || info.current_value.empty()) continue;
    gflags::SetCommandLineOption(name, ResolveUserPath(info.current_value).c_str());
  }
}

int RunCommandLine(int argc, char** argv, const char* usage, absl::Status (*run)()) {
  gflags::SetUsageMessage(usage);
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  const absl::Status status = run();
  if (status.ok()) return 0;
  std::fprintf(stderr, "%s\n", std::string(status.message()).c_str());
  return 1;
}

void KeepLargeAllocationsInTheHeap() {
  constexpr int kOneGiB = 1 << 30;
  mallopt(M_MMAP_THRESHOLD, kOneGiB);
  mallopt(M_TRIM_THRESHOLD, kOneGiB);
}

}  // namespace posefix
