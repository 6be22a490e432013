// Calibration against ranges computed here: the test runs the float network itself (same batches, inference mode)
// and reads every node a tensor names. minmax must give exactly the true range widened to include 0 (the logits
// starting at the lowest runner-up logit instead of their minimum); percentile and mse must stay inside it, cut
// off a planted outlier and leave the logits unclipped; percentile leaves at most the allowed tail outside, mse
// picks a range α·[min, max].
#include <gtest/gtest.h>

#include "tests/common/test_support.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "common/error.h"
#include "deploy/calibration.h"
#include "tests/deploy/pipeline_fixtures.h"

namespace nas::deploy {
namespace {

using supernet::Dataset;
using supernet::Network;

// conv + BN + ReLU (a tensor whose minimum is 0), conv + BN without activation (both signs), global average
// pooling, linear.
constexpr const char* kModel = R"(
layers:
  - {type: conv2d, out: 4, kernel: 3, bias: false}
  - {type: batchnorm}
  - {type: relu}
  - {type: conv2d, out: 4, kernel: 3, stride: 2, bias: true}
  - {type: batchnorm}
  - {type: global_avg_pool}
  - {type: linear, out: classes}
)";

Dataset data(int32_t count) {
  supernet::SyntheticSpec spec;
  spec.count = count;
  spec.height = spec.width = 8;
  spec.channels = 1;
  spec.num_classes = 4;
  spec.seed = 9;
  return supernet::make_synthetic(spec);
}

Network network() {
  Network net = testing::network_from_yaml(kModel, {1, 8, 8, 1}, 4);
  testing::randomize_batchnorm_and_biases(net, 41);
  return net;
}

// Every value of every tensor over the first `images` items, forwarded in batches of `batch` as calibrate does
// (the same batches give bit-identical activations).
std::vector<std::vector<float>> activations(Network& net, const FoldedModel& m, const Dataset& d, int32_t images,
                                            int32_t batch) {
  std::vector<std::vector<float>> values(m.tensors.size());
  supernet::Tensor x;
  for (int32_t begin = 0; begin < images; begin += batch) {
    const int32_t n = std::min(batch, images - begin);
    x.resize(d.batch_shape(n));
    std::memcpy(x.data(), d.images.data() + begin * d.item_size(),
                sizeof(float) * static_cast<size_t>(n * d.item_size()));
    net.forward(x, /*training=*/false);
    for (size_t t = 0; t < m.tensors.size(); ++t) {
      const int32_t node = m.tensors[t].node;
      const auto span = node == Network::kInput ? x.span() : net.output(node).span();
      values[t].insert(values[t].end(), span.begin(), span.end());
    }
  }
  return values;
}

CalibrationSpec minmax_spec() {
  CalibrationSpec spec;
  spec.method = "minmax";  // not the default
  return spec;
}

// The smallest second-best logit over all images: logits below it never decide a class.
double lowest_runner_up(const std::vector<float>& logits, size_t classes) {
  double lowest = std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < logits.size(); i += classes) {
    std::vector<float> image(logits.begin() + static_cast<std::ptrdiff_t>(i),
                             logits.begin() + static_cast<std::ptrdiff_t>(i + classes));
    std::sort(image.begin(), image.end());
    lowest = std::min(lowest, static_cast<double>(image[classes - 2]));
  }
  return lowest;
}

TEST(Calibration, MinmaxIsTheTrueRangeWidenedToZero) {
  Dataset d = data(50);
  // Shift the pixels up so the input's true minimum is positive: its range must still start at 0.
  for (float& v : d.images) v += 5.0f;
  Network net = network();
  const FoldedModel m = fold_batchnorm(net);
  CalibrationSpec spec = minmax_spec();
  spec.images = 40;
  spec.batch_size = 16;  // 16 + 16 + 8: several batches, the last one short
  const auto ranges = calibrate(net, m, d, spec);
  ASSERT_EQ(ranges.size(), m.tensors.size());
  const auto values = activations(net, m, d, 40, 16);
  bool saw_negative = false;
  for (size_t t = 0; t < m.tensors.size(); ++t) {
    ASSERT_EQ(values[t].size(), 40U * static_cast<size_t>(m.tensors[t].h * m.tensors[t].w * m.tensors[t].c));
    const auto [lo, hi] = std::minmax_element(values[t].begin(), values[t].end());
    EXPECT_EQ(ranges[t].max, std::max(0.0, static_cast<double>(*hi))) << m.tensors[t].name;
    saw_negative = saw_negative || *lo < 0;
    if (t == static_cast<size_t>(m.output)) continue;  // below
    EXPECT_EQ(ranges[t].min, std::min(0.0, static_cast<double>(*lo))) << m.tensors[t].name;
  }
  // The widening to 0 was exercised: the input is all positive, and some tensor had true negatives.
  const auto input = std::minmax_element(values[static_cast<size_t>(m.input)].begin(),
                                         values[static_cast<size_t>(m.input)].end());
  EXPECT_GT(*input.first, 0.0f);
  EXPECT_EQ(ranges[static_cast<size_t>(m.input)].min, 0.0);
  EXPECT_TRUE(saw_negative);

  // The logits start at the lowest runner-up (never above 0, never below their true minimum), and here that is
  // really above the minimum, so the rule was exercised.
  const std::vector<float>& logits = values[static_cast<size_t>(m.output)];
  const double runner_up = lowest_runner_up(logits, 4);
  const double true_min = *std::min_element(logits.begin(), logits.end());
  EXPECT_EQ(ranges[static_cast<size_t>(m.output)].min, std::min(0.0, std::max(true_min, runner_up)));
  EXPECT_GT(runner_up, true_min);
  EXPECT_LT(runner_up, 0.0);
}

TEST(Calibration, UsesOnlyTheFirstImagesAndCapsAtTheDatasetSize) {
  Dataset d = data(50);
  const int64_t item = d.item_size();
  d.images[static_cast<size_t>(45 * item + 3)] = 77.0f;  // in image 45: after the first 40
  Network net = network();
  const FoldedModel m = fold_batchnorm(net);
  CalibrationSpec spec = minmax_spec();
  spec.images = 40;
  EXPECT_LT(calibrate(net, m, d, spec)[static_cast<size_t>(m.input)].max, 77.0);
  spec.images = 1000;  // more than there are: all 50, so image 45 counts
  EXPECT_EQ(calibrate(net, m, d, spec)[static_cast<size_t>(m.input)].max, 77.0);
}

TEST(Calibration, PercentileClipsAnOutlierAndStaysInsideMinmax) {
  Dataset d = data(64);
  const int64_t item = d.item_size();
  d.images[static_cast<size_t>(3 * item + 10)] = 1000.0f;  // one pixel far beyond the others
  Network net = network();
  const FoldedModel m = fold_batchnorm(net);
  CalibrationSpec minmax = minmax_spec();
  minmax.images = 64;
  minmax.batch_size = 32;
  CalibrationSpec percentile = minmax;
  percentile.method = "percentile";
  percentile.percentile = 99.0;
  const auto full = calibrate(net, m, d, minmax);
  const auto clipped = calibrate(net, m, d, percentile);
  ASSERT_EQ(clipped.size(), full.size());
  const size_t in = static_cast<size_t>(m.input);
  EXPECT_EQ(full[in].max, 1000.0);
  EXPECT_LT(clipped[in].max, 10.0);  // the other pixels are O(1); the outlier no longer sets the scale

  const auto values = activations(net, m, d, 64, 32);
  for (size_t t = 0; t < m.tensors.size(); ++t) {
    const std::string& name = m.tensors[t].name;
    if (t == static_cast<size_t>(m.output)) {  // the logits keep their minmax range: clipping would tie classes
      EXPECT_EQ(clipped[t].min, full[t].min);
      EXPECT_EQ(clipped[t].max, full[t].max);
      continue;
    }
    EXPECT_LE(clipped[t].min, 0.0) << name;
    EXPECT_GE(clipped[t].max, 0.0) << name;
    EXPECT_GE(clipped[t].min, full[t].min) << name;
    // The top edge of the last histogram bin is min + 2048 · ((max − min) / 2048), which may round a hair above
    // max; anything more would be a real escape from the minmax range.
    EXPECT_LE(clipped[t].max, full[t].max + 1e-12 * (full[t].max - full[t].min)) << name;
    // At most the (100 − p)% tail of the values lies outside on each side (2048-bin histogram: the cut falls on
    // a bin edge, and the next bin down would already have left more than the tail outside).
    const auto total = static_cast<int64_t>(values[t].size());
    const auto cut = static_cast<int64_t>(std::floor(0.01 * static_cast<double>(total)));
    const double width = (full[t].max - full[t].min) / 2048;
    int64_t above = 0, below = 0, above_one_bin_lower = 0;
    for (const float v : values[t]) {
      above += v > clipped[t].max;
      below += v < clipped[t].min;
      above_one_bin_lower += v >= clipped[t].max - width;
    }
    EXPECT_LE(above, cut) << name;
    EXPECT_LE(below, cut) << name;
    if (clipped[t].max > 0 && clipped[t].max < full[t].max) {
      EXPECT_GT(above_one_bin_lower, cut) << name << ": the percentile cut more than the tail";
    }
  }
}

TEST(Calibration, PercentileHundredIsMinmax) {
  const Dataset d = data(40);
  Network net = network();
  const FoldedModel m = fold_batchnorm(net);
  const CalibrationSpec minmax = minmax_spec();
  CalibrationSpec all = minmax;
  all.method = "percentile";
  all.percentile = 100.0;
  const auto a = calibrate(net, m, d, minmax), b = calibrate(net, m, d, all);
  for (size_t t = 0; t < a.size(); ++t) {
    const double tolerance = 1e-12 * (a[t].max - a[t].min);
    EXPECT_NEAR(b[t].min, a[t].min, tolerance) << t;
    EXPECT_NEAR(b[t].max, a[t].max, tolerance) << t;
  }
}

TEST(Calibration, MseScalesTheMinmaxRange) {
  Dataset d = data(64);
  d.images[static_cast<size_t>(5 * d.item_size() + 20)] = 1000.0f;
  Network net = network();
  const FoldedModel m = fold_batchnorm(net);
  CalibrationSpec minmax = minmax_spec();
  minmax.images = 64;
  CalibrationSpec mse = minmax;
  mse.method = "mse";
  const auto full = calibrate(net, m, d, minmax), got = calibrate(net, m, d, mse);
  int32_t clipped = 0;
  for (size_t t = 0; t < full.size(); ++t) {
    if (t == static_cast<size_t>(m.output)) {
      EXPECT_EQ(got[t].min, full[t].min);
      EXPECT_EQ(got[t].max, full[t].max);
      continue;
    }
    // One α of 1, 0.98, ..., 0.2 scales both ends.
    bool found = false;
    for (int32_t k = 0; k <= 40 && !found; ++k) {
      const double alpha = 1.0 - 0.02 * k;
      found = std::abs(got[t].min - alpha * full[t].min) <= 1e-12 * (full[t].max - full[t].min) &&
              std::abs(got[t].max - alpha * full[t].max) <= 1e-12 * (full[t].max - full[t].min);
    }
    EXPECT_TRUE(found) << m.tensors[t].name << ": [" << got[t].min << ", " << got[t].max << "] of [" << full[t].min
                       << ", " << full[t].max << "]";
    clipped += got[t].max < full[t].max;
  }
  // The search is not stuck at α = 1: the ReLU tensor the outlier stretches is clipped.
  EXPECT_GE(clipped, 1);
  // A single outlier is kept: clipping 1000 to 980 costs 20² = 400 of squared error, more than the finer step
  // saves on the 4096 input values, 4096 · (1000/255)² / 12 · (1 − 0.98²) ≈ 208.
  EXPECT_EQ(got[static_cast<size_t>(m.input)].max, 1000.0);
}

void expect_bad_input(const CalibrationSpec& spec, const std::string& mention) {
  try {
    check(spec);
    ADD_FAILURE() << "check() accepted a spec mentioning " << mention;
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::bad_input) << e.what();
    EXPECT_NE(std::string(e.what()).find(mention), std::string::npos) << e.what();
  }
}

TEST(Calibration, CheckRejectsBadSpecs) {
  EXPECT_NO_THROW(check(CalibrationSpec{}));
  for (const char* method : {"minmax", "percentile", "mse"}) {
    CalibrationSpec known;
    known.method = method;
    EXPECT_NO_THROW(check(known)) << method;
  }
  CalibrationSpec spec;
  spec.method = "kl";
  expect_bad_input(spec, "'kl'");
  spec = {};
  spec.percentile = 40;
  expect_bad_input(spec, "percentile");
  spec.percentile = 50;  // the interval is open at 50: the two tails would meet
  expect_bad_input(spec, "percentile");
  spec.percentile = 100.5;
  expect_bad_input(spec, "percentile");
  spec.percentile = 100;
  EXPECT_NO_THROW(check(spec));
  spec = {};
  spec.images = 0;
  expect_bad_input(spec, "image");
  spec = {};
  spec.batch_size = 0;
  expect_bad_input(spec, "batch");
  // calibrate() checks too, before running anything.
  Network net = network();
  const FoldedModel m = fold_batchnorm(net);
  spec = {};
  spec.method = "entropy";
  EXPECT_EQ(test_support::error_of([&] { calibrate(net, m, data(4), spec); }),
            "calibration: unknown method 'entropy' (known: minmax, percentile, mse)");
  // An empty training split has nothing to calibrate on.
  supernet::Dataset empty = data(4);
  empty.count = 0;
  empty.images.clear();
  empty.labels.clear();
  EXPECT_EQ(test_support::error_of([&] { calibrate(net, m, empty, CalibrationSpec{}); }),
            "calibration: the training split is empty");
}

}  // namespace
}  // namespace nas::deploy
