#include "posefix/core/coco_io.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "posefix/core/file_util.h"
#include "posefix/core/test_util.h"
#include "rapidjson/document.h"

namespace posefix {
namespace {

constexpr char kFixtureGt[] = "testdata/coco/annotations/person_keypoints_val2017_fixture.json";
constexpr char kLocalGt[] = "testdata/coco/annotations/person_keypoints_val2017_local.json";
constexpr char kMovenetResults[] =
    "testdata/results/movenet_multipose_lightning_val2017_260imgs_results.json";

std::string TempPath(const std::string& name) {
  return std::string(std::getenv("TEST_TMPDIR")) + "/" + name;
}

// Deep JSON equality, independent of member order and of 427 vs 427.0.
bool SameJson(const std::string& a, const std::string& b) {
  rapidjson::Document x, y;
  x.Parse<rapidjson::kParseFullPrecisionFlag>(a.c_str());
  y.Parse<rapidjson::kParseFullPrecisionFlag>(b.c_str());
  return !x.HasParseError() && !y.HasParseError() && x == y;
}

std::string Annotation(const std::string& fields) {
  return R"({"images": [{"id": 1, "file_name": "a.jpg", "width": 640, "height": 480}],
            "categories": [{"id": 1, "name": "person", "keypoints": ["a", "b"]}],
            "annotations": [{"id": 5, "image_id": 1, "category_id": 1, )" +
         fields + "}]}";
}

absl::Status ParseError(const std::string& text) {
  return ParseCocoDataset("gt.json", text).status();
}

void ExpectError(const absl::Status& status, const std::string& fragment) {
  ASSERT_FALSE(status.ok()) << "expected an error containing '" << fragment << "'";
  EXPECT_NE(status.message().find(fragment), std::string::npos) << status.message();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status.message();
}

TEST(CocoIoTest, ReadsTheRealValAnnotations) {
  absl::StatusOr<CocoDataset> dataset = ReadCocoDataset(kLocalGt);
  ASSERT_TRUE(dataset.ok()) << dataset.status();
  EXPECT_EQ(dataset->images.size(), 260u);
  EXPECT_EQ(dataset->annotations.size(), 406u);
  ASSERT_EQ(dataset->categories.size(), 1u);
  EXPECT_EQ(dataset->categories[0].keypoints.size(), 17u);
  const PersonAnnotation& first = dataset->annotations[0];
  EXPECT_EQ(first.id, 230831);
  EXPECT_EQ(first.image_id, 139);
  EXPECT_EQ(first.num_keypoints, 15);
  EXPECT_EQ(first.keypoints[0], (Keypoint{427, 170, 1}));
  EXPECT_EQ(first.keypoints[2], (Keypoint{0, 0, 0}));
  EXPECT_DOUBLE_EQ(first.bbox.x, 412.8);
  EXPECT_DOUBLE_EQ(first.area, 2913.1104);
  EXPECT_EQ(CountLabelled(first.keypoints), 15);
}

TEST(CocoIoTest, OfficialAnnotationsWithCrowdRegionsRoundTrip) {
  const std::string original = OrFail(ReadFileToString(kFixtureGt));
  absl::StatusOr<CocoDataset> dataset = ParseCocoDataset(kFixtureGt, original);
  ASSERT_TRUE(dataset.ok()) << dataset.status();
  int crowd = 0;
  for (const auto& annotation : dataset->annotations) crowd += annotation.iscrowd;
  EXPECT_GT(crowd, 0);
  const std::string path = TempPath("fixture_round_trip.json");
  ASSERT_TRUE(WriteCocoDataset(path, *dataset).ok());
  EXPECT_TRUE(SameJson(original, OrFail(ReadFileToString(path))));
}

TEST(CocoIoTest, RealAnnotationFileRoundTripsExactly) {
  const std::string original = OrFail(ReadFileToString(kLocalGt));
  absl::StatusOr<CocoDataset> dataset = ParseCocoDataset(kLocalGt, original);
  ASSERT_TRUE(dataset.ok()) << dataset.status();
  // area_is_estimate, segmentation, coco_url, info, licenses survive.
  EXPECT_TRUE(SameJson(original, CocoDatasetToJson(*dataset)));
}

TEST(CocoIoTest, ExtraFieldsCanBeDropped) {
  CocoReadOptions options;
  options.keep_extra_fields = false;
  absl::StatusOr<CocoDataset> dataset = ReadCocoDataset(kLocalGt, options);
  ASSERT_TRUE(dataset.ok()) << dataset.status();
  EXPECT_TRUE(dataset->extra.empty());
  EXPECT_TRUE(dataset->annotations[0].extra.empty());
  EXPECT_TRUE(dataset->images[0].extra.empty());
  EXPECT_EQ(dataset->images[0].width, 640);
}

TEST(CocoIoTest, RealResultsFileRoundTripsExactly) {
  absl::StatusOr<CocoDataset> gt = ReadCocoDataset(kLocalGt);
  ASSERT_TRUE(gt.ok());
  const std::string original = OrFail(ReadFileToString(kMovenetResults));
  ResultsReadOptions options;
  options.ground_truth = &*gt;
  absl::StatusOr<std::vector<KeypointResult>> results =
      ParseCocoResults(kMovenetResults, original, options);
  ASSERT_TRUE(results.ok()) << results.status();
  EXPECT_GT(results->size(), 300u);
  const std::string path = TempPath("results_round_trip.json");
  ASSERT_TRUE(WriteCocoResults(path, *results).ok());
  EXPECT_TRUE(SameJson(original, OrFail(ReadFileToString(path))));
  absl::StatusOr<std::vector<KeypointResult>> again = ReadCocoResults(path, options);
  ASSERT_TRUE(again.ok());
  ASSERT_EQ(again->size(), results->size());
  for (size_t i = 0; i < results->size(); ++i) {
    EXPECT_EQ((*again)[i].keypoints, (*results)[i].keypoints);
    EXPECT_EQ((*again)[i].score, (*results)[i].score);
  }
}

TEST(CocoIoTest, NumbersReadBackBitExact) {
  std::vector<KeypointResult> results(1);
  results[0].image_id = 7;
  results[0].keypoints = {{0.1 + 0.2, 1.0 / 3.0, 0.987654321012345}};
  results[0].score = 2.0 / 3.0;
  ResultsReadOptions options;
  options.num_keypoints = 1;
  absl::StatusOr<std::vector<KeypointResult>> back =
      ParseCocoResults("r.json", CocoResultsToJson(results), options);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ((*back)[0].keypoints, results[0].keypoints);
  EXPECT_EQ((*back)[0].score, results[0].score);
}

TEST(CocoIoTest, MissingNumKeypointsIsCounted) {
  absl::StatusOr<CocoDataset> dataset = ParseCocoDataset(
      "gt.json", Annotation(R"("keypoints": [1, 2, 2, 0, 0, 0], "bbox": [0, 0, 4, 5])"));
  ASSERT_TRUE(dataset.ok()) << dataset.status();
  EXPECT_EQ(dataset->annotations[0].num_keypoints, 1);
  EXPECT_EQ(dataset->annotations[0].area, 20);  // box area when area is absent
}

TEST(CocoIoTest, MalformedJsonNamesFileLineAndColumn) {
  absl::Status status = ParseError("{\"images\": [\n  {\"id\": 1,,}\n]}");
  ExpectError(status, "gt.json: line 2, column");
  ExpectError(status, "invalid JSON");
  // 150k nested arrays once crashed every reader (recursive parsing).
  const std::string deep = std::string(150000, '[') + std::string(150000, ']');
  ExpectError(ParseError(deep),
              "gt.json: line 1, column 101: invalid JSON: nested deeper than 100");
  ExpectError(ParseCocoResults("dt.json", deep).status(), "dt.json: line 1, column 101");
  // Brackets inside strings do not count.
  const std::string quoted = R"({"images": [{"id": 1, "file_name": ")" + std::string(500, '[') +
                             R"(\"{"}], "annotations": []})";
  EXPECT_TRUE(ParseCocoDataset("gt.json", quoted).ok());
}

TEST(CocoIoTest, TextPythonRefusesIsRefusedWithItsPosition) {
  // Python's json.load refuses invalid UTF-8 and anything after the value.
  ExpectError(ParseError("{\"images\": [{\"id\": 1, \"file_name\": \"\xff\"}],\n"
                         "\"annotations\": []}"),
              "gt.json: line 1, column");
  ExpectError(ParseError("{\"images\": [], \"annotations\": []}\n{}"), "gt.json: line 2, column 1");
  ExpectError(ParseError("{\"images\": [], \"annotations\": [], \"note\": [1, 2,]}"),
              "gt.json: line 1, column");
}

TEST(CocoIoTest, EmptyFileIsAnError) { ExpectError(ParseError(""), "gt.json"); }

TEST(CocoIoTest, MissingFieldsAreNamed) {
  ExpectError(ParseError(R"({"annotations": []})"), "gt.json: images: missing");
  ExpectError(ParseError(R"({"images": [{"file_name": "x"}], "annotations": []})"),
              "images[0].id: missing");
  ExpectError(ParseError(R"({"images": [{"id": 1}],
                            "annotations": [{"id": 1, "category_id": 1}]})"),
              "gt.json: annotations[0].image_id: missing");
}

TEST(CocoIoTest, WronglyTypedFieldsAreNamed) {
  ExpectError(ParseError(R"({"images": {}, "annotations": []})"), "images: expected an array");
  ExpectError(ParseError(R"({"images": [{"id": "1"}], "annotations": []})"),
              "images[0].id: expected an integer, got a string");
  ExpectError(ParseError(R"({"images": [{"id": 1.5}], "annotations": []})"),
              "images[0].id: expected an integer, got 1.5");
  ExpectError(ParseError(Annotation(R"("keypoints": [1, 2, 2, "x", 0, 0])")),
              "annotations[0].keypoints[3]: expected a number, got a string");
  ExpectError(ParseError(Annotation(R"("keypoints": [1, 2, 2, 0, 0, 0], "bbox": [1, 2, 3])")),
              "annotations[0].bbox: expected [x, y, width, height]");
  ExpectError(ParseError(Annotation(R"("keypoints": [1, 2, 2, 0, 0, 0], "iscrowd": 2)")),
              "annotations[0].iscrowd: expected 0 or 1");
}

TEST(CocoIoTest, WrongKeypointCountIsNamed) {
  ExpectError(ParseError(Annotation(R"("keypoints": [1, 2, 2, 0, 0])")),
              "gt.json: annotations[0].keypoints: expected 6 numbers (2 keypoints x 3), got 5");
}

TEST(CocoIoTest, NanAndInfinityAreRejected) {
  // JSON has no NaN; Python's json module writes it anyway.
  ExpectError(ParseError(Annotation(R"("keypoints": [NaN, 2, 2, 0, 0, 0])")), "invalid JSON");
  ExpectError(ParseError(Annotation(R"("keypoints": [Infinity, 2, 2, 0, 0, 0])")), "invalid JSON");
  ExpectError(ParseError(Annotation(R"("keypoints": [1e999, 2, 2, 0, 0, 0])")), "gt.json");
}

TEST(CocoIoTest, NegativeSizesAreRejected) {
  ExpectError(ParseError(Annotation(R"("keypoints": [1, 2, 2, 0, 0, 0], "bbox": [0, 0, -3, 4])")),
              "annotations[0].bbox: negative size");
  ExpectError(ParseError(Annotation(R"("keypoints": [1, 2, 2, 0, 0, 0], "area": -1)")),
              "annotations[0].area: negative area");
  ExpectError(ParseError(R"({"images": [{"id": 1, "width": -640}], "annotations": []})"),
              "images[0].width: must be a non-negative size");
  ExpectError(ParseError(Annotation(R"("keypoints": [1, 2, 2, 0, 0, 0], "num_keypoints": 3)")),
              "annotations[0].num_keypoints: must be in [0, 2]");
}

TEST(CocoIoTest, AFileWithoutCategoriesRoundTrips) {
  // Found by coco_json_fuzzer: the person category a bare file implies was
  // written as an empty category list, which reads back as no category.
  absl::StatusOr<CocoDataset> bare = ParseCocoDataset("bare.json", R"({"images": [{"id": 1}],
                      "annotations": [{"id": 5, "image_id": 1, "category_id": 1}]})");
  ASSERT_TRUE(bare.ok()) << bare.status();
  absl::StatusOr<CocoDataset> again = ParseCocoDataset("written.json", CocoDatasetToJson(*bare));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->annotations.size(), 1u);
}

TEST(CocoIoTest, InconsistentReferencesAreRejected) {
  ExpectError(ParseError(R"({"images": [{"id": 1}, {"id": 1}], "annotations": []})"),
              "images[1].id: duplicate image id 1");
  ExpectError(ParseError(R"({"images": [{"id": 1}],
                            "annotations": [{"id": 1, "image_id": 2, "category_id": 1}]})"),
              "annotations[0].image_id: image 2 is not in images");
  ExpectError(ParseError(R"({"images": [{"id": 1}],
                            "annotations": [{"id": 4, "image_id": 1, "category_id": 1},
                                            {"id": 4, "image_id": 1, "category_id": 1}]})"),
              "annotations[1].id: duplicate annotation id 4");
}

TEST(CocoIoTest, UnknownCategoryIsRejected) {
  ExpectError(ParseError(R"({"images": [{"id": 1}], "categories": [{"id": 1, "name": "person"}],
                    "annotations": [{"id": 1, "image_id": 1, "category_id": 3}]})"),
              "annotations[0].category_id: unknown category 3");
}

ResultsReadOptions TwoKeypoints(const CocoDataset* gt = nullptr) {
  ResultsReadOptions options;
  options.num_keypoints = 2;
  options.ground_truth = gt;
  return options;
}

TEST(CocoIoTest, ResultsErrorsNameTheEntry) {
  auto parse = [](const std::string& text, const CocoDataset* gt = nullptr) {
    return ParseCocoResults("dt.json", text, TwoKeypoints(gt)).status();
  };
  ExpectError(parse(R"({"image_id": 1})"), "dt.json: (top level): expected a JSON array");
  ExpectError(parse(R"([{"image_id": 1, "category_id": 1, "keypoints": [1,2,3,4,5,6]}])"),
              "dt.json: [0].score: missing");
  ExpectError(parse(R"([{"image_id": 1, "category_id": 1, "keypoints": [1,2,3,4,5,6], "score": 1},
                        {"image_id": 1, "category_id": 1, "keypoints": [1,2,3], "score": 1}])"),
              "dt.json: [1].keypoints: expected 6 numbers (2 keypoints x 3), got 3");
  ExpectError(
      parse(R"([{"image_id": 1, "category_id": 1, "keypoints": [1,2,3,4,5,6], "score": null}])"),
      "[0].score: expected a number, got null");
  ExpectError(
      parse(R"([{"image_id": 1, "category_id": 1, "keypoints": [1,2,3,4,5,NaN], "score": 1}])"),
      "invalid JSON");
  absl::StatusOr<CocoDataset> gt =
      ParseCocoDataset("gt.json", Annotation(R"("keypoints": [1, 2, 2, 0, 0, 0])"));
  ASSERT_TRUE(gt.ok());
  ExpectError(
      parse(R"([{"image_id": 9, "category_id": 1, "keypoints": [1,2,3,4,5,6], "score": 1}])", &*gt),
      "dt.json: [0].image_id: image 9 is not in the ground-truth images");
}

// A results file of `count` entries (about 100 bytes each), entry `odd`
// replaced by `odd_entry` when given; `extra`, when given, is appended to
// each entry (a member the fast reader leaves to the DOM path).
std::string ManyResults(int count, int odd = -1, const std::string& odd_entry = "",
                        const std::string& extra = "") {
  std::string text = "[\n";
  for (int i = 0; i < count; ++i) {
    if (i > 0) text += ",\n";
    text += i == odd ? odd_entry
                     : absl::StrCat(R"({"image_id": )", 1 + i % 7,
                                    R"(, "category_id": 1, "keypoints": [)", i, ".25, ", 2 * i,
                                    R"(.5, 0.75, 10, 20, 1], "score": 0.)", i % 1000, extra, "}");
  }
  return text + "\n]";
}

void ExpectSameResults(const std::vector<KeypointResult>& a, const std::vector<KeypointResult>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].image_id, b[i].image_id) << i;
    EXPECT_EQ(a[i].category_id, b[i].category_id) << i;
    EXPECT_EQ(a[i].score, b[i].score) << i;
    ASSERT_EQ(a[i].keypoints.size(), b[i].keypoints.size()) << i;
    // Bit for bit: the sign of a zero too.
    EXPECT_EQ(std::memcmp(a[i].keypoints.data(), b[i].keypoints.data(),
                          a[i].keypoints.size() * sizeof(Keypoint)),
              0)
        << i;
  }
}

// Files of the plain form are read in runs of about 1 MB on every thread
// asked for: the same results in the same order as one thread, and for a bad
// entry anywhere, the error the DOM reading gives with the entry's index.
TEST(CocoIoTest, ThreadsReadLargeFilesAsOne) {
  ResultsReadOptions one = TwoKeypoints(nullptr), three = TwoKeypoints(nullptr);
  three.num_threads = 3;
  const std::string text = ManyResults(40000);
  ASSERT_GT(text.size(), 3u << 20);
  absl::StatusOr<std::vector<KeypointResult>> a = ParseCocoResults("dt.json", text, one);
  absl::StatusOr<std::vector<KeypointResult>> b = ParseCocoResults("dt.json", text, three);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  ASSERT_EQ(a->size(), 40000u);
  ExpectSameResults(*a, *b);
  EXPECT_EQ((*b)[39999].keypoints[0].x, 39999.25);
  EXPECT_EQ((*b)[39999].image_id, 1 + 39999 % 7);
  // The same by column, each run writing its results in place.
  const std::optional<KeypointResultColumns> columns = ParsePlainCocoResults(text, three);
  ASSERT_TRUE(columns.has_value());
  const KeypointResultColumns expected = OrFail(ToResultColumns("dt.json", *a, 2));
  EXPECT_EQ(columns->num_keypoints, 2);
  EXPECT_EQ(columns->image_ids, expected.image_ids);
  EXPECT_EQ(columns->category_ids, expected.category_ids);
  EXPECT_EQ(columns->scores, expected.scores);
  EXPECT_EQ(columns->keypoints, expected.keypoints);

  for (int odd : {3, 25000, 39999}) {
    const std::string bad = ManyResults(
        40000, odd, R"({"image_id": 1, "category_id": 1, "keypoints": [1, 2], "score": 1})");
    const absl::Status expected = ParseCocoResults("dt.json", bad, one).status();
    ExpectError(expected, absl::StrCat("dt.json: [", odd, "].keypoints: expected 6 numbers"));
    EXPECT_EQ(ParseCocoResults("dt.json", bad, three).status(), expected);
  }
  // An entry that closes the array early leaves text after it: invalid.
  const std::string closed =
      ManyResults(40000, 30000,
                  R"({"image_id": 1, "category_id": 1, "keypoints": [1,2,3,4,5,6], "score": 1}])");
  ExpectError(ParseCocoResults("dt.json", closed, three).status(), "invalid JSON");
  // Invalid JSON near the end keeps its position.
  std::string broken = ManyResults(40000);
  broken[broken.size() - 10] = '#';
  const absl::Status invalid = ParseCocoResults("dt.json", broken, one).status();
  ExpectError(invalid, "invalid JSON");
  EXPECT_EQ(ParseCocoResults("dt.json", broken, three).status(), invalid);
  // Members other than the four (here with a comma between braces inside a
  // string) take the DOM path: the same results, and the members kept.
  const std::string noted = ManyResults(40000, -1, "", R"(, "note": ["},{"])");
  absl::StatusOr<std::vector<KeypointResult>> c = ParseCocoResults("dt.json", noted, three);
  ASSERT_TRUE(c.ok()) << c.status();
  ExpectSameResults(*a, *c);
  ASSERT_EQ((*c)[12345].extra.size(), 1u);
  EXPECT_EQ((*c)[12345].extra[0].second, R"(["},{"])");
  EXPECT_FALSE(ParsePlainCocoResults(noted, three).has_value());
}

// Braces are counted before the plain reader allocates a pose for each:
// more than a plain file can hold is refused first (here the poses would take
// 200 GB).
TEST(CocoIoTest, AFloodOfBracesIsNotAllocatedFor) {
  ResultsReadOptions options;
  options.num_keypoints = 1000;
  const std::string text = "[" + std::string(8 << 20, '{') + "]";
  EXPECT_FALSE(ParsePlainCocoResults(text, options).has_value());
  EXPECT_FALSE(ParseCocoResults("dt.json", text, options).ok());
}

TEST(CocoIoTest, ResultColumnsNameAPoseOfTheWrongSize) {
  std::vector<KeypointResult> results(3);
  for (KeypointResult& result : results) result.keypoints.resize(2);
  results[1].keypoints.resize(3);
  ExpectError(ToResultColumns("dt.json", results, 2).status(),
              "dt.json: [1].keypoints: has 3 keypoints, the schema 2");
  results[1].keypoints.resize(2);
  results[2].keypoints[1].y = 5;
  const KeypointResultColumns columns = OrFail(ToResultColumns("dt.json", results, 2));
  ASSERT_EQ(columns.size(), 3u);
  EXPECT_EQ(columns.pose(2)[1].y, 5);
  EXPECT_EQ(columns.pose(1).size(), 2u);
}

// The fast reader and the DOM reader agree on every number form, to the
// bit: both read a file, once plain and once with a member only the DOM
// path reads.
TEST(CocoIoTest, FastAndDomReadersAgreeOnEveryNumber) {
  const std::vector<std::string> numbers = {"0",
                                            "-0",
                                            "0.0",
                                            "-0.0",
                                            "1e2",
                                            "1E-2",
                                            "-1.5e+3",
                                            "0.1",
                                            "5e-324",
                                            "1.7976931348623157e308",
                                            "3.14159265358979323846264338327950288",
                                            "123456789012345678",
                                            "-9223372036854775808",
                                            "9223372036854775807",
                                            "12345678901234567890",
                                            "123456789012345678901234567890",
                                            "2.2250738585072011e-308",
                                            "7.0",
                                            "1e-400"};
  ResultsReadOptions options;
  options.num_keypoints = 1;
  for (const std::string& number : numbers) {
    for (const std::string& id : {std::string("7"), std::string("7.0"), number}) {
      const std::string entry =
          absl::StrCat(R"({"image_id": )", id, R"(, "category_id": 1, "keypoints": [)", number,
                       ", ", number, R"(, 2], "score": )", number);
      absl::StatusOr<std::vector<KeypointResult>> fast =
          ParseCocoResults("dt.json", absl::StrCat("[", entry, "}]"), options);
      absl::StatusOr<std::vector<KeypointResult>> dom =
          ParseCocoResults("dt.json", absl::StrCat("[", entry, R"(, "x": 0}])"), options);
      ASSERT_EQ(fast.ok(), dom.ok()) << number << " " << fast.status() << " " << dom.status();
      if (!fast.ok()) {
        EXPECT_EQ(fast.status().message(), dom.status().message());
        continue;
      }
      ExpectSameResults(*fast, *dom);
      EXPECT_EQ(std::signbit((*fast)[0].score), std::signbit((*dom)[0].score)) << number;
    }
  }
  // A member name spelled with escapes is the same name (json.load reads it so).
  absl::StatusOr<std::vector<KeypointResult>> escaped = ParseCocoResults(
      "dt.json", R"([{"image\u005fid": 7, "category_id": 1, "keypoints": [1, 2, 2], "score": 1}])",
      options);
  absl::StatusOr<std::vector<KeypointResult>> plain = ParseCocoResults(
      "dt.json", R"([{"image_id": 7, "category_id": 1, "keypoints": [1, 2, 2], "score": 1}])",
      options);
  ASSERT_TRUE(escaped.ok()) << escaped.status();
  ASSERT_TRUE(plain.ok()) << plain.status();
  ExpectSameResults(*escaped, *plain);
  // Malformed text is refused: a fast reader that accepted any would make it a success.
  const std::string entry =
      R"({"image_id": 1, "category_id": 1, "keypoints": [1, 2, 2], "score": 1})";
  for (const std::string& text :
       {absl::StrCat("[", entry, ",]"), absl::StrCat("[,", entry, "]"),
        absl::StrCat("[", entry, " ", entry, "]"), absl::StrCat("[", entry, ",,", entry, "]"),
        absl::StrCat("[", entry, "]]"), absl::StrCat("[", entry, "] x"),
        absl::StrCat("[", entry.substr(0, entry.size() - 1), "]"),
        std::string(R"([{"image_id": 1, "category_id": 1, "keypoints": [1, 2, 2], "score": 1,}])"),
        std::string(R"([{"image_id": 1 "category_id": 1, "keypoints": [1, 2, 2], "score": 1}])"),
        std::string(R"([{"image_id": 1, "category_id": 1, "keypoints": [1, 2 2], "score": 1}])"),
        std::string(R"([{"image_id": 1, "category_id": 1, "keypoints": [1, 2, 2], "score": 01}])"),
        std::string(R"([{"image_id": 1, "category_id": 1, "keypoints": [1, 2, 2], "score": 1.}])"),
        std::string("[{\"image_id\": 1, \"category_id\": 1, \"keypoints\": [1, 2, 2], "
                    "\"score\": 1, \"\xff\": 0}]")}) {
    absl::StatusOr<std::vector<KeypointResult>> read = ParseCocoResults("dt.json", text, options);
    EXPECT_FALSE(read.ok()) << text;
  }
  // As Python's json reads them: an integer zero has no sign, a real one does.
  auto first_x = [&](const std::string& number) {
    return (*ParseCocoResults("dt.json",
                              absl::StrCat(R"([{"image_id": 1, "category_id": 1, "keypoints": [)",
                                           number, R"(, 0, 2], "score": 1}])"),
                              options))[0]
        .keypoints[0]
        .x;
  };
  EXPECT_FALSE(std::signbit(first_x("-0")));
  EXPECT_TRUE(std::signbit(first_x("-0.0")));
}

TEST(CocoIoTest, EmptyResultArrayIsValid) {
  absl::StatusOr<std::vector<KeypointResult>> results = ParseCocoResults("dt.json", "[]");
  ASSERT_TRUE(results.ok());
  EXPECT_TRUE(results->empty());
}

TEST(CocoIoTest, IndexesAndGroups) {
  absl::StatusOr<CocoDataset> dataset = ReadCocoDataset(kFixtureGt);
  ASSERT_TRUE(dataset.ok());
  const auto index = IndexImages(*dataset);
  EXPECT_EQ(index.size(), dataset->images.size());
  const auto groups = GroupAnnotationsByImage(*dataset);
  size_t total = 0;
  for (const auto& [image_id, members] : groups) {
    EXPECT_TRUE(index.contains(image_id));
    for (int a : members) EXPECT_EQ(dataset->annotations[a].image_id, image_id);
    total += members.size();
  }
  EXPECT_EQ(total, dataset->annotations.size());
}

TEST(CocoIoTest, MissingFileNamesThePath) {
  absl::StatusOr<CocoDataset> dataset = ReadCocoDataset("testdata/nope.json");
  ASSERT_FALSE(dataset.ok());
  EXPECT_NE(dataset.status().message().find("testdata/nope.json"), std::string::npos);
}

TEST(CocoIoTest, NumbersAreCorrectlyRoundedWhateverTheirLength) {
  // RapidJSON 1.1.0's full-precision conversion crashed on the first
  // (found by coco_json_fuzzer; Tencent/rapidjson#1251) and misrounded the
  // second (#2326); each must be the value Python's float() gives.
  absl::StatusOr<std::vector<KeypointResult>> results =
      ParseCocoResults("dt.json",
                       R"([{"image_id": 1, "category_id": 1, "score": 0.184467440737095516159,
           "keypoints": [128.74836467836484838364836483643636483648e-336, 2.220446049250313e-16,
                         3, 5E-830040, 1e-400, 0]}])",
                       TwoKeypoints());
  ASSERT_TRUE(results.ok()) << results.status();
  EXPECT_EQ((*results)[0].score, 0.18446744073709551);
  EXPECT_EQ((*results)[0].keypoints[0].x, 0.0);
  EXPECT_EQ((*results)[0].keypoints[0].y, 2.220446049250313e-16);
  EXPECT_EQ((*results)[0].keypoints[1].x, 0.0);
  ExpectError(ParseCocoResults("dt.json", R"([{"image_id": 1, "keypoints": [1e400]}])").status(),
              "dt.json: line 1, column");
  // Integers stay integers, beyond int64 too.
  absl::StatusOr<CocoDataset> big =
      ParseCocoDataset("gt.json", R"({"images": [{"id": 9007199254740993}], "annotations": []})");
  ASSERT_TRUE(big.ok()) << big.status();
  EXPECT_EQ(big->images[0].id, 9007199254740993);
}

}  // namespace
}  // namespace posefix
