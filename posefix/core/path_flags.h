#ifndef POSEFIX_CORE_PATH_FLAGS_H_
#define POSEFIX_CORE_PATH_FLAGS_H_

#include <initializer_list>

namespace posefix {

// Rewrites each named string gflag that the user set on the command line
// with ResolveUserPath, so that under `bazel run` a relative path means the
// directory bazel was run from. Flags left at their defaults keep them (a
// default such as "testdata/..." names a runfiles path).
void ResolvePathFlags(std::initializer_list<const char*> flag_names);

}  // namespace posefix

#endif  // POSEFIX_CORE_PATH_FLAGS_H_
