#include "posefix/core/coco_io.h"

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <optional>
#include <string>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "posefix/core/file_util.h"
#include "rapidjson/document.h"
#include "rapidjson/error/en.h"
#include "rapidjson/memorystream.h"
#include "rapidjson/reader.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace posefix {
namespace {

using rapidjson::Value;

constexpr int kDefaultKeypoints = 17;

// Reports errors as "SOURCE: FIELD: MESSAGE".
class FieldReader {
 public:
  explicit FieldReader(absl::string_view source) : source_(source) {}

  absl::Status Error(const std::string& field, absl::string_view message) const {
    return FieldError(source_, field, message);
  }

  absl::StatusOr<const Value*> Member(const Value& object, const std::string& path,
                                      const char* name, bool required) const {
    auto it = object.FindMember(name);
    if (it == object.MemberEnd()) {
      if (required) return Error(Join(path, name), "missing");
      return nullptr;
    }
    return &it->value;
  }

  absl::StatusOr<double> Number(const Value& value, const std::string& field) const {
    if (!value.IsNumber())
      return Error(field, absl::StrCat("expected a number, got ", TypeName(value)));
    const double number = value.GetDouble();
    if (!std::isfinite(number)) return Error(field, "must be finite");
    return number;
  }

  absl::StatusOr<int64_t> Integer(const Value& value, const std::string& field) const {
    if (value.IsInt64()) return value.GetInt64();
    if (value.IsDouble()) {
      // Python writes integral ids from numpy as 139.0; accept exact integers.
      const double number = value.GetDouble();
      if (std::isfinite(number) && std::floor(number) == number && std::fabs(number) < 9.0e15) {
        return static_cast<int64_t>(number);
      }
    }
    return Error(field, absl::StrCat("expected an integer, got ", Describe(value)));
  }

  absl::StatusOr<std::string> String(const Value& value, const std::string& field) const {
    if (!value.IsString())
      return Error(field, absl::StrCat("expected a string, got ", TypeName(value)));
    return std::string(value.GetString(), value.GetStringLength());
  }

  absl::StatusOr<Pose> Keypoints(const Value& value, const std::string& field,
                                 int num_keypoints) const {
    if (!value.IsArray())
      return Error(field, absl::StrCat("expected an array, got ", TypeName(value)));
    const int expected = 3 * num_keypoints;
    if (static_cast<int>(value.Size()) != expected) {
      return Error(field, absl::StrCat("expected ", expected, " numbers (", num_keypoints,
                                       " keypoints x 3), got ", value.Size()));
    }
    Pose pose(num_keypoints);
    for (int j = 0; j < num_keypoints; ++j) {
      double* slots[3] = {&pose[j].x, &pose[j].y, &pose[j].v};
      for (int c = 0; c < 3; ++c) {
        const Value& number = value[3 * j + c];
        if (!number.IsNumber()) {
          return Error(absl::StrCat(field, "[", 3 * j + c, "]"),
                       absl::StrCat("expected a number, got ", TypeName(number)));
        }
        *slots[c] = number.GetDouble();
        if (!std::isfinite(*slots[c])) {
          return Error(absl::StrCat(field, "[", 3 * j + c, "]"), "must be finite");
        }
      }
    }
    return pose;
  }

  static std::string Join(const std::string& path, const char* name) {
    return path.empty() ? std::string(name) : absl::StrCat(path, ".", name);
  }

  static const char* TypeName(const Value& value) {
    switch (value.GetType()) {
      case rapidjson::kNullType:
        return "null";
      case rapidjson::kFalseType:
      case rapidjson::kTrueType:
        return "a boolean";
      case rapidjson::kObjectType:
        return "an object";
      case rapidjson::kArrayType:
        return "an array";
      case rapidjson::kStringType:
        return "a string";
      case rapidjson::kNumberType:
        return "a number";
    }
    return "an unknown value";
  }

  static std::string Describe(const Value& value) {
    if (value.IsNumber()) return absl::StrCat(value.GetDouble());
    return TypeName(value);
  }

 private:
  absl::string_view source_;
};

std::string ToJson(const Value& value) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  value.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

// Keeps every member whose name is not in `known`.
void CollectExtra(const Value& object, std::initializer_list<absl::string_view> known,
                  ExtraFields* extra) {
  for (auto it = object.MemberBegin(); it != object.MemberEnd(); ++it) {
    const absl::string_view name(it->name.GetString(), it->name.GetStringLength());
    bool is_known = false;
    for (absl::string_view k : known) is_known = is_known || k == name;
    if (!is_known) extra->emplace_back(std::string(name), ToJson(it->value));
  }
}

// 1-based line and column of a byte offset, for parse errors.
std::string Position(absl::string_view text, size_t offset) {
  int line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  return absl::StrCat("line ", line, ", column ", offset - line_start + 1);
}

// COCO files nest about 5 levels deep; RapidJSON parses (and copies)
// recursively, so a hostile file of deep nesting would overflow the stack.
constexpr int kMaxJsonDepth = 100;

// The offset of the bracket that opens level kMaxJsonDepth + 1, if any
// (strings skipped).
std::optional<size_t> TooDeep(absl::string_view text) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) return i;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return std::nullopt;
}

// Builds a Document from RapidJSON's reader with numbers converted here:
// every double is the correctly rounded value of its decimal text (glibc's
// strtod), as Python's json module reads it, so that evaluation results
// agree with pycocotools to the last bit. (RapidJSON 1.1.0's own
// full-precision conversion crashes or misrounds on long mantissas and
// extreme exponents: Tencent/rapidjson#1251, #2326; found by our fuzzer.)
class NumberConvertingHandler {
 public:
  explicit NumberConvertingHandler(rapidjson::Document& document) : document_(document) {}

  // `text` is NUL-terminated (RapidJSON copies a number into its stack).
  bool RawNumber(const char* text, rapidjson::SizeType length, bool /*copy*/) {
    const absl::string_view number(text, length);
    if (number.find_first_of(".eE") == absl::string_view::npos) {
      int64_t integer = 0;
      if (absl::SimpleAtoi(number, &integer)) return document_.Int64(integer);
      uint64_t unsigned_integer = 0;
      if (absl::SimpleAtoi(number, &unsigned_integer)) return document_.Uint64(unsigned_integer);
    }
    const double value = std::strtod(text, nullptr);
    if (std::isinf(value)) {
      too_big_ = true;
      return false;
    }
    return document_.Double(value);
  }
  bool Null() { return document_.Null(); }
  bool Bool(bool b) { return document_.Bool(b); }
  bool Int(int i) { return document_.Int(i); }
  bool Uint(unsigned u) { return document_.Uint(u); }
  bool Int64(int64_t i) { return document_.Int64(i); }
  bool Uint64(uint64_t u) { return document_.Uint64(u); }
  bool Double(double d) { return document_.Double(d); }
  bool String(const char* s, rapidjson::SizeType length, bool copy) {
    return document_.String(s, length, copy);
  }
  bool StartObject() { return document_.StartObject(); }
  bool Key(const char* s, rapidjson::SizeType length, bool copy) {
    return document_.Key(s, length, copy);
  }
  bool EndObject(rapidjson::SizeType members) { return document_.EndObject(members); }
  bool StartArray() { return document_.StartArray(); }
  bool EndArray(rapidjson::SizeType elements) { return document_.EndArray(elements); }

  bool too_big() const { return too_big_; }

 private:
  rapidjson::Document& document_;
  bool too_big_ = false;
};

absl::StatusOr<rapidjson::Document> ParseJson(absl::string_view source, std::string* text) {
  if (std::optional<size_t> offset = TooDeep(*text)) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": ", Position(*text, *offset),
                                                   ": invalid JSON: nested deeper than ",
                                                   kMaxJsonDepth, " levels"));
  }
  rapidjson::Document document;
  rapidjson::ParseResult result;
  bool too_big = false;
  auto generate = [&](rapidjson::Document& handler) {
    NumberConvertingHandler converting(handler);
    rapidjson::MemoryStream stream(text->data(), text->size());
    rapidjson::Reader reader;
    result = reader.Parse<rapidjson::kParseNumbersAsStringsFlag>(stream, converting);
    too_big = converting.too_big();
    return !result.IsError();
  };
  document.Populate(generate);
  if (result.IsError()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": ", Position(*text, result.Offset()), ": invalid JSON: ",
                     too_big ? "Number too big to be stored in double."
                             : rapidjson::GetParseError_En(result.Code())));
  }
  return document;
}

absl::StatusOr<ImageInfo> ParseImage(const FieldReader& reader, const Value& value,
                                     const std::string& path, bool keep_extra) {
  if (!value.IsObject()) return reader.Error(path, "expected an object");
  ImageInfo image;
  auto id = reader.Member(value, path, "id", true);
  if (!id.ok()) return id.status();
  auto id_value = reader.Integer(**id, path + ".id");
  if (!id_value.ok()) return id_value.status();
  image.id = *id_value;
  auto file_name = reader.Member(value, path, "file_name", false);
  if (!file_name.ok()) return file_name.status();
  if (*file_name != nullptr) {
    auto name = reader.String(**file_name, path + ".file_name");
    if (!name.ok()) return name.status();
    image.file_name = *std::move(name);
  }
  for (auto [name, slot] : {std::pair<const char*, int*>{"width", &image.width},
                            std::pair<const char*, int*>{"height", &image.height}}) {
    auto member = reader.Member(value, path, name, false);
    if (!member.ok()) return member.status();
    if (*member == nullptr) continue;
    const std::string field = FieldReader::Join(path, name);
    auto size = reader.Integer(**member, field);
    if (!size.ok()) return size.status();
    if (*size < 0 || *size > std::numeric_limits<int>::max()) {
      return reader.Error(field, absl::StrCat("must be a non-negative size, got ", *size));
    }
    *slot = static_cast<int>(*size);
  }
  if (keep_extra) CollectExtra(value, {"id", "file_name", "width", "height"}, &image.extra);
  return image;
}

absl::StatusOr<Category> ParseCategory(const FieldReader& reader, const Value& value,
                                       const std::string& path, bool keep_extra) {
  if (!value.IsObject()) return reader.Error(path, "expected an object");
  Category category;
  auto id = reader.Member(value, path, "id", true);
  if (!id.ok()) return id.status();
  auto id_value = reader.Integer(**id, path + ".id");
  if (!id_value.ok()) return id_value.status();
  category.id = *id_value;
  auto name = reader.Member(value, path, "name", false);
  if (!name.ok()) return name.status();
  if (*name != nullptr) {
    auto text = reader.String(**name, path + ".name");
    if (!text.ok()) return text.status();
    category.name = *std::move(text);
  }
  auto keypoints = reader.Member(value, path, "keypoints", false);
  if (!keypoints.ok()) return keypoints.status();
  if (*keypoints != nullptr) {
    const std::string field = path + ".keypoints";
    if (!(*keypoints)->IsArray()) return reader.Error(field, "expected an array of names");
    for (rapidjson::SizeType i = 0; i < (*keypoints)->Size(); ++i) {
      auto keypoint = reader.String((**keypoints)[i], absl::StrCat(field, "[", i, "]"));
      if (!keypoint.ok()) return keypoint.status();
      category.keypoints.push_back(*std::move(keypoint));
    }
  }
  // The skeleton and supercategory are kept verbatim: schemas own them.
  CollectExtra(value, {"id", "name", "keypoints"}, &category.extra);
  if (!keep_extra) category.extra.clear();
  return category;
}

absl::StatusOr<PersonAnnotation> ParseAnnotation(
    const FieldReader& reader, const Value& value, const std::string& path,
    const absl::flat_hash_map<int64_t, int>& keypoints_per_category, int fallback_keypoints,
    bool keep_extra) {
  if (!value.IsObject()) return reader.Error(path, "expected an object");
  PersonAnnotation annotation;
  for (auto [name, slot] :
       {std::pair<const char*, int64_t*>{"id", &annotation.id},
        std::pair<const char*, int64_t*>{"image_id", &annotation.image_id},
        std::pair<const char*, int64_t*>{"category_id", &annotation.category_id}}) {
    auto member = reader.Member(value, path, name, true);
    if (!member.ok()) return member.status();
    auto integer = reader.Integer(**member, FieldReader::Join(path, name));
    if (!integer.ok()) return integer.status();
    *slot = *integer;
  }
  auto count = keypoints_per_category.find(annotation.category_id);
  if (count == keypoints_per_category.end()) {
    return reader.Error(path + ".category_id",
                        absl::StrCat("unknown category ", annotation.category_id));
  }
  const int num_keypoints = fallback_keypoints > 0 ? fallback_keypoints : count->second;

  auto keypoints = reader.Member(value, path, "keypoints", false);
  if (!keypoints.ok()) return keypoints.status();
  if (*keypoints != nullptr) {
    auto pose = reader.Keypoints(**keypoints, path + ".keypoints", num_keypoints);
    if (!pose.ok()) return pose.status();
    annotation.keypoints = *std::move(pose);
  } else {
    annotation.keypoints.assign(num_keypoints, Keypoint{});
  }

  auto bbox = reader.Member(value, path, "bbox", false);
  if (!bbox.ok()) return bbox.status();
  if (*bbox != nullptr) {
    const std::string field = path + ".bbox";
    if (!(*bbox)->IsArray() || (*bbox)->Size() != 4) {
      return reader.Error(field, "expected [x, y, width, height]");
    }
    double numbers[4];
    for (int i = 0; i < 4; ++i) {
      auto number = reader.Number((**bbox)[i], absl::StrCat(field, "[", i, "]"));
      if (!number.ok()) return number.status();
      numbers[i] = *number;
    }
    if (numbers[2] < 0 || numbers[3] < 0) {
      return reader.Error(field, absl::StrCat("negative size ", numbers[2], " x ", numbers[3]));
    }
    annotation.bbox = {numbers[0], numbers[1], numbers[2], numbers[3]};
  }

  auto area = reader.Member(value, path, "area", false);
  if (!area.ok()) return area.status();
  if (*area != nullptr) {
    auto number = reader.Number(**area, path + ".area");
    if (!number.ok()) return number.status();
    if (*number < 0) return reader.Error(path + ".area", absl::StrCat("negative area ", *number));
    annotation.area = *number;
  } else {
    annotation.area = annotation.bbox.area();
  }

  auto iscrowd = reader.Member(value, path, "iscrowd", false);
  if (!iscrowd.ok()) return iscrowd.status();
  if (*iscrowd != nullptr) {
    if ((*iscrowd)->IsBool()) {
      annotation.iscrowd = (*iscrowd)->GetBool();
    } else {
      auto flag = reader.Integer(**iscrowd, path + ".iscrowd");
      if (!flag.ok()) return flag.status();
      if (*flag != 0 && *flag != 1) return reader.Error(path + ".iscrowd", "expected 0 or 1");
      annotation.iscrowd = *flag == 1;
    }
  }

  auto num_labelled = reader.Member(value, path, "num_keypoints", false);
  if (!num_labelled.ok()) return num_labelled.status();
  if (*num_labelled != nullptr) {
    auto number = reader.Integer(**num_labelled, path + ".num_keypoints");
    if (!number.ok()) return number.status();
    if (*number < 0 || *number > num_keypoints) {
      return reader.Error(path + ".num_keypoints",
                          absl::StrCat("must be in [0, ", num_keypoints, "], got ", *number));
    }
    annotation.num_keypoints = static_cast<int>(*number);
  } else {
    annotation.num_keypoints = CountLabelled(annotation.keypoints);
  }

  if (keep_extra) {
    CollectExtra(
        value,
        {"id", "image_id", "category_id", "keypoints", "bbox", "area", "iscrowd", "num_keypoints"},
        &annotation.extra);
  }
  return annotation;
}

// Writes integral values as integers (COCO's pixel coordinates and flags)
// and everything else as the shortest text that reads back exactly.
template <typename Writer>
void WriteNumber(Writer& writer, double value) {
  if (std::floor(value) == value && std::fabs(value) < 9.0e15) {
    writer.Int64(static_cast<int64_t>(value));
  } else {
    writer.Double(value);
  }
}

template <typename Writer>
void WriteExtra(Writer& writer, const ExtraFields& extra) {
  for (const auto& [name, json] : extra) {
    writer.Key(name.data(), static_cast<rapidjson::SizeType>(name.size()));
    writer.RawValue(json.data(), json.size(), rapidjson::kObjectType);
  }
}

template <typename Writer>
void WritePose(Writer& writer, const Pose& pose) {
  writer.StartArray();
  for (const Keypoint& keypoint : pose) {
    WriteNumber(writer, keypoint.x);
    WriteNumber(writer, keypoint.y);
    WriteNumber(writer, keypoint.v);
  }
  writer.EndArray();
}

}  // namespace

int CountLabelled(const Pose& pose) {
  int count = 0;
  for (const Keypoint& keypoint : pose) count += keypoint.v > 0;
  return count;
}

bool IsTrainablePerson(const PersonAnnotation& person) {
  return !person.iscrowd && CountLabelled(person.keypoints) > 0 && person.bbox.width > 0 &&
         person.bbox.height > 0;
}

absl::StatusOr<CocoDataset> ParseCocoDataset(absl::string_view source, std::string text,
                                             const CocoReadOptions& options) {
  auto document = ParseJson(source, &text);
  if (!document.ok()) return document.status();
  const FieldReader reader(source);
  if (!document->IsObject()) return reader.Error("(top level)", "expected a JSON object");
  CocoDataset dataset;

  auto images = reader.Member(*document, "", "images", true);
  if (!images.ok()) return images.status();
  if (!(*images)->IsArray()) return reader.Error("images", "expected an array");
  dataset.images.reserve((*images)->Size());
  absl::flat_hash_set<int64_t> image_ids;
  for (rapidjson::SizeType i = 0; i < (*images)->Size(); ++i) {
    const std::string path = absl::StrCat("images[", i, "]");
    auto image = ParseImage(reader, (**images)[i], path, options.keep_extra_fields);
    if (!image.ok()) return image.status();
    if (!image_ids.insert(image->id).second) {
      return reader.Error(path + ".id", absl::StrCat("duplicate image id ", image->id));
    }
    dataset.images.push_back(*std::move(image));
  }

  absl::flat_hash_map<int64_t, int> keypoints_per_category;
  auto categories = reader.Member(*document, "", "categories", false);
  if (!categories.ok()) return categories.status();
  if (*categories != nullptr) {
    if (!(*categories)->IsArray()) return reader.Error("categories", "expected an array");
    for (rapidjson::SizeType i = 0; i < (*categories)->Size(); ++i) {
      auto category = ParseCategory(reader, (**categories)[i], absl::StrCat("categories[", i, "]"),
                                    options.keep_extra_fields);
      if (!category.ok()) return category.status();
      keypoints_per_category[category->id] = category->keypoints.empty()
                                                 ? kDefaultKeypoints
                                                 : static_cast<int>(category->keypoints.size());
      dataset.categories.push_back(*std::move(category));
    }
  } else {
    // A bare file without categories: COCO's person category is assumed.
    keypoints_per_category[1] = kDefaultKeypoints;
  }

  auto annotations = reader.Member(*document, "", "annotations", true);
  if (!annotations.ok()) return annotations.status();
  if (!(*annotations)->IsArray()) return reader.Error("annotations", "expected an array");
  dataset.annotations.reserve((*annotations)->Size());
  // pycocotools indexes annotations by id: a repeated id would make it
  // evaluate one annotation twice and the other never, so it is refused.
  absl::flat_hash_set<int64_t> annotation_ids;
  for (rapidjson::SizeType i = 0; i < (*annotations)->Size(); ++i) {
    const std::string path = absl::StrCat("annotations[", i, "]");
    auto annotation = ParseAnnotation(reader, (**annotations)[i], path, keypoints_per_category,
                                      options.num_keypoints, options.keep_extra_fields);
    if (!annotation.ok()) return annotation.status();
    if (!image_ids.contains(annotation->image_id)) {
      return reader.Error(path + ".image_id",
                          absl::StrCat("image ", annotation->image_id, " is not in images"));
    }
    if (!annotation_ids.insert(annotation->id).second) {
      return reader.Error(path + ".id", absl::StrCat("duplicate annotation id ", annotation->id));
    }
    dataset.annotations.push_back(*std::move(annotation));
  }

  if (options.keep_extra_fields) {
    CollectExtra(*document, {"images", "annotations", "categories"}, &dataset.extra);
  }
  return dataset;
}

absl::StatusOr<CocoDataset> ReadCocoDataset(const std::string& path,
                                            const CocoReadOptions& options) {
  absl::StatusOr<std::string> text = ReadFileToString(path);
  if (!text.ok()) return text.status();
  return ParseCocoDataset(path, *std::move(text), options);
}

std::string CocoDatasetToJson(const CocoDataset& dataset) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.StartObject();
  WriteExtra(writer, dataset.extra);
  writer.Key("images");
  writer.StartArray();
  for (const ImageInfo& image : dataset.images) {
    writer.StartObject();
    writer.Key("id");
    writer.Int64(image.id);
    writer.Key("file_name");
    writer.String(image.file_name.data(), static_cast<rapidjson::SizeType>(image.file_name.size()));
    writer.Key("width");
    writer.Int(image.width);
    writer.Key("height");
    writer.Int(image.height);
    WriteExtra(writer, image.extra);
    writer.EndObject();
  }
  writer.EndArray();
  writer.Key("annotations");
  writer.StartArray();
  for (const PersonAnnotation& annotation : dataset.annotations) {
    writer.StartObject();
    writer.Key("id");
    writer.Int64(annotation.id);
    writer.Key("image_id");
    writer.Int64(annotation.image_id);
    writer.Key("category_id");
    writer.Int64(annotation.category_id);
    writer.Key("iscrowd");
    writer.Int(annotation.iscrowd ? 1 : 0);
    writer.Key("bbox");
    writer.StartArray();
    for (double number :
         {annotation.bbox.x, annotation.bbox.y, annotation.bbox.width, annotation.bbox.height}) {
      WriteNumber(writer, number);
    }
    writer.EndArray();
    writer.Key("area");
    WriteNumber(writer, annotation.area);
    writer.Key("num_keypoints");
    writer.Int(annotation.num_keypoints);
    writer.Key("keypoints");
    WritePose(writer, annotation.keypoints);
    WriteExtra(writer, annotation.extra);
    writer.EndObject();
  }
  writer.EndArray();
  // A file without categories means COCO's person (see ParseCocoDataset);
  // an empty array would mean no category at all.
  if (dataset.categories.empty()) {
    writer.EndObject();
    return std::string(buffer.GetString(), buffer.GetSize());
  }
  writer.Key("categories");
  writer.StartArray();
  for (const Category& category : dataset.categories) {
    writer.StartObject();
    writer.Key("id");
    writer.Int64(category.id);
    writer.Key("name");
    writer.String(category.name.data(), static_cast<rapidjson::SizeType>(category.name.size()));
    if (!category.keypoints.empty()) {
      writer.Key("keypoints");
      writer.StartArray();
      for (const std::string& name : category.keypoints) {
        writer.String(name.data(), static_cast<rapidjson::SizeType>(name.size()));
      }
      writer.EndArray();
    }
    WriteExtra(writer, category.extra);
    writer.EndObject();
  }
  writer.EndArray();
  writer.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

absl::Status WriteCocoDataset(const std::string& path, const CocoDataset& dataset) {
  return WriteFileAtomically(path, CocoDatasetToJson(dataset));
}

absl::StatusOr<std::vector<KeypointResult>> ParseCocoResults(absl::string_view source,
                                                             std::string text,
                                                             const ResultsReadOptions& options) {
  auto document = ParseJson(source, &text);
  if (!document.ok()) return document.status();
  const FieldReader reader(source);
  if (!document->IsArray()) {
    return reader.Error("(top level)",
                        "expected a JSON array of {image_id, category_id, keypoints, score}");
  }
  absl::flat_hash_set<int64_t> known_images;
  if (options.ground_truth != nullptr) {
    for (const ImageInfo& image : options.ground_truth->images) known_images.insert(image.id);
  }
  std::vector<KeypointResult> results;
  results.reserve(document->Size());
  for (rapidjson::SizeType i = 0; i < document->Size(); ++i) {
    const std::string path = absl::StrCat("[", i, "]");
    const Value& value = (*document)[i];
    if (!value.IsObject()) return reader.Error(path, "expected an object");
    KeypointResult result;
    for (auto [name, slot] :
         {std::pair<const char*, int64_t*>{"image_id", &result.image_id},
          std::pair<const char*, int64_t*>{"category_id", &result.category_id}}) {
      auto member = reader.Member(value, path, name, true);
      if (!member.ok()) return member.status();
      auto integer = reader.Integer(**member, FieldReader::Join(path, name));
      if (!integer.ok()) return integer.status();
      *slot = *integer;
    }
    if (options.ground_truth != nullptr && !known_images.contains(result.image_id)) {
      return reader.Error(path + ".image_id", absl::StrCat("image ", result.image_id,
                                                           " is not in the ground-truth images"));
    }
    auto keypoints = reader.Member(value, path, "keypoints", true);
    if (!keypoints.ok()) return keypoints.status();
    auto pose = reader.Keypoints(**keypoints, path + ".keypoints", options.num_keypoints);
    if (!pose.ok()) return pose.status();
    result.keypoints = *std::move(pose);
    auto score = reader.Member(value, path, "score", true);
    if (!score.ok()) return score.status();
    auto number = reader.Number(**score, path + ".score");
    if (!number.ok()) return number.status();
    result.score = *number;
    if (options.keep_extra_fields) {
      CollectExtra(value, {"image_id", "category_id", "keypoints", "score"}, &result.extra);
    }
    results.push_back(std::move(result));
  }
  return results;
}

absl::StatusOr<std::vector<KeypointResult>> ReadCocoResults(const std::string& path,
                                                            const ResultsReadOptions& options) {
  absl::StatusOr<std::string> text = ReadFileToString(path);
  if (!text.ok()) return text.status();
  return ParseCocoResults(path, *std::move(text), options);
}

std::string CocoResultsToJson(const std::vector<KeypointResult>& results) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.StartArray();
  for (const KeypointResult& result : results) {
    writer.StartObject();
    writer.Key("image_id");
    writer.Int64(result.image_id);
    writer.Key("category_id");
    writer.Int64(result.category_id);
    writer.Key("keypoints");
    WritePose(writer, result.keypoints);
    writer.Key("score");
    WriteNumber(writer, result.score);
    WriteExtra(writer, result.extra);
    writer.EndObject();
  }
  writer.EndArray();
  return std::string(buffer.GetString(), buffer.GetSize());
}

absl::Status WriteCocoResults(const std::string& path, const std::vector<KeypointResult>& results) {
  return WriteFileAtomically(path, CocoResultsToJson(results));
}

absl::flat_hash_map<int64_t, int> IndexImages(const CocoDataset& dataset) {
  absl::flat_hash_map<int64_t, int> index;
  index.reserve(dataset.images.size());
  for (int i = 0; i < static_cast<int>(dataset.images.size()); ++i) {
    index[dataset.images[i].id] = i;
  }
  return index;
}

absl::flat_hash_map<int64_t, std::vector<int>> GroupAnnotationsByImage(const CocoDataset& dataset) {
  absl::flat_hash_map<int64_t, std::vector<int>> groups;
  for (int i = 0; i < static_cast<int>(dataset.annotations.size()); ++i) {
    groups[dataset.annotations[i].image_id].push_back(i);
  }
  return groups;
}

}  // namespace posefix
