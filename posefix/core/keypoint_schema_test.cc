#include "posefix/core/keypoint_schema.h"

#include <cstdlib>
#include <fstream>
#include <string>

#include "gtest/gtest.h"
#include "posefix/core/coco_io.h"

namespace posefix {
namespace {

TEST(KeypointSchemaTest, BuiltinSchemasHaveTheirDatasetsSizes) {
  EXPECT_EQ(CocoSchema().keypoint_names_size(), 17);
  EXPECT_EQ(CrowdPoseSchema().keypoint_names_size(), 14);
  EXPECT_EQ(MpiiSchema().keypoint_names_size(), 16);
  EXPECT_EQ(PoseTrackSchema().keypoint_names_size(), 17);
  EXPECT_EQ(CocoSchema().flip_pairs_size(), 8);
  EXPECT_EQ(CrowdPoseSchema().flip_pairs_size(), 6);
  EXPECT_EQ(MpiiSchema().flip_pairs_size(), 6);
  EXPECT_EQ(CocoSchema().skeleton_size(), 19);
}

TEST(KeypointSchemaTest, CocoSigmasAreCocoapis) {
  const std::vector<double> expected = {.026, .025, .025, .035, .035, .079, .079, .072, .072,
                                        .062, .062, .107, .107, .087, .087, .089, .089};
  EXPECT_EQ(Sigmas(CocoSchema()), expected);
}

TEST(KeypointSchemaTest, EveryBuiltinValidatesAndFlipIsAnInvolution) {
  for (const std::string& name : BuiltinSchemaNames()) {
    absl::StatusOr<const KeypointSchema*> schema = BuiltinSchema(name);
    ASSERT_TRUE(schema.ok()) << schema.status();
    EXPECT_TRUE(ValidateKeypointSchema(**schema, name).ok());
    const std::vector<int> flip = FlipPermutation(**schema);
    for (int j = 0; j < static_cast<int>(flip.size()); ++j) {
      EXPECT_EQ(flip[flip[j]], j) << name << " keypoint " << j;
      // Left/right pairs share a sigma: OKS must not change under flipping.
      EXPECT_EQ((*schema)->sigmas(j), (*schema)->sigmas(flip[j])) << name << " keypoint " << j;
    }
  }
}

TEST(KeypointSchemaTest, CocoFlipPairsLeftToRight) {
  const std::vector<int> flip = FlipPermutation(CocoSchema());
  EXPECT_EQ(flip[0], 0);
  EXPECT_EQ(flip[1], 2);
  EXPECT_EQ(flip[5], 6);
  EXPECT_EQ(flip[16], 15);
  const auto& names = CocoSchema().keypoint_names();
  for (int j = 0; j < 17; ++j) {
    std::string mirrored = names[flip[j]];
    if (mirrored.rfind("left_", 0) == 0)
      mirrored.replace(0, 5, "right_");
    else if (mirrored.rfind("right_", 0) == 0)
      mirrored.replace(0, 6, "left_");
    EXPECT_EQ(mirrored, names[j]);
  }
}

TEST(KeypointSchemaTest, MpiiPairsMatchTheReference) {
  // MPII's published pairs: (0,5)(1,4)(2,3)(10,15)(11,14)(12,13).
  const std::vector<int> flip = FlipPermutation(MpiiSchema());
  const std::vector<int> expected = {5, 4, 3, 2, 1, 0, 6, 7, 8, 9, 15, 14, 13, 12, 11, 10};
  EXPECT_EQ(flip, expected);
}

TEST(KeypointSchemaTest, PoseTrackIgnoresEars) {
  const auto& ignored = PoseTrackSchema().ignored_keypoints();
  ASSERT_EQ(ignored.size(), 2);
  EXPECT_EQ(PoseTrackSchema().keypoint_names(ignored[0]), "left_ear");
  EXPECT_EQ(PoseTrackSchema().keypoint_names(ignored[1]), "right_ear");
}

TEST(KeypointSchemaTest, UnknownBuiltinIsAnError) {
  absl::StatusOr<const KeypointSchema*> schema = BuiltinSchema("h36m");
  ASSERT_FALSE(schema.ok());
  EXPECT_NE(schema.status().message().find("h36m"), std::string::npos);
}

TEST(KeypointSchemaTest, ValidationNamesTheField) {
  KeypointSchema schema = CocoSchema();
  schema.mutable_sigmas()->RemoveLast();
  absl::Status status = ValidateKeypointSchema(schema, "my.pbtxt");
  EXPECT_EQ(status.message(), "my.pbtxt: sigmas: has 16 values for 17 keypoints");

  schema = CocoSchema();
  schema.set_sigmas(3, -0.1);
  EXPECT_NE(ValidateKeypointSchema(schema, "s").message().find("sigmas[3]"), std::string::npos);

  schema = CocoSchema();
  schema.mutable_flip_pairs(2)->set_right(17);
  EXPECT_NE(ValidateKeypointSchema(schema, "s").message().find("flip_pairs[2]"), std::string::npos);

  schema = CocoSchema();
  schema.add_flip_pairs()->set_left(1);  // keypoint 1 is already paired with 2
  schema.mutable_flip_pairs(8)->set_right(0);
  EXPECT_NE(ValidateKeypointSchema(schema, "s").message().find("two flip pairs"),
            std::string::npos);

  schema = CocoSchema();
  schema.mutable_skeleton(0)->set_to(-1);
  EXPECT_NE(ValidateKeypointSchema(schema, "s").message().find("skeleton[0]"), std::string::npos);
}

TEST(KeypointSchemaTest, LoadsACustomSchemaFromTextFormat) {
  const std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/hand.pbtxt";
  std::ofstream(path) << "name: \"three\"\nkeypoint_names: [\"a\", \"b\", \"c\"]\n"
                         "sigmas: [0.1, 0.2, 0.1]\nflip_pairs { left: 0 right: 2 }\n";
  absl::StatusOr<KeypointSchema> schema = LoadKeypointSchema(path);
  ASSERT_TRUE(schema.ok()) << schema.status();
  EXPECT_EQ(FlipPermutation(*schema), (std::vector<int>{2, 1, 0}));
}

TEST(KeypointSchemaTest, ResolvesABuiltinNameOrAFileRelativeToItsBase) {
  absl::StatusOr<KeypointSchema> builtin = ResolveKeypointSchema("mpii", "/nowhere");
  ASSERT_TRUE(builtin.ok()) << builtin.status();
  EXPECT_EQ(builtin->keypoint_names_size(), 16);

  const std::string dir = std::getenv("TEST_TMPDIR");
  std::ofstream(dir + "/two.pbtxt") << "name: \"two\"\nkeypoint_names: [\"a\", \"b\"]\n"
                                       "sigmas: [0.1, 0.2]\n";
  for (const auto& [name, base] : std::vector<std::pair<std::string, std::string>>{
           {"two.pbtxt", dir}, {dir + "/two.pbtxt", "/nowhere"}, {dir + "/two.pbtxt", ""}}) {
    absl::StatusOr<KeypointSchema> file = ResolveKeypointSchema(name, base);
    ASSERT_TRUE(file.ok()) << name << " in " << base << ": " << file.status();
    EXPECT_EQ(file->name(), "two");
  }

  absl::StatusOr<KeypointSchema> unknown = ResolveKeypointSchema("cocoo", dir);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("'cocoo'"), std::string::npos) << unknown.status();
  EXPECT_NE(unknown.status().message().find("coco, crowdpose, mpii, posetrack"), std::string::npos);
  EXPECT_NE(unknown.status().message().find(dir + "/cocoo"), std::string::npos);
}

TEST(KeypointSchemaTest, LoadRejectsUnknownFieldsWithFileAndLine) {
  const std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/bad.pbtxt";
  std::ofstream(path) << "name: \"x\"\nkeypoint_nmes: [\"a\"]\n";
  absl::StatusOr<KeypointSchema> schema = LoadKeypointSchema(path);
  ASSERT_FALSE(schema.ok());
  EXPECT_NE(schema.status().message().find("bad.pbtxt"), std::string::npos);
  EXPECT_NE(schema.status().message().find("line 2"), std::string::npos);
  EXPECT_NE(schema.status().message().find("keypoint_nmes"), std::string::npos);
}

// Each schema reads its dataset's real annotation file: same keypoint names
// in the same order, and every annotation has the schema's keypoint count.
TEST(KeypointSchemaTest, SchemasReadTheirDatasetsFiles) {
  const std::vector<std::pair<std::string, const KeypointSchema*>> cases = {
      {"testdata/other/test_crowdpose.json", &CrowdPoseSchema()},
      {"testdata/other/test_posetrack18_val.json", &PoseTrackSchema()},
      {"testdata/other/test_ochuman.json", &CocoSchema()},
  };
  for (const auto& [path, schema] : cases) {
    CocoReadOptions options;
    options.num_keypoints = schema->keypoint_names_size();
    absl::StatusOr<CocoDataset> dataset = ReadCocoDataset(path, options);
    ASSERT_TRUE(dataset.ok()) << dataset.status();
    ASSERT_EQ(dataset->categories.size(), 1u) << path;
    const std::vector<std::string> names(schema->keypoint_names().begin(),
                                         schema->keypoint_names().end());
    EXPECT_EQ(dataset->categories[0].keypoints, names) << path;
    ASSERT_FALSE(dataset->annotations.empty()) << path;
    for (const PersonAnnotation& annotation : dataset->annotations) {
      EXPECT_EQ(static_cast<int>(annotation.keypoints.size()), schema->keypoint_names_size());
    }
  }
}

TEST(KeypointSchemaTest, PoseTrackNeverLabelsItsIgnoredKeypoints) {
  absl::StatusOr<CocoDataset> dataset = ReadCocoDataset("testdata/other/test_posetrack18_val.json");
  ASSERT_TRUE(dataset.ok()) << dataset.status();
  for (const PersonAnnotation& annotation : dataset->annotations) {
    for (int ignored : PoseTrackSchema().ignored_keypoints()) {
      EXPECT_EQ(annotation.keypoints[ignored].v, 0) << "annotation " << annotation.id;
    }
  }
}

}  // namespace
}  // namespace posefix
