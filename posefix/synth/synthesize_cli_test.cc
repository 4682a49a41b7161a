// Runs the synthesize binary as a user would, on good and bad input.
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "gtest/gtest.h"
#include "posefix/core/coco_io.h"
#include "posefix/core/file_util.h"
#include "posefix/core/test_util.h"

namespace posefix {
namespace {

constexpr char kFixtureGt[] = "testdata/coco/annotations/person_keypoints_val2017_fixture.json";

std::string TempPath(const std::string& name) {
  return std::string(std::getenv("TEST_TMPDIR")) + "/" + name;
}

struct RunResult {
  int exit_code = -1;
  std::string output;
};

RunResult RunSynthesize(const std::string& args) {
  RunResult result;
  FILE* pipe = popen(("posefix/synth/synthesize " + args + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) result.output.append(buffer, n);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

void ExpectFailure(const std::string& args, const std::string& out,
                   const std::vector<std::string>& fragments) {
  const RunResult run = RunSynthesize(args);
  EXPECT_NE(run.exit_code, 0) << args;
  for (const std::string& fragment : fragments) {
    EXPECT_NE(run.output.find(fragment), std::string::npos)
        << "expected '" << fragment << "' in: " << run.output;
  }
  if (!out.empty()) EXPECT_FALSE(std::filesystem::exists(out)) << out << " was written";
  // Nothing half-written either.
  for (const auto& entry : std::filesystem::directory_iterator(std::getenv("TEST_TMPDIR"))) {
    EXPECT_EQ(entry.path().filename().string().find(".tmp"), std::string::npos) << entry.path();
  }
}

TEST(SynthesizeCliTest, WritesOnePosePerPersonReproducibly) {
  const std::string a = TempPath("a.json"), b = TempPath("b.json"), c = TempPath("c.json");
  ASSERT_EQ(
      RunSynthesize("--gt=" + std::string(kFixtureGt) + " --out=" + a + " --seed=9").exit_code, 0);
  ASSERT_EQ(
      RunSynthesize("--gt=" + std::string(kFixtureGt) + " --out=" + b + " --seed=9").exit_code, 0);
  ASSERT_EQ(
      RunSynthesize("--gt=" + std::string(kFixtureGt) + " --out=" + c + " --seed=10").exit_code, 0);
  EXPECT_EQ(OrFail(ReadFileToString(a)), OrFail(ReadFileToString(b)));
  EXPECT_NE(OrFail(ReadFileToString(a)), OrFail(ReadFileToString(c)));

  absl::StatusOr<CocoDataset> gt = ReadCocoDataset(kFixtureGt);
  ASSERT_TRUE(gt.ok());
  ResultsReadOptions options;
  options.ground_truth = &*gt;
  absl::StatusOr<std::vector<KeypointResult>> results = ReadCocoResults(a, options);
  ASSERT_TRUE(results.ok()) << results.status();
  int persons = 0;
  for (const PersonAnnotation& person : gt->annotations) persons += person.iscrowd ? 0 : 1;
  ASSERT_EQ(static_cast<int>(results->size()), persons);
  for (const KeypointResult& result : *results) {
    EXPECT_EQ(result.score, 1);
    EXPECT_EQ(result.category_id, 1);
    EXPECT_EQ(result.keypoints.size(), 17u);
  }
}

TEST(SynthesizeCliTest, BadInputFailsNamingFileAndField) {
  const std::string out = TempPath("out.json");
  ExpectFailure("--out=" + out, out, {"--gt"});
  ExpectFailure("--gt=" + std::string(kFixtureGt), "", {"--out"});
  ExpectFailure("--gt=/nonexistent/gt.json --out=" + out, out, {"/nonexistent/gt.json"});
  ExpectFailure("--gt=" + std::string(kFixtureGt) + " --out=" + out + " --area=mask", out,
                {"--area"});
  ExpectFailure("--gt=" + std::string(kFixtureGt) + " --out=" + out + " --schema=cats", out,
                {"--schema", "cats"});

  // Malformed ground truth: too few keypoints; a non-positive area.
  const std::string header =
      R"({"images": [{"id": 1, "file_name": "a.jpg", "width": 640, "height": 480}],
          "categories": [{"id": 1, "name": "person"}],
          "annotations": [{"id": 5, "image_id": 1, "category_id": 1, "iscrowd": 0,
                           "bbox": [10, 10, 50, 100], )";
  std::string keypoints = "[";
  for (int j = 0; j < 17; ++j) keypoints += std::string(j ? "," : "") + "20, 30, 2";
  keypoints += "]";
  const std::string short_gt = TempPath("short.json");
  ASSERT_TRUE(
      WriteFileAtomically(short_gt, header + R"("area": 900, "keypoints": [1, 2, 2]}]})").ok());
  ExpectFailure("--gt=" + short_gt + " --out=" + out, out, {short_gt, "annotations[0].keypoints"});
  const std::string zero_area = TempPath("zero_area.json");
  ASSERT_TRUE(
      WriteFileAtomically(zero_area, header + R"("area": 0, "keypoints": )" + keypoints + "}]}")
          .ok());
  ExpectFailure("--gt=" + zero_area + " --out=" + out, out, {zero_area, "annotations[0].area"});
  // With the box area that file is fine.
  EXPECT_EQ(RunSynthesize("--gt=" + zero_area + " --out=" + out + " --area=box").exit_code, 0);
  std::filesystem::remove(out);

  // A bad ErrorModel names its file and field.
  const std::string model = TempPath("model.pbtxt");
  ASSERT_TRUE(WriteFileAtomically(model, "jitter_ks: 0.95\n").ok());
  ExpectFailure("--gt=" + std::string(kFixtureGt) + " --out=" + out + " --error_model=" + model,
                out, {model + ": jitter_ks:"});
  ASSERT_TRUE(WriteFileAtomically(model, "jitter_kss: 0.4\n").ok());
  ExpectFailure("--gt=" + std::string(kFixtureGt) + " --out=" + out + " --error_model=" + model,
                out, {model, "jitter_kss"});
}

}  // namespace
}  // namespace posefix
