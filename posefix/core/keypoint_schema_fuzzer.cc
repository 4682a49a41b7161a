// Fuzzes the text-format KeypointSchema reader and its validation: an error
// or a schema whose flip permutation is an involution, never a crash.

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "posefix/core/keypoint_schema.h"
#include "posefix/core/text_proto.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  posefix::KeypointSchema schema;
  if (!posefix::ParseTextProto("fuzz.pbtxt", text, &schema).ok()) return 0;
  if (!posefix::ValidateKeypointSchema(schema, "fuzz.pbtxt").ok()) return 0;
  const std::vector<int> flip = posefix::FlipPermutation(schema);
  if (static_cast<int>(flip.size()) != schema.keypoint_names_size()) std::abort();
  for (size_t j = 0; j < flip.size(); ++j) {
    if (flip[j] < 0 || flip[j] >= static_cast<int>(flip.size())) std::abort();
    if (flip[flip[j]] != static_cast<int>(j)) std::abort();
  }
  return 0;
}
