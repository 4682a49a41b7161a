#ifndef POSEFIX_CORE_COMMAND_LINE_H_
#define POSEFIX_CORE_COMMAND_LINE_H_

#include <initializer_list>
#include <string>

#include "absl/status/status.h"

namespace posefix {

// Command-line support for tools' main() (it reads the process environment).

// The directory relative command-line paths are taken from: the one bazel
// was run from under `bazel run` (BUILD_WORKING_DIRECTORY), else "" (the
// working directory). `bazel run` starts tools in their runfiles tree.
std::string UserWorkingDirectory();

// A path given on a command line, relative to UserWorkingDirectory().
std::string ResolveUserPath(const std::string& path);

// Rewrites each named string gflag that the user set on the command line
// with ResolveUserPath, so that under `bazel run` a relative path means the
// directory bazel was run from. Flags left at their defaults keep them (a
// default such as "testdata/..." names a runfiles path).
void ResolvePathFlags(std::initializer_list<const char*> flag_names);

// The body of every tool's main(): parses the gflags, runs `run`, and on
// failure prints the status message (which names the file and field) to
// stderr. Returns the process exit code: 0, or 1 on failure.
int RunCommandLine(int argc, char** argv, const char* usage, absl::Status (*run)());

// For the main() of programs that allocate tensors of tens of megabytes per
// batch (training, refinement, their benchmarks): glibc serves allocations
// above 32 MiB with fresh mmaps, so every batch page-faults its tensors
// in again and unmaps them (measured: 60% of the loader-and-encode time in
// the kernel). Keeps allocations up to 1 GiB in the heap and freed memory
// there, to be reused by the next batch. A process-wide setting: never
// called from library code.
void KeepLargeAllocationsInTheHeap();

}  // namespace posefix

#endif  // POSEFIX_CORE_COMMAND_LINE_H_
