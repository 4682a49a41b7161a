#ifndef POSEFIX_MODEL_COMPUTE_THREADS_H_
#define POSEFIX_MODEL_COMPUTE_THREADS_H_

// The one place that sets LibTorch's intra-op thread count (torch-free
// header). The count is process-wide, so only programs call this (tools'
// Run(), run_main through RunnerOptions.set_compute_threads); library code
// (the trainer, the refiner, the runner) never sets it.

namespace posefix {

// threads > 0: LibTorch's intra-op threads from now on. threads <= 0 leaves
// the count as it is (Debian's LibTorch starts with 1 on these machines).
void SetComputeThreads(int threads);

}  // namespace posefix

#endif  // POSEFIX_MODEL_COMPUTE_THREADS_H_
