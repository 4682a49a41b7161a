#include "posefix/model/compute_threads.h"

#include <ATen/Parallel.h>

namespace posefix {

void SetComputeThreads(int threads) {
  if (threads > 0) at::set_num_threads(threads);
}

}  // namespace posefix
