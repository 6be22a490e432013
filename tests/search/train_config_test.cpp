#include "search/train_config.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "tests/common/test_support.h"

namespace nas::search {
namespace {

class TrainConfigTest : public test_support::TempDirTest {
 protected:
  std::filesystem::path write(const std::string& text) { return write_text("config.yaml", text); }

  // Loading must fail with a nas::Error for bad input whose message names the file and contains `fragment`.
  void expect_error(const std::string& text, const std::string& fragment) {
    const auto path = write(text);
    try {
      load_train_config(path);
      FAIL() << "expected an error containing '" << fragment << "'";
    } catch (const Error& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find(fragment), std::string::npos) << message;
      EXPECT_NE(message.find(path.string()), std::string::npos) << message;
      EXPECT_EQ(e.kind(), Error::Kind::bad_input);
    }
  }
};

constexpr const char* kValid = R"(
name: tiny
data: {format: synthetic, synthetic: {count: 64, height: 8, width: 8, classes: 3}}
model:
  layers:
    - {type: conv2d, out: 4}
    - {type: global_avg_pool}
    - {type: linear, out: classes}
train: {epochs: 3, batch_size: 16, seed: 4, threads: 1, label_smoothing: 0.1,
        optimizer: {type: adam, weight_decay: 0}, schedule: {type: constant, lr: 0.01}}
)";

TEST_F(TrainConfigTest, ReadsEveryKeyAndAppliesOverrides) {
  TrainOverrides overrides;
  overrides.epochs = 7;
  overrides.seed = 11;
  const TrainConfig config = load_train_config(write(kValid), overrides);
  EXPECT_EQ(config.name, "tiny");
  EXPECT_EQ(config.epochs, 7);
  EXPECT_EQ(config.seed, 11u);
  EXPECT_EQ(config.batch_size, 16);
  EXPECT_EQ(config.threads, 1);
  EXPECT_DOUBLE_EQ(config.label_smoothing, 0.1);
  EXPECT_EQ(config.optimizer.type, "adam");
  EXPECT_EQ(config.schedule.type, "constant");
  EXPECT_EQ(config.data.format, "synthetic");
  // The stored config is what ran: overrides are in it.
  const YAML::Node stored = YAML::Load(config.effective_yaml());
  EXPECT_EQ(stored["train"]["epochs"].as<int>(), 7);
  EXPECT_EQ(stored["train"]["seed"].as<int>(), 11);
}

TEST_F(TrainConfigTest, TheReferenceExperimentLoads) {
  const TrainConfig config =
      load_train_config(std::filesystem::path(MCUNAS_SOURCE_DIR) / "experiments" / "fmnist_cnn.yaml");
  EXPECT_EQ(config.epochs, 10);
  EXPECT_EQ(config.batch_size, 128);
  EXPECT_EQ(config.model["layers"].size(), 11u);
}

TEST_F(TrainConfigTest, MissingFileSaysSo) {
  try {
    load_train_config(dir_ / "nope.yaml");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("config file not found"), std::string::npos) << e.what();
  }
}

TEST_F(TrainConfigTest, BadInputIsReportedWithFileAndKey) {
  expect_error("name: [unclosed", "not valid YAML");
  expect_error("- just\n- a list\n", "expected a YAML map");
  expect_error(std::string(kValid) + "trian: {}\n", "unknown key 'trian'");
  expect_error("model: {layers: [{type: linear, out: classes}]}\n", "missing map 'data'");
  expect_error("data: {format: synthetic}\n", "missing map 'model'");
  std::string bad_epochs = kValid;
  bad_epochs.replace(bad_epochs.find("epochs: 3"), 9, "epochs: -1");
  expect_error(bad_epochs, "train.epochs (line 9): must be >= 1 (got -1)");
  std::string bad_type = kValid;
  bad_type.replace(bad_type.find("batch_size: 16"), 14, "batch_size: lots");
  expect_error(bad_type, "train.batch_size (line 9): expected an integer (got 'lots')");
  std::string bad_key = kValid;
  bad_key.replace(bad_key.find("momentum") == std::string::npos ? bad_key.find("weight_decay") : 0, 12, "weight_decai");
  expect_error(bad_key, "unknown key 'weight_decai'");
}

}  // namespace
}  // namespace nas::search
