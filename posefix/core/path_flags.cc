#include "posefix/core/path_flags.h"

#include <cstdlib>
#include <string>

#include "gflags/gflags.h"
#include "posefix/core/file_util.h"

namespace posefix {

void ResolvePathFlags(std::initializer_list<const char*> flag_names) {
  for (const char* name : flag_names) {
    gflags::CommandLineFlagInfo info;
    // An unknown name is a programming error in the caller's list.
    if (!gflags::GetCommandLineFlagInfo(name, &info)) std::abort();
    if (info.is_default || info.current_value.empty()) continue;
    gflags::SetCommandLineOption(name, ResolveUserPath(info.current_value).c_str());
  }
}

}  // namespace posefix
