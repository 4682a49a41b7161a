// Fuzzes the experiment spec loader: base merging, clear_fields and
// validation. The input is a spec, then any number of base files, separated
// by lines "#---"; the bases are written as b1.pbtxt, b2.pbtxt, ... beside
// the spec, so "base" can name them (or the spec itself: a cycle). An error
// or a spec, never a crash.

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "posefix/core/file_util.h"
#include "posefix/experiments/experiment_spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string folder = [] {
    const std::filesystem::path path = std::filesystem::temp_directory_path() /
                                       absl::StrCat("posefix_spec_fuzzer.", getpid());
    std::filesystem::create_directories(path);
    return path.string();
  }();
  const std::string text(reinterpret_cast<const char*>(data), size);
  const std::vector<std::string> parts = absl::StrSplit(text, "\n#---\n");
  for (size_t i = 1; i < parts.size(); ++i) {
    if (!posefix::WriteFileAtomically(absl::StrCat(folder, "/b", i, ".pbtxt"), parts[i]).ok()) {
      return 0;
    }
  }
  const std::string spec_path = folder + "/spec.pbtxt";
  if (!posefix::WriteFileAtomically(spec_path, parts[0]).ok()) return 0;
  absl::StatusOr<posefix::ExperimentSpec> spec = posefix::ParseExperimentSpec(spec_path, parts[0]);
  if (spec.ok()) posefix::ValidateExperimentSpec(*spec, spec_path).IgnoreError();
  for (size_t i = 1; i < parts.size(); ++i) {
    std::filesystem::remove(absl::StrCat(folder, "/b", i, ".pbtxt"));
  }
  return 0;
}
