#include "posefix/experiments/source_revision.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"

namespace posefix {
namespace {

// `text` as one shell word, whatever it holds (a quote included).
std::string ShellQuoted(const std::string& text) {
  return absl::StrCat("'", absl::StrReplaceAll(text, {{"'", "'\\''"}}), "'");
}

}  // namespace

std::string SourceRevision(const std::string& checkout) {
  if (checkout.empty()) return "unknown";
  auto run = [](const std::string& command) -> std::string {
    std::FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) return "";
    std::string output;
    char buffer[256];
    while (std::fgets(buffer, sizeof(buffer), pipe) != nullptr) output += buffer;
    if (pclose(pipe) != 0) return "";
    return output;
  };
  const std::string quoted = ShellQuoted(checkout);
  std::string head = run(absl::StrCat("git -C ", quoted, " rev-parse HEAD 2>/dev/null"));
  head = std::string(absl::StripSuffix(head, "\n"));
  if (head.size() != 40) return "unknown";
  const std::string changes =
      run(absl::StrCat("git -C ", quoted, " status --porcelain --untracked-files=no 2>/dev/null"));
  return changes.empty() ? head : absl::StrCat(head, "-dirty");
}

}  // namespace posefix
