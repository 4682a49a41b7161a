// Fuzzes the text-format ErrorModel: parsing, completion with the release's
// tables, validation and compilation into a Synthesizer for COCO. An error
// or a synthesizer, never a crash.

#include <cstdint>
#include <string>

#include "posefix/core/keypoint_schema.h"
#include "posefix/core/text_proto.h"
#include "posefix/synth/error_model.h"
#include "posefix/synth/synthesizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  posefix::ErrorModel model;
  if (!posefix::ParseTextProto("fuzz.pbtxt", text, &model).ok()) return 0;
  absl::StatusOr<posefix::ErrorModel> complete =
      posefix::CompleteErrorModel(model, posefix::CocoSchema(), "fuzz.pbtxt");
  if (!complete.ok()) return 0;
  absl::StatusOr<posefix::Synthesizer> synthesizer =
      posefix::Synthesizer::Create(*complete, posefix::CocoSchema(), "fuzz.pbtxt");
  return 0;
}
