#include "posefix/core/text_proto.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"
#include "posefix/core/file_util.h"
#include "posefix/core/status_macros.h"

namespace posefix {
namespace {

class FirstErrorCollector : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, int column, const std::string& message) override {
    if (!error_.empty()) return;
    // The parser counts from zero; editors count from one.
    error_ = absl::StrCat("line ", line + 1, ":", column + 1, ": ", message);
  }
  const std::string& error() const { return error_; }

 private:
  std::string error_;
};

}  // namespace

absl::Status ParseTextProto(const std::string& source, const std::string& text,
                            google::protobuf::Message* message) {
  FirstErrorCollector errors;
  google::protobuf::TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(text, message)) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": ", message->GetDescriptor()->full_name(), ": ", errors.error()));
  }
  return absl::OkStatus();
}

absl::Status ReadTextProto(const std::string& path, google::protobuf::Message* message) {
  ASSIGN_OR_RETURN(const std::string text, ReadFileToString(path));
  return ParseTextProto(path, text, message);
}

absl::Status WriteTextProto(const std::string& path, const google::protobuf::Message& message) {
  std::string text;
  if (!google::protobuf::TextFormat::PrintToString(message, &text)) {
    return absl::InternalError(absl::StrCat(path, ": cannot print ", message.GetTypeName()));
  }
  return WriteFileAtomically(path, text);
}

}  // namespace posefix
