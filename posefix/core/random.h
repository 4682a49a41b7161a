#ifndef POSEFIX_CORE_RANDOM_H_
#define POSEFIX_CORE_RANDOM_H_

#include <cstdint>
#include <initializer_list>
#include <random>

namespace posefix {

// A random stream that yields the same numbers on every machine and standard
// library: std::mt19937_64's output is fully specified by the C++ standard,
// while its distributions (uniform_real_distribution, ...) are not, so every
// conversion here is our own.
class DeterministicRandom {
 public:
  explicit DeterministicRandom(uint64_t seed) : engine_(seed) {}

  // An independent stream per key, e.g. (seed, image id, annotation id), so
  // that a result depends neither on the order nor on the thread in which
  // items are processed.
  static DeterministicRandom ForKey(std::initializer_list<uint64_t> key);

  uint64_t Next() { return engine_(); }

  // Uniform in [0, 1) with 53 random bits.
  double Uniform01() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

  // Uniform in [lo, hi).
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform01(); }

  // Uniform integer in [0, n), n > 0, without modulo bias.
  uint64_t UniformInt(uint64_t n);

  // A uniformly distributed unit vector, by rejection from the unit disk
  // (no sin/cos, whose last bit differs between math libraries).
  void UnitVector(double* dx, double* dy);

  // Standard normal by the Marsaglia polar method (only sqrt and log).
  double Normal();

  bool Bernoulli(double probability) { return Uniform01() < probability; }

 private:
  std::mt19937_64 engine_;
};

// SplitMix64's finalizer: a bijective 64-bit mix.
uint64_t MixBits(uint64_t x);

// The seed ForKey starts its stream from: several integers mixed into one.
uint64_t MixSeed(std::initializer_list<uint64_t> key);

}  // namespace posefix

#endif  // POSEFIX_CORE_RANDOM_H_
