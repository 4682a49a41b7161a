#ifndef POSEFIX_CORE_RANDOM_H_
#define POSEFIX_CORE_RANDOM_H_

#include <cstdint>
#include <initializer_list>
#include <random>

namespace posefix {

// Random numbers that are the same on every machine and standard library:
// std::mt19937_64 is fully specified, the distributions in <random> are not,
// so the conversions below are written out.
class DeterministicRandom {
 public:
  explicit DeterministicRandom(uint64_t seed) : engine_(seed) {}

  // Uniform in [0, 1) with 53 random bits.
  double Uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

  // Standard normal by the Box-Muller transform.
  double Normal();

  bool Bernoulli(double probability) { return Uniform() < probability; }

 private:
  std::mt19937_64 engine_;
};

// Mixes several integers into one seed (splitmix64 finalizer), so that a
// sample's stream depends only on (seed, epoch, index) and not on which
// thread made it or in which order.
uint64_t MixSeed(std::initializer_list<uint64_t> parts);

}  // namespace posefix

#endif  // POSEFIX_CORE_RANDOM_H_
