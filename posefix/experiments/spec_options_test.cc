#include "posefix/experiments/spec_options.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "posefix/core/test_util.h"
#include "posefix/core/text_proto.h"

namespace posefix {
namespace {

using ::testing::HasSubstr;

ExperimentSpec Spec(const std::string& text) {
  ExperimentSpec spec;
  EXPECT_TRUE(ParseTextProto("spec.pbtxt", text, &spec).ok()) << text;
  return spec;
}

TEST(SpecOptionsTest, TheModeAndTheSchemaCompleteTheNetwork) {
  EXPECT_FALSE(
      OrFail(ResolveSpecModelOptions(Spec("training { mode: ESTIMATOR }"), 17, "spec.pbtxt"))
          .has_pose_input());
  EXPECT_EQ(OrFail(ResolveSpecModelOptions(Spec(""), 17, "spec.pbtxt")).input_encoding,
            POSE_INPUT_COARSE);
  EXPECT_EQ(OrFail(ResolveSpecModelOptions(Spec(""), 14, "spec.pbtxt")).num_keypoints, 14);
  EXPECT_EQ(OrFail(ResolveSpecModelOptions(Spec(""), 0, "spec.pbtxt")).num_keypoints, 17);
  EXPECT_THAT(ResolveSpecModelOptions(Spec("model { num_keypoints: 16 }"), 14, "spec.pbtxt")
                  .status()
                  .message(),
              HasSubstr("spec.pbtxt: model.num_keypoints"));
  EXPECT_THAT(ResolveSpecModelOptions(Spec("model { resnet_depth: 3 }"), 17, "spec.pbtxt")
                  .status()
                  .message(),
              HasSubstr("spec.pbtxt: model: resnet_depth"));
}

TEST(SpecOptionsTest, DataCropsAtTheModelsSizeWithDefaults) {
  const ExperimentSpec spec = Spec(
      "model { input_height: 96 input_width: 64 } data { flip_probability: 0 num_threads: 3 }");
  const ResolvedModelOptions model = OrFail(ResolveSpecModelOptions(spec, 17, "spec.pbtxt"));
  const DataOptions data = OrFail(ResolveSpecDataOptions(spec, model, "spec.pbtxt"));
  EXPECT_EQ(data.input_height(), 96);
  EXPECT_EQ(data.input_width(), 64);
  // Given as 0, it is 0: no flips.
  EXPECT_TRUE(data.has_flip_probability());
  EXPECT_EQ(data.flip_probability(), 0);
  EXPECT_EQ(data.num_threads(), 3);
  EXPECT_FLOAT_EQ(data.box_scale(), 1.25);
  EXPECT_EQ(data.queue_capacity(), 64);

  const ExperimentSpec other_size = Spec(
      "model { input_height: 96 input_width: 64 } "
      "data { input_height: 128 }");
  EXPECT_THAT(ResolveSpecDataOptions(other_size, model, "spec.pbtxt").status().message(),
              HasSubstr("spec.pbtxt: data.input_height: must be unset or equal"));
  const ExperimentSpec bad = Spec("data { flip_probability: 2 }");
  EXPECT_THAT(ResolveSpecDataOptions(bad, model, "spec.pbtxt").status().message(),
              HasSubstr("spec.pbtxt: data.flip_probability"));
}

}  // namespace
}  // namespace posefix
