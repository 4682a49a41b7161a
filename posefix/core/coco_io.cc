#include "posefix/core/coco_io.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <numeric>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "posefix/core/file_util.h"
#include "posefix/core/parallel_for.h"
#include "posefix/core/status_macros.h"
#include "rapidjson/error/en.h"
#include "rapidjson/memorystream.h"
#include "rapidjson/reader.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "simdjson.h"

namespace posefix {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

constexpr int kDefaultKeypoints = 17;

// `number` as an integer when it is one exactly (Python writes integral ids
// from numpy as 139.0); doubles from 2^53 on are not all integers.
std::optional<int64_t> ExactInteger(double number) {
  if (std::floor(number) == number && std::fabs(number) < 9.0e15) {
    return static_cast<int64_t>(number);
  }
  return std::nullopt;
}

// Reports errors as "SOURCE: FIELD: MESSAGE".
class FieldReader {
 public:
  explicit FieldReader(absl::string_view source) : source_(source) {}

  absl::Status Error(const std::string& field, absl::string_view message) const {
    return FieldError(source_, field, message);
  }

  // The first member called `name` (as RapidJSON and pycocotools' dict
  // lookups of a parsed file agree on for files without repeated keys).
  absl::StatusOr<std::optional<element>> Member(element object, const std::string& path,
                                                const char* name, bool required) const {
    element value;
    if (object.at_key(name).get(value) != simdjson::SUCCESS) {
      if (required) return Error(Join(path, name), "missing");
      return std::nullopt;
    }
    return value;
  }

  absl::StatusOr<simdjson::dom::array> Array(element value, const std::string& field,
                                             absl::string_view expected = "an array") const {
    simdjson::dom::array array;
    if (value.get_array().get(array) != simdjson::SUCCESS) {
      return Error(field, absl::StrCat("expected ", expected));
    }
    return array;
  }

  absl::StatusOr<double> Number(element value, const std::string& field) const {
    double number = 0;
    if (value.get_double().get(number) != simdjson::SUCCESS)
      return Error(field, absl::StrCat("expected a number, got ", TypeName(value)));
    return number;
  }

  absl::StatusOr<int64_t> Integer(element value, const std::string& field) const {
    if (value.type() == element_type::INT64) return value.get_int64().value_unsafe();
    if (value.type() == element_type::DOUBLE) {
      if (std::optional<int64_t> integer = ExactInteger(value.get_double().value_unsafe())) {
        return *integer;
      }
    }
    return Error(field, absl::StrCat("expected an integer, got ", Describe(value)));
  }

  absl::StatusOr<std::string> String(element value, const std::string& field) const {
    std::string_view text;
    if (value.get_string().get(text) != simdjson::SUCCESS)
      return Error(field, absl::StrCat("expected a string, got ", TypeName(value)));
    return std::string(text);
  }

  absl::StatusOr<Pose> Keypoints(element value, const std::string& field, int num_keypoints) const {
    simdjson::dom::array numbers;
    if (value.get_array().get(numbers) != simdjson::SUCCESS)
      return Error(field, absl::StrCat("expected an array, got ", TypeName(value)));
    const size_t expected = 3 * num_keypoints;
    if (numbers.size() != expected) {
      return Error(field, absl::StrCat("expected ", expected, " numbers (", num_keypoints,
                                       " keypoints x 3), got ", numbers.size()));
    }
    // simdjson refuses numbers beyond the double range: all are finite.
    Pose pose(num_keypoints);
    int i = 0;
    for (element number : numbers) {
      double value = 0;
      if (number.get_double().get(value) != simdjson::SUCCESS) {
        return Error(absl::StrCat(field, "[", i, "]"),
                     absl::StrCat("expected a number, got ", TypeName(number)));
      }
      Keypoint& keypoint = pose[i / 3];
      (i % 3 == 0 ? keypoint.x : i % 3 == 1 ? keypoint.y : keypoint.v) = value;
      ++i;
    }
    return pose;
  }

  static std::string Join(const std::string& path, const char* name) {
    return path.empty() ? std::string(name) : absl::StrCat(path, ".", name);
  }

  static const char* TypeName(element value) {
    switch (value.type()) {
      case element_type::NULL_VALUE:
        return "null";
      case element_type::BOOL:
        return "a boolean";
      case element_type::OBJECT:
        return "an object";
      case element_type::ARRAY:
        return "an array";
      case element_type::STRING:
        return "a string";
      case element_type::INT64:
      case element_type::UINT64:
      case element_type::DOUBLE:
        return "a number";
    }
    return "an unknown value";
  }

  static std::string Describe(element value) {
    if (value.is_number()) return absl::StrCat(value.get_double().value_unsafe());
    return TypeName(value);
  }

 private:
  absl::string_view source_;
};

// Keeps every member whose name is not in `known`, as minified JSON.
void CollectExtra(element object, std::initializer_list<absl::string_view> known,
                  ExtraFields* extra) {
  simdjson::dom::object members;
  if (object.get_object().get(members) != simdjson::SUCCESS) return;
  for (auto [key, value] : members) {
    const absl::string_view name(key.data(), key.size());
    bool is_known = false;
    for (absl::string_view k : known) is_known = is_known || k == name;
    if (!is_known) extra->emplace_back(std::string(name), simdjson::minify(value));
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

// COCO files nest about 5 levels deep; the parser refuses deeper files, so
// nothing recursive (minifying extra fields) can overflow the stack.
constexpr int kMaxJsonDepth = 100;

// The offset of the bracket that opens level kMaxJsonDepth + 1, if any
// (strings skipped): where a file refused for its depth goes too deep.
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

// Validates without building anything, to say where a file simdjson refused
// is wrong (simdjson reports what, not where). Numbers are checked as
// strtod reads them: RapidJSON 1.1.0's own conversion crashes on some
// (Tencent/rapidjson#1251, found by our fuzzer).
class LocatingHandler : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, LocatingHandler> {
 public:
  // `text` is NUL-terminated (RapidJSON copies a number into its stack).
  bool RawNumber(const char* text, rapidjson::SizeType /*length*/, bool /*copy*/) {
    too_big_ = std::isinf(std::strtod(text, nullptr));
    return !too_big_;
  }
  bool too_big() const { return too_big_; }

 private:
  bool too_big_ = false;
};

absl::Status JsonError(absl::string_view source, const std::string& text,
                       simdjson::error_code code) {
  if (std::optional<size_t> offset = TooDeep(text)) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": ", Position(text, *offset),
                                                   ": invalid JSON: nested deeper than ",
                                                   kMaxJsonDepth, " levels"));
  }
  LocatingHandler handler;
  rapidjson::MemoryStream stream(text.data(), text.size());
  rapidjson::Reader reader;
  const rapidjson::ParseResult result =
      reader.Parse<rapidjson::kParseNumbersAsStringsFlag | rapidjson::kParseValidateEncodingFlag>(
          stream, handler);
  if (result.IsError()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": ", Position(text, result.Offset()), ": invalid JSON: ",
                     handler.too_big() ? "Number too big to be stored in double."
                                       : rapidjson::GetParseError_En(result.Code())));
  }
  return absl::InvalidArgumentError(
      absl::StrCat(source, ": invalid JSON: ", simdjson::error_message(code)));
}

// Parses `text` in place with simdjson (`parser` owns the result). Every
// double is the correctly rounded value of its decimal text, as Python's
// json module reads it, so that evaluation agrees with pycocotools to the
// last bit.
absl::StatusOr<element> ParseJson(absl::string_view source, std::string* text,
                                  simdjson::dom::parser* parser) {
  const size_t size = text->size();
  text->reserve(size + simdjson::SIMDJSON_PADDING);  // a no-op after ReadFileToString
  element root;
  simdjson::error_code code = parser->allocate(size, kMaxJsonDepth);
  if (code == simdjson::SUCCESS) code = parser->parse(text->data(), size, false).get(root);
  if (code != simdjson::SUCCESS) return JsonError(source, *text, code);
  return root;
}

absl::StatusOr<ImageInfo> ParseImage(const FieldReader& reader, element value,
                                     const std::string& path, bool keep_extra) {
  if (!value.is_object()) return reader.Error(path, "expected an object");
  ImageInfo image;
  ASSIGN_OR_RETURN(std::optional<element> id, reader.Member(value, path, "id", true));
  ASSIGN_OR_RETURN(image.id, reader.Integer(*id, path + ".id"));
  ASSIGN_OR_RETURN(std::optional<element> file_name,
                   reader.Member(value, path, "file_name", false));
  if (file_name.has_value()) {
    ASSIGN_OR_RETURN(image.file_name, reader.String(*file_name, path + ".file_name"));
  }
  for (auto [name, slot] : {std::pair<const char*, int*>{"width", &image.width},
                            std::pair<const char*, int*>{"height", &image.height}}) {
    ASSIGN_OR_RETURN(std::optional<element> member, reader.Member(value, path, name, false));
    if (!member.has_value()) continue;
    const std::string field = FieldReader::Join(path, name);
    ASSIGN_OR_RETURN(int64_t size, reader.Integer(*member, field));
    if (size < 0 || size > std::numeric_limits<int>::max()) {
      return reader.Error(field, absl::StrCat("must be a non-negative size, got ", size));
    }
    *slot = static_cast<int>(size);
  }
  if (keep_extra) CollectExtra(value, {"id", "file_name", "width", "height"}, &image.extra);
  return image;
}

absl::StatusOr<Category> ParseCategory(const FieldReader& reader, element value,
                                       const std::string& path, bool keep_extra) {
  if (!value.is_object()) return reader.Error(path, "expected an object");
  Category category;
  ASSIGN_OR_RETURN(std::optional<element> id, reader.Member(value, path, "id", true));
  ASSIGN_OR_RETURN(category.id, reader.Integer(*id, path + ".id"));
  ASSIGN_OR_RETURN(std::optional<element> name, reader.Member(value, path, "name", false));
  if (name.has_value()) {
    ASSIGN_OR_RETURN(category.name, reader.String(*name, path + ".name"));
  }
  ASSIGN_OR_RETURN(std::optional<element> keypoints,
                   reader.Member(value, path, "keypoints", false));
  if (keypoints.has_value()) {
    const std::string field = path + ".keypoints";
    ASSIGN_OR_RETURN(simdjson::dom::array names,
                     reader.Array(*keypoints, field, "an array of names"));
    for (element name_value : names) {
      ASSIGN_OR_RETURN(
          std::string keypoint,
          reader.String(name_value, absl::StrCat(field, "[", category.keypoints.size(), "]")));
      category.keypoints.push_back(std::move(keypoint));
    }
  }
  // The skeleton and supercategory are kept verbatim: schemas own them.
  CollectExtra(value, {"id", "name", "keypoints"}, &category.extra);
  if (!keep_extra) category.extra.clear();
  return category;
}

absl::StatusOr<PersonAnnotation> ParseAnnotation(
    const FieldReader& reader, element value, const std::string& path,
    const absl::flat_hash_map<int64_t, int>& keypoints_per_category, int fallback_keypoints,
    bool keep_extra) {
  if (!value.is_object()) return reader.Error(path, "expected an object");
  PersonAnnotation annotation;
  for (auto [name, slot] :
       {std::pair<const char*, int64_t*>{"id", &annotation.id},
        std::pair<const char*, int64_t*>{"image_id", &annotation.image_id},
        std::pair<const char*, int64_t*>{"category_id", &annotation.category_id}}) {
    ASSIGN_OR_RETURN(std::optional<element> member, reader.Member(value, path, name, true));
    ASSIGN_OR_RETURN(*slot, reader.Integer(*member, FieldReader::Join(path, name)));
  }
  auto count = keypoints_per_category.find(annotation.category_id);
  if (count == keypoints_per_category.end()) {
    return reader.Error(path + ".category_id",
                        absl::StrCat("unknown category ", annotation.category_id));
  }
  const int num_keypoints = fallback_keypoints > 0 ? fallback_keypoints : count->second;

  ASSIGN_OR_RETURN(std::optional<element> keypoints,
                   reader.Member(value, path, "keypoints", false));
  if (keypoints.has_value()) {
    ASSIGN_OR_RETURN(annotation.keypoints,
                     reader.Keypoints(*keypoints, path + ".keypoints", num_keypoints));
  } else {
    annotation.keypoints.assign(num_keypoints, Keypoint{});
  }

  ASSIGN_OR_RETURN(std::optional<element> bbox, reader.Member(value, path, "bbox", false));
  if (bbox.has_value()) {
    const std::string field = path + ".bbox";
    simdjson::dom::array box;
    if (bbox->get_array().get(box) != simdjson::SUCCESS || box.size() != 4) {
      return reader.Error(field, "expected [x, y, width, height]");
    }
    double numbers[4];
    int i = 0;
    for (element value : box) {
      ASSIGN_OR_RETURN(numbers[i], reader.Number(value, absl::StrCat(field, "[", i, "]")));
      ++i;
    }
    if (numbers[2] < 0 || numbers[3] < 0) {
      return reader.Error(field, absl::StrCat("negative size ", numbers[2], " x ", numbers[3]));
    }
    annotation.bbox = {numbers[0], numbers[1], numbers[2], numbers[3]};
  }

  ASSIGN_OR_RETURN(std::optional<element> area, reader.Member(value, path, "area", false));
  if (area.has_value()) {
    ASSIGN_OR_RETURN(double number, reader.Number(*area, path + ".area"));
    if (number < 0) return reader.Error(path + ".area", absl::StrCat("negative area ", number));
    annotation.area = number;
  } else {
    annotation.area = annotation.bbox.area();
  }

  ASSIGN_OR_RETURN(std::optional<element> iscrowd, reader.Member(value, path, "iscrowd", false));
  if (iscrowd.has_value()) {
    if (iscrowd->is_bool()) {
      annotation.iscrowd = iscrowd->get_bool().value_unsafe();
    } else {
      ASSIGN_OR_RETURN(int64_t flag, reader.Integer(*iscrowd, path + ".iscrowd"));
      if (flag != 0 && flag != 1) return reader.Error(path + ".iscrowd", "expected 0 or 1");
      annotation.iscrowd = flag == 1;
    }
  }

  ASSIGN_OR_RETURN(std::optional<element> num_labelled,
                   reader.Member(value, path, "num_keypoints", false));
  if (num_labelled.has_value()) {
    ASSIGN_OR_RETURN(int64_t number, reader.Integer(*num_labelled, path + ".num_keypoints"));
    if (number < 0 || number > num_keypoints) {
      return reader.Error(path + ".num_keypoints",
                          absl::StrCat("must be in [0, ", num_keypoints, "], got ", number));
    }
    annotation.num_keypoints = static_cast<int>(number);
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
  if (std::optional<int64_t> integer = ExactInteger(value)) {
    writer.Int64(*integer);
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
  simdjson::dom::parser parser;
  ASSIGN_OR_RETURN(element document, ParseJson(source, &text, &parser));
  const FieldReader reader(source);
  if (!document.is_object()) return reader.Error("(top level)", "expected a JSON object");
  CocoDataset dataset;

  ASSIGN_OR_RETURN(std::optional<element> images, reader.Member(document, "", "images", true));
  ASSIGN_OR_RETURN(simdjson::dom::array image_values, reader.Array(*images, "images"));
  dataset.images.reserve(image_values.size());
  absl::flat_hash_set<int64_t> image_ids;
  for (element value : image_values) {
    const std::string path = absl::StrCat("images[", dataset.images.size(), "]");
    ASSIGN_OR_RETURN(ImageInfo image, ParseImage(reader, value, path, options.keep_extra_fields));
    if (!image_ids.insert(image.id).second) {
      return reader.Error(path + ".id", absl::StrCat("duplicate image id ", image.id));
    }
    dataset.images.push_back(std::move(image));
  }

  absl::flat_hash_map<int64_t, int> keypoints_per_category;
  ASSIGN_OR_RETURN(std::optional<element> categories,
                   reader.Member(document, "", "categories", false));
  if (categories.has_value()) {
    ASSIGN_OR_RETURN(simdjson::dom::array category_values, reader.Array(*categories, "categories"));
    for (element value : category_values) {
      ASSIGN_OR_RETURN(
          Category category,
          ParseCategory(reader, value, absl::StrCat("categories[", dataset.categories.size(), "]"),
                        options.keep_extra_fields));
      keypoints_per_category[category.id] = category.keypoints.empty()
                                                ? kDefaultKeypoints
                                                : static_cast<int>(category.keypoints.size());
      dataset.categories.push_back(std::move(category));
    }
  } else {
    // A bare file without categories: COCO's person category is assumed.
    keypoints_per_category[1] = kDefaultKeypoints;
  }

  ASSIGN_OR_RETURN(std::optional<element> annotations,
                   reader.Member(document, "", "annotations", true));
  ASSIGN_OR_RETURN(simdjson::dom::array annotation_values,
                   reader.Array(*annotations, "annotations"));
  dataset.annotations.reserve(annotation_values.size());
  // pycocotools indexes annotations by id: a repeated id would make it
  // evaluate one annotation twice and the other never, so it is refused.
  absl::flat_hash_set<int64_t> annotation_ids;
  for (element value : annotation_values) {
    const std::string path = absl::StrCat("annotations[", dataset.annotations.size(), "]");
    ASSIGN_OR_RETURN(PersonAnnotation annotation,
                     ParseAnnotation(reader, value, path, keypoints_per_category,
                                     options.num_keypoints, options.keep_extra_fields));
    if (!image_ids.contains(annotation.image_id)) {
      return reader.Error(path + ".image_id",
                          absl::StrCat("image ", annotation.image_id, " is not in images"));
    }
    if (!annotation_ids.insert(annotation.id).second) {
      return reader.Error(path + ".id", absl::StrCat("duplicate annotation id ", annotation.id));
    }
    dataset.annotations.push_back(std::move(annotation));
  }

  if (options.keep_extra_fields) {
    CollectExtra(document, {"images", "annotations", "categories"}, &dataset.extra);
  }
  return dataset;
}

absl::StatusOr<CocoDataset> ReadCocoDataset(const std::string& path,
                                            const CocoReadOptions& options) {
  ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  return ParseCocoDataset(path, std::move(text), options);
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

namespace {

// One result of a results file; `index` is its place in the array.
absl::StatusOr<KeypointResult> ParseResult(const FieldReader& reader, element value, size_t index,
                                           const ResultsReadOptions& options,
                                           const absl::flat_hash_set<int64_t>& known_images) {
  const std::string path = absl::StrCat("[", index, "]");
  if (!value.is_object()) return reader.Error(path, "expected an object");
  KeypointResult result;
  for (auto [name, slot] : {std::pair<const char*, int64_t*>{"image_id", &result.image_id},
                            std::pair<const char*, int64_t*>{"category_id", &result.category_id}}) {
    ASSIGN_OR_RETURN(std::optional<element> member, reader.Member(value, path, name, true));
    ASSIGN_OR_RETURN(*slot, reader.Integer(*member, FieldReader::Join(path, name)));
  }
  if (options.ground_truth != nullptr && !known_images.contains(result.image_id)) {
    return reader.Error(path + ".image_id", absl::StrCat("image ", result.image_id,
                                                         " is not in the ground-truth images"));
  }
  ASSIGN_OR_RETURN(std::optional<element> keypoints, reader.Member(value, path, "keypoints", true));
  ASSIGN_OR_RETURN(result.keypoints,
                   reader.Keypoints(*keypoints, path + ".keypoints", options.num_keypoints));
  ASSIGN_OR_RETURN(std::optional<element> score, reader.Member(value, path, "score", true));
  ASSIGN_OR_RETURN(result.score, reader.Number(*score, path + ".score"));
  if (options.keep_extra_fields) {
    CollectExtra(value, {"image_id", "category_id", "keypoints", "score"}, &result.extra);
  }
  return result;
}

// The results of a JSON array text, read with simdjson's DOM: every error
// names the entry and the field.
absl::StatusOr<std::vector<KeypointResult>> ParseResultsArray(
    absl::string_view source, std::string* text, const ResultsReadOptions& options,
    const absl::flat_hash_set<int64_t>& known_images) {
  simdjson::dom::parser parser;
  ASSIGN_OR_RETURN(element document, ParseJson(source, text, &parser));
  const FieldReader reader(source);
  simdjson::dom::array values;
  if (document.get_array().get(values) != simdjson::SUCCESS) {
    return reader.Error("(top level)",
                        "expected a JSON array of {image_id, category_id, keypoints, score}");
  }
  std::vector<KeypointResult> results;
  results.reserve(values.size());
  for (element value : values) {
    ASSIGN_OR_RETURN(KeypointResult result,
                     ParseResult(reader, value, results.size(), options, known_images));
    results.push_back(std::move(result));
  }
  return results;
}

namespace ondemand = simdjson::ondemand;

// simdjson 3.0.1's On-Demand number parser misreads some numbers of more
// than 19 digits (simdjson #2326); its DOM, like Python, does not. Tokens of
// this length and more (whitespace after them counted) are read again by
// std::from_chars, which rounds correctly as well.
constexpr size_t kLongNumberToken = 19;

// A number as the DOM path reads it. The DOM reads an integer token as an
// integer and converts it, so "-0" is +0.0 as in Python's json; long integer
// tokens are left to the DOM path.
bool PlainNumber(ondemand::value value, double* out) {
  if (value.get_double().get(*out) != simdjson::SUCCESS) return false;
  const std::string_view token = value.raw_json_token();
  if (token.size() < kLongNumberToken && *out != 0) return true;  // all but rare numbers
  const bool is_integer = token.find_first_of(".eE") == std::string_view::npos;
  if (token.size() >= kLongNumberToken) {
    return !is_integer &&
           std::from_chars(token.data(), token.data() + token.size(), *out).ec == std::errc();
  }
  if (is_integer) *out = 0.0;  // "-0"
  return true;
}

// An integer as FieldReader::Integer accepts it (exact integers of the
// double range are below 2^53, well within the short tokens).
bool PlainInteger(ondemand::value value, int64_t* out) {
  if (value.raw_json_token().size() >= kLongNumberToken) return false;
  ondemand::number number;
  if (value.get_number().get(number) != simdjson::SUCCESS) return false;
  if (number.is_int64()) {
    *out = number.get_int64();
    return true;
  }
  if (!number.is_double()) return false;  // beyond int64
  const std::optional<int64_t> integer = ExactInteger(number.get_double());
  if (!integer.has_value()) return false;
  *out = *integer;
  return true;
}

bool PlainPose(ondemand::value value, int num_keypoints, Keypoint* pose) {
  ondemand::array numbers;
  if (value.get_array().get(numbers) != simdjson::SUCCESS) return false;
  const int expected = 3 * num_keypoints;
  int i = 0;
  for (auto number : numbers) {
    ondemand::value item;
    double coordinate = 0;
    if (i == expected || number.get(item) != simdjson::SUCCESS || !PlainNumber(item, &coordinate)) {
      return false;
    }
    Keypoint& keypoint = pose[i / 3];
    (i % 3 == 0 ? keypoint.x : i % 3 == 1 ? keypoint.y : keypoint.v) = coordinate;
    ++i;
  }
  return i == expected;
}

// Where the plain reader stores result r, in either form it reads into: the
// results were sized for the whole file first, so threads fill them in place.
void SizeResults(size_t count, int num_keypoints, KeypointResultColumns* columns) {
  columns->num_keypoints = num_keypoints;
  columns->image_ids.resize(count);
  columns->category_ids.resize(count);
  columns->scores.resize(count);
  columns->keypoints.resize(count * num_keypoints);
}
void SizeResults(size_t count, int, std::vector<KeypointResult>* results) {
  results->resize(count);
}
Keypoint* PoseOf(size_t r, int num_keypoints, KeypointResultColumns* columns) {
  return columns->keypoints.data() + r * num_keypoints;
}
Keypoint* PoseOf(size_t r, int num_keypoints, std::vector<KeypointResult>* results) {
  Pose& pose = (*results)[r].keypoints;
  pose.resize(num_keypoints);
  return pose.data();
}
void SetResult(size_t r, int64_t image_id, int64_t category_id, double score,
               KeypointResultColumns* columns) {
  columns->image_ids[r] = image_id;
  columns->category_ids[r] = category_id;
  columns->scores[r] = score;
}
void SetResult(size_t r, int64_t image_id, int64_t category_id, double score,
               std::vector<KeypointResult>* results) {
  KeypointResult& result = (*results)[r];
  result.image_id = image_id;
  result.category_id = category_id;
  result.score = score;
}

// One result of the plain form, stored as result `r` of `results`: an object
// with exactly the members image_id, category_id, keypoints and score, once
// each.
template <typename Results>
bool PlainResult(ondemand::value value, const ResultsReadOptions& options,
                 const absl::flat_hash_set<int64_t>& known_images, size_t r, Results* results) {
  ondemand::object object;
  if (value.get_object().get(object) != simdjson::SUCCESS) return false;
  enum : unsigned { kImageId = 1, kCategoryId = 2, kKeypoints = 4, kScore = 8 };
  unsigned seen = 0;
  int64_t image_id = 0, category_id = 0;
  double score = 0;
  for (auto member : object) {
    ondemand::field field;
    if (std::move(member).get(field) != simdjson::SUCCESS) return false;
    // Compared as written: a name spelled with escapes takes the DOM path.
    const ondemand::raw_json_string name = field.key();
    const unsigned bit = name.unsafe_is_equal("image_id")      ? kImageId
                         : name.unsafe_is_equal("category_id") ? kCategoryId
                         : name.unsafe_is_equal("keypoints")   ? kKeypoints
                         : name.unsafe_is_equal("score")       ? kScore
                                                               : 0;
    if (bit == 0 || (seen & bit) != 0) return false;
    seen |= bit;
    const bool read = bit == kImageId      ? PlainInteger(field.value(), &image_id)
                      : bit == kCategoryId ? PlainInteger(field.value(), &category_id)
                      : bit == kKeypoints  ? PlainPose(field.value(), options.num_keypoints,
                                                       PoseOf(r, options.num_keypoints, results))
                                           : PlainNumber(field.value(), &score);
    if (!read) return false;
  }
  if (seen != (kImageId | kCategoryId | kKeypoints | kScore) ||
      (options.ground_truth != nullptr && !known_images.contains(image_id))) {
    return false;
  }
  SetResult(r, image_id, category_id, score, results);
  return true;
}

// The `count` results of `entries`, the text between a results array's
// brackets (or a run of its entries), parsed as "[entries]" in `buffer` and
// stored as the results of `results` from `first` on.
template <typename Results>
bool ParsePlainEntries(absl::string_view entries, const ResultsReadOptions& options,
                       const absl::flat_hash_set<int64_t>& known_images, ondemand::parser* parser,
                       std::string* buffer, size_t first, size_t count, Results* results) {
  buffer->reserve(entries.size() + 2 + simdjson::SIMDJSON_PADDING);
  buffer->assign("[");
  buffer->append(entries.data(), entries.size());
  buffer->push_back(']');
  ondemand::document document;
  ondemand::array array;
  if (parser->iterate(buffer->data(), buffer->size(), buffer->capacity()).get(document) !=
          simdjson::SUCCESS ||
      document.get_array().get(array) != simdjson::SUCCESS) {
    return false;
  }
  size_t r = first;
  for (auto entry : array) {
    ondemand::value value;
    if (r == first + count || entry.get(value) != simdjson::SUCCESS ||
        !PlainResult(value, options, known_images, r, results)) {
      return false;
    }
    ++r;
  }
  // Nothing after the array (an entry's text could close it early).
  return r == first + count && document.current_location().error() == simdjson::OUT_OF_BOUNDS;
}

// The first offset from `from` on of a comma between two entries of an
// array of objects ("}" and "{" around it, whitespace aside), or npos. A
// comma inside a string can look the same: the runs cut there are not valid
// JSON and are refused.
size_t NextCommaBetweenObjects(absl::string_view text, size_t from) {
  for (size_t i = from; i + 1 < text.size(); ++i) {
    if (text[i] != ',') continue;
    size_t before = i, after = i + 1;
    while (before > 0 && std::isspace(static_cast<unsigned char>(text[before - 1]))) --before;
    while (after < text.size() && std::isspace(static_cast<unsigned char>(text[after]))) ++after;
    if (before > 0 && text[before - 1] == '}' && after < text.size() && text[after] == '{') {
      return i;
    }
  }
  return absl::string_view::npos;
}

// The plain form of a results file, read fast: simdjson's On-Demand API,
// no DOM, over runs of entries of about 1 MB cut between objects, on
// options.num_threads threads, each reusing one parser and one buffer (the
// DOM of a 50 MB file would touch 150 MB), into columns or one
// KeypointResult per entry. Anything else, every error included, gives
// nullopt.
template <typename Results>
std::optional<Results> ParsePlainResults(absl::string_view text, const ResultsReadOptions& options,
                                         const absl::flat_hash_set<int64_t>& known_images) {
  const size_t open = text.find_first_not_of(" \t\n\r");
  const size_t close = text.find_last_not_of(" \t\n\r");
  if (options.num_keypoints < 0 || open == absl::string_view::npos || text[open] != '[' ||
      text[close] != ']') {
    return std::nullopt;
  }
  const absl::string_view entries = text.substr(open + 1, close - open - 1);
  // A file of another form (estimators often add members such as bbox) is
  // told by its first entry, before anything is sized for the whole file.
  if (entries.find('{') != absl::string_view::npos) {
    Results first;
    SizeResults(1, options.num_keypoints, &first);
    ondemand::parser parser;
    std::string buffer;
    if (!ParsePlainEntries(entries.substr(0, NextCommaBetweenObjects(entries, 0)), options,
                           known_images, &parser, &buffer, 0, 1, &first)) {
      return std::nullopt;
    }
  }
  constexpr size_t kRunBytes = 1 << 20;
  std::vector<absl::string_view> runs;
  for (size_t begin = 0; begin < entries.size() || runs.empty();) {
    const size_t cut = begin + kRunBytes < entries.size()
                           ? NextCommaBetweenObjects(entries, begin + kRunBytes)
                           : absl::string_view::npos;
    const size_t end = cut == absl::string_view::npos ? entries.size() : cut;
    runs.push_back(entries.substr(begin, end - begin));
    begin = end + 1;
  }
  const int num_workers = std::max(1, std::min(options.num_threads, static_cast<int>(runs.size())));
  // The only strings of the plain form are its four member names, so each
  // "{" opens one result: every run knows where its results go before any is
  // parsed, and the parsers write them in place (a run whose count is wrong
  // is not of the plain form and fails). A plain result takes at least
  // 54 + 6 * num_keypoints bytes (names, punctuation, one-digit numbers): a
  // text with more braces is refused before anything is allocated for them.
  std::vector<size_t> firsts(runs.size() + 1, 0);
  ParallelFor(num_workers, runs.size(), [&](size_t run) {
    // memchr: a vectorized search (std::count is a byte loop at -O2).
    const char* end = runs[run].data() + runs[run].size();
    size_t braces = 0;
    for (const char* at = runs[run].data();
         (at = static_cast<const char*>(std::memchr(at, '{', end - at))) != nullptr; ++at) {
      ++braces;
    }
    firsts[run + 1] = braces;
  });
  std::partial_sum(firsts.begin(), firsts.end(), firsts.begin());
  const size_t total = firsts.back();
  if (total > entries.size() / (54 + 6 * static_cast<size_t>(options.num_keypoints)) + 1) {
    return std::nullopt;
  }
  Results results;
  SizeResults(total, options.num_keypoints, &results);
  // Workers take the next run as they finish one (a worker sharing its core
  // with other work then takes fewer).
  std::atomic<size_t> next_run{0};
  std::atomic<bool> failed{false};
  size_t longest_run = 0;
  for (absl::string_view run : runs) longest_run = std::max(longest_run, run.size());
  ParallelFor(num_workers, num_workers, [&](size_t) {
    // Sized once for every run (a parser grown run by run faults in fresh
    // pages each time).
    ondemand::parser parser;
    std::string buffer;
    if (parser.allocate(longest_run + 2) != simdjson::SUCCESS) {
      failed = true;
      return;
    }
    buffer.reserve(longest_run + 2 + simdjson::SIMDJSON_PADDING);
    for (size_t run = next_run++; run < runs.size() && !failed; run = next_run++) {
      if (!ParsePlainEntries(runs[run], options, known_images, &parser, &buffer, firsts[run],
                             firsts[run + 1] - firsts[run], &results)) {
        failed = true;
      }
    }
  });
  if (failed) return std::nullopt;
  return results;
}

absl::flat_hash_set<int64_t> KnownImages(const ResultsReadOptions& options) {
  absl::flat_hash_set<int64_t> known_images;
  if (options.ground_truth != nullptr) {
    for (const ImageInfo& image : options.ground_truth->images) known_images.insert(image.id);
  }
  return known_images;
}

}  // namespace

std::optional<KeypointResultColumns> ParsePlainCocoResults(absl::string_view text,
                                                           const ResultsReadOptions& options) {
  return ParsePlainResults<KeypointResultColumns>(text, options, KnownImages(options));
}

absl::StatusOr<std::vector<KeypointResult>> ParseCocoResults(absl::string_view source,
                                                             absl::string_view text,
                                                             const ResultsReadOptions& options) {
  const absl::flat_hash_set<int64_t> known_images = KnownImages(options);
  std::optional<std::vector<KeypointResult>> plain =
      ParsePlainResults<std::vector<KeypointResult>>(text, options, known_images);
  if (plain) return *std::move(plain);
  // The DOM parses in place, in a padded copy.
  std::string copy;
  copy.reserve(text.size() + simdjson::SIMDJSON_PADDING);
  copy.assign(text.data(), text.size());
  return ParseResultsArray(source, &copy, options, known_images);
}

absl::StatusOr<std::vector<KeypointResult>> ReadCocoResults(const std::string& path,
                                                            const ResultsReadOptions& options) {
  ASSIGN_OR_RETURN(const FileContents contents, FileContents::Read(path));
  return ParseCocoResults(path, contents.view(), options);
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

absl::StatusOr<KeypointResultColumns> ToResultColumns(absl::string_view source,
                                                      absl::Span<const KeypointResult> results,
                                                      int num_keypoints) {
  KeypointResultColumns columns;
  columns.num_keypoints = num_keypoints;
  columns.image_ids.reserve(results.size());
  columns.category_ids.reserve(results.size());
  columns.scores.reserve(results.size());
  columns.keypoints.reserve(results.size() * num_keypoints);
  for (size_t r = 0; r < results.size(); ++r) {
    const KeypointResult& result = results[r];
    if (result.keypoints.size() != static_cast<size_t>(num_keypoints)) {
      return FieldError(
          source, absl::StrCat("[", r, "].keypoints"),
          absl::StrCat("has ", result.keypoints.size(), " keypoints, the schema ", num_keypoints));
    }
    columns.image_ids.push_back(result.image_id);
    columns.category_ids.push_back(result.category_id);
    columns.scores.push_back(result.score);
    columns.keypoints.insert(columns.keypoints.end(), result.keypoints.begin(),
                             result.keypoints.end());
  }
  return columns;
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
