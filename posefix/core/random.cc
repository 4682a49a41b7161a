#include "posefix/core/random.h"

#include <cmath>

namespace posefix {

uint64_t MixBits(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t MixSeed(std::initializer_list<uint64_t> key) {
  uint64_t state = 0x5eed5eed5eed5eedULL;
  for (uint64_t part : key) state = MixBits(state ^ MixBits(part));
  return state;
}

DeterministicRandom DeterministicRandom::ForKey(std::initializer_list<uint64_t> key) {
  return DeterministicRandom(MixSeed(key));
}

uint64_t DeterministicRandom::UniformInt(uint64_t n) {
  // Reject the top partial block of 2^64 so every residue is equally likely.
  const uint64_t limit = ~uint64_t{0} - (~uint64_t{0} % n + 1) % n;
  uint64_t x;
  do {
    x = Next();
  } while (x > limit);
  return x % n;
}

void DeterministicRandom::UnitVector(double* dx, double* dy) {
  double x, y, norm2;
  do {
    x = 2 * Uniform01() - 1;
    y = 2 * Uniform01() - 1;
    norm2 = x * x + y * y;
  } while (norm2 > 1 || norm2 < 1e-12);
  const double norm = std::sqrt(norm2);
  *dx = x / norm;
  *dy = y / norm;
}

double DeterministicRandom::Normal() {
  double x, y, norm2;
  do {
    x = 2 * Uniform01() - 1;
    y = 2 * Uniform01() - 1;
    norm2 = x * x + y * y;
  } while (norm2 >= 1 || norm2 == 0);
  return x * std::sqrt(-2 * std::log(norm2) / norm2);
}

}  // namespace posefix
