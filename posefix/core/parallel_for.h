#ifndef POSEFIX_CORE_PARALLEL_FOR_H_
#define POSEFIX_CORE_PARALLEL_FOR_H_

#include <algorithm>
#include <cstddef>
#include <thread>
#include <vector>

namespace posefix {

// Runs body(i) for i in [0, n) on up to num_threads threads, each taking a
// contiguous range of i; inline when one thread or fewer than two items.
template <typename Body>
void ParallelFor(int num_threads, size_t n, const Body& body) {
  if (num_threads <= 1 || n < 2) {
    for (size_t i = 0; i < n; ++i) body(i);
    return;
  }
  std::vector<std::thread> threads;
  const size_t chunk = (n + num_threads - 1) / num_threads;
  for (int t = 0; t < num_threads; ++t) {
    const size_t begin = t * chunk;
    const size_t end = std::min(n, begin + chunk);
    if (begin >= end) break;
    threads.emplace_back([&body, begin, end] {
      for (size_t i = begin; i < end; ++i) body(i);
    });
  }
  for (std::thread& thread : threads) thread.join();
}

}  // namespace posefix

#endif  // POSEFIX_CORE_PARALLEL_FOR_H_
