#include "posefix/synth/error_model.h"

#include <cstdlib>
#include <string>

#include "gtest/gtest.h"
#include "posefix/core/file_util.h"
#include "posefix/core/keypoint_schema.h"
#include "posefix/core/text_proto.h"

namespace posefix {
namespace {

constexpr int kGood = 0, kJitter = 1, kInversion = 2, kSwap = 3, kMiss = 4;

ErrorModel ParseModel(const std::string& text) {
  ErrorModel model;
  absl::Status parsed = ParseTextProto("test", text, &model);
  EXPECT_TRUE(parsed.ok()) << parsed;
  return model;
}

void ExpectFieldError(const std::string& text, const std::string& field) {
  absl::StatusOr<ErrorModel> model = CompleteErrorModel(ParseModel(text), CocoSchema(), "m.pbtxt");
  ASSERT_FALSE(model.ok()) << "expected an error naming " << field << " for: " << text;
  EXPECT_EQ(model.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string message(model.status().message());
  EXPECT_EQ(message.rfind("m.pbtxt: " + field + ":", 0), 0u) << message;
}

TEST(ErrorModelTest, DefaultsAreTheReleaseValues) {
  const ErrorModel model;
  EXPECT_DOUBLE_EQ(model.good_ks(), 0.85);
  EXPECT_DOUBLE_EQ(model.jitter_ks(), 0.5);
  EXPECT_DOUBLE_EQ(model.miss_ks(), 0.1);
  EXPECT_EQ(model.good_candidates(), 125);
  EXPECT_EQ(model.jitter_candidates(), 500);
  EXPECT_EQ(model.inversion_candidates(), 500);
  EXPECT_EQ(model.swap_candidates_per_source(), 500);
  EXPECT_EQ(model.miss_candidates_per_source(), 2000);
  EXPECT_DOUBLE_EQ(model.miss_other_source_fraction(), 0.25);
  EXPECT_DOUBLE_EQ(model.overlap_iou(), 0.1);
  EXPECT_TRUE(ValidateErrorModel(ReleaseErrorModel(), CocoSchema(), "release").ok());
}

TEST(ErrorModelTest, ReleaseTablesGiveThePublishedProbabilities) {
  absl::StatusOr<ErrorModel> model = CompleteErrorModel(ErrorModel(), CocoSchema(), "default");
  ASSERT_TRUE(model.ok()) << model.status();
  const CompiledStatusTables tables(*model);

  // Nose of a fully labelled person alone in the image.
  StatusProbabilities p = tables.Probabilities(0, 17, 0);
  EXPECT_DOUBLE_EQ(p[kJitter], 0.10);
  EXPECT_DOUBLE_EQ(p[kMiss], 0.02);
  EXPECT_DOUBLE_EQ(p[kInversion], 0.01);
  EXPECT_DOUBLE_EQ(p[kSwap], 0.01);
  EXPECT_NEAR(p[kGood], 0.86, 1e-12);

  // Left hip, 5 labelled joints, one overlapping person: the worst case.
  p = tables.Probabilities(11, 5, 1);
  EXPECT_DOUBLE_EQ(p[kJitter], 0.25);
  EXPECT_DOUBLE_EQ(p[kMiss], 0.25);
  EXPECT_DOUBLE_EQ(p[kInversion], 0.06);
  EXPECT_DOUBLE_EQ(p[kSwap], 0.10);
  EXPECT_NEAR(p[kGood], 0.34, 1e-12);

  // Miss groups: shoulders and ankles are {5, 6, 15, 16}; elbows "others".
  EXPECT_DOUBLE_EQ(tables.Probabilities(15, 8, 0)[kMiss], 0.13);
  EXPECT_DOUBLE_EQ(tables.Probabilities(7, 8, 0)[kMiss], 0.15);
  EXPECT_DOUBLE_EQ(tables.Probabilities(2, 8, 0)[kMiss], 0.10);
  EXPECT_DOUBLE_EQ(tables.Probabilities(7, 11, 0)[kMiss], 0.10);
  // Jitter groups: the nose goes with the legs, shoulders with the head.
  EXPECT_DOUBLE_EQ(tables.Probabilities(14, 10, 0)[kJitter], 0.15);
  EXPECT_DOUBLE_EQ(tables.Probabilities(5, 10, 0)[kJitter], 0.20);
  EXPECT_DOUBLE_EQ(tables.Probabilities(5, 11, 0)[kJitter], 0.15);

  // Swap: (n <= 10 and o > 0) or (n <= 15 and o >= 3).
  EXPECT_DOUBLE_EQ(tables.Probabilities(9, 10, 1)[kSwap], 0.15);
  EXPECT_DOUBLE_EQ(tables.Probabilities(9, 10, 0)[kSwap], 0.06);
  EXPECT_DOUBLE_EQ(tables.Probabilities(9, 12, 2)[kSwap], 0.06);
  EXPECT_DOUBLE_EQ(tables.Probabilities(9, 15, 3)[kSwap], 0.15);
  EXPECT_DOUBLE_EQ(tables.Probabilities(9, 16, 3)[kSwap], 0.06);
  EXPECT_DOUBLE_EQ(tables.Probabilities(13, 3, 4)[kSwap], 0.10);
  EXPECT_DOUBLE_EQ(tables.Probabilities(13, 17, 4)[kSwap], 0.03);
  EXPECT_DOUBLE_EQ(tables.Probabilities(1, 17, 4)[kInversion], 0.01);
}

TEST(ErrorModelTest, AFileOverridesOnlyWhatItNames) {
  const std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/model.pbtxt";
  ASSERT_TRUE(WriteFileAtomically(path, R"pb(
                good_ks: 0.9
                inversion {
                  groups { joints: [ 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 ] }
                  rules { probability: 0.2 }
                }
              )pb")
                  .ok());
  absl::StatusOr<ErrorModel> model = LoadErrorModel(path, CocoSchema());
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_DOUBLE_EQ(model->good_ks(), 0.9);
  EXPECT_DOUBLE_EQ(model->jitter_ks(), 0.5);
  const CompiledStatusTables tables(*model);
  EXPECT_DOUBLE_EQ(tables.Probabilities(3, 17, 0)[kInversion], 0.2);
  EXPECT_DOUBLE_EQ(tables.Probabilities(3, 17, 0)[kJitter], 0.15);  // release table kept
}

TEST(ErrorModelTest, FileErrorsNameTheFile) {
  const std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/bad.pbtxt";
  ASSERT_TRUE(WriteFileAtomically(path, "good_kss: 0.9\n").ok());
  absl::StatusOr<ErrorModel> model = LoadErrorModel(path, CocoSchema());
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.status().message().find(path), std::string::npos) << model.status();
  EXPECT_NE(model.status().message().find("good_kss"), std::string::npos) << model.status();

  ASSERT_TRUE(WriteFileAtomically(path, "miss_ks: 0.7\n").ok());
  model = LoadErrorModel(path, CocoSchema());
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(std::string(model.status().message()).rfind(path + ": miss_ks:", 0), 0u)
      << model.status();
}

TEST(ErrorModelTest, NonCocoSchemasSupplyTheirOwnGroups) {
  absl::StatusOr<ErrorModel> model = CompleteErrorModel(ErrorModel(), MpiiSchema(), "mpii.pbtxt");
  ASSERT_FALSE(model.ok());
  EXPECT_NE(
      model.status().message().find("mpii.pbtxt: jitter: required for keypoint schema 'mpii'"),
      std::string::npos)
      << model.status();

  // MPII with every keypoint in one group per table.
  const std::string all =
      "groups { joints: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15] }";
  model = CompleteErrorModel(ParseModel("jitter { " + all + " rules { probability: 0.1 } } " +
                                        "miss { " + all + " rules { probability: 0.1 } } " +
                                        "inversion { " + all + " rules { probability: 0.05 } } " +
                                        "swap { " + all + " rules { probability: 0.05 } }"),
                             MpiiSchema(), "mpii.pbtxt");
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_NEAR(CompiledStatusTables(*model).Probabilities(12, 16, 0)[kGood], 0.7, 1e-12);
  EXPECT_TRUE(HasCocoLayout(CocoSchema()));
  EXPECT_FALSE(HasCocoLayout(PoseTrackSchema()));
}

TEST(ErrorModelTest, ValidationNamesTheBadField) {
  ExpectFieldError("good_ks: 1.2", "good_ks");
  ExpectFieldError("good_ks: 0", "good_ks");
  ExpectFieldError("jitter_ks: 0.9", "jitter_ks");
  ExpectFieldError("miss_ks: 0.5", "miss_ks");
  ExpectFieldError("jitter_candidates: 0", "jitter_candidates");
  ExpectFieldError("miss_candidates_per_source: -3", "miss_candidates_per_source");
  ExpectFieldError("miss_other_source_fraction: 1.5", "miss_other_source_fraction");
  ExpectFieldError("overlap_iou: -0.1", "overlap_iou");
  ExpectFieldError("jitter { rules { probability: 0.1 } }", "jitter.groups");
  ExpectFieldError(
      "swap { groups { joints: [0, 1, 2, 3, 4, 5, 6, 7, 8] }"
      "       groups { joints: [8, 9, 10, 11, 12, 13, 14, 15, 16] }"
      "       rules { probability: [0.1, 0.1] } }",
      "swap.groups[1]");
  ExpectFieldError(
      "swap { groups { joints: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15] }"
      "       rules { probability: 0.1 } }",
      "swap.groups");
  ExpectFieldError(
      "miss { groups { joints: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 17] }"
      "       rules { probability: 0.1 } }",
      "miss.groups[0]");
  const std::string all =
      "groups { joints: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16] }";
  ExpectFieldError("miss { " + all + " rules { probability: [0.1, 0.2] } }",
                   "miss.rules[0].probability");
  ExpectFieldError("miss { " + all + " rules { probability: 1.5 } }",
                   "miss.rules[0].probability[0]");
  ExpectFieldError("miss { " + all + " rules { } }", "miss.rules[0].probability");
  ExpectFieldError("miss { " + all + " }", "miss.rules");
  ExpectFieldError("miss { " + all +
                       " rules { when { max_labelled: 5 } probability: 0.1 }"
                       " rules { when { min_labelled: 6 } probability: 0.2 } }",
                   "miss.rules[1]");
  // 0.6 + the release's worst case (jitter .25, inversion .06, swap .10) > 1.
  ExpectFieldError("miss { " + all + " rules { probability: 0.6 } }",
                   "jitter + miss + inversion + swap");
}

}  // namespace
}  // namespace posefix
