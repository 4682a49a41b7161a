// Prints which LibTorch the build linked and which device PoseFix will use:
// the quickest check that --config=cuda picked up a CUDA-enabled LibTorch.
//   bazel run //tools:torch_info
//   bazel run --config=cuda --repo_env=POSEFIX_LIBTORCH=$TORCH //tools:torch_info
#include <cstdio>

#include "torch/cuda.h"
#include "torch/version.h"

int main() {
#ifdef POSEFIX_TORCH_CUDA
  const char* build = "CUDA-enabled";
#else
  const char* build = "CPU-only";
#endif
  const bool cuda = torch::cuda::is_available();
  std::printf("libtorch %s (%s build)\n", TORCH_VERSION, build);
  std::printf("cuda available: %s, devices: %d\n", cuda ? "yes" : "no",
              static_cast<int>(torch::cuda::device_count()));
  std::printf("device used: %s\n", cuda ? "cuda:0" : "cpu");
  return 0;
}
