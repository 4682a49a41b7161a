#include "posefix/core/random.h"

#include <cmath>

namespace posefix {

double DeterministicRandom::Normal() {
  // 1 - Uniform() lies in (0, 1], so the logarithm is finite.
  const double radius = std::sqrt(-2.0 * std::log(1.0 - Uniform()));
  return radius * std::cos(2.0 * M_PI * Uniform());
}

uint64_t MixSeed(std::initializer_list<uint64_t> parts) {
  uint64_t state = 0x9E3779B97F4A7C15ull;
  for (uint64_t part : parts) {
    uint64_t z = (state ^ part) + 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    state = z ^ (z >> 31);
  }
  return state;
}

}  // namespace posefix
