#ifndef POSEFIX_CORE_TEXT_PROTO_H_
#define POSEFIX_CORE_TEXT_PROTO_H_

#include <string>

#include "absl/status/status.h"
#include "google/protobuf/message.h"

namespace posefix {

// Parses a text-format proto; on failure the error names the file, the line
// and column, and the parser's complaint (an unknown field, a bad value).
absl::Status ParseTextProto(const std::string& source, const std::string& text,
                            google::protobuf::Message* message);

// Reads the file at `path` and parses it as above.
absl::Status ReadTextProto(const std::string& path, google::protobuf::Message* message);

// Serializes `message` in text format and writes it atomically.
absl::Status WriteTextProto(const std::string& path, const google::protobuf::Message& message);

}  // namespace posefix

#endif  // POSEFIX_CORE_TEXT_PROTO_H_
