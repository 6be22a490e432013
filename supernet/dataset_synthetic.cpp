// Synthetic classification data for tests and smoke runs: every class owns a smooth random pattern, and an item
// is its class pattern plus Gaussian noise. Smooth (bilinear over a coarse grid) rather than per-pixel random,
// so that 3×3 convolutions and a random crop of a pixel or two still see the class, as on real images.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "common/error.h"
#include "supernet/dataset.h"
#include "supernet/rng.h"

namespace nas::supernet {
namespace {

// Control points per side of the coarse grid: enough structure to tell a handful of classes apart, few enough
// that neighbouring pixels stay correlated.
constexpr int32_t kGridPoints = 4;

void check_spec(const SyntheticSpec& spec) {
  const auto fail = [](const std::string& what) { throw Error("synthetic", what); };
  if (spec.count <= 0) fail("count must be positive (got " + std::to_string(spec.count) + ")");
  if (spec.height <= 0 || spec.width <= 0 || spec.channels <= 0) {
    fail("height, width and channels must be positive (got " + std::to_string(spec.height) + "×" +
         std::to_string(spec.width) + "×" + std::to_string(spec.channels) + ")");
  }
  if (spec.num_classes < 2) fail("classes must be at least 2 (got " + std::to_string(spec.num_classes) + ")");
  if (!(spec.noise >= 0.0f)) fail("noise must be >= 0 (got " + std::to_string(spec.noise) + ")");
}

// Where output pixel `i` of `n` falls on the grid axis [0, kGridPoints - 1].
double grid_coordinate(int32_t i, int32_t n) {
  return n == 1 ? 0.0 : static_cast<double>(i) * (kGridPoints - 1) / (n - 1);
}

// One class's pattern, H×W×C in [0, 1]: bilinear interpolation of uniform random control points, per channel.
std::vector<float> make_pattern(const SyntheticSpec& spec, Rng& rng) {
  const int32_t c_count = spec.channels;
  std::vector<double> grid(static_cast<size_t>(kGridPoints * kGridPoints * c_count));
  for (double& value : grid) value = rng.uniform();
  const auto at = [&](int32_t gy, int32_t gx, int32_t c) {
    return grid[static_cast<size_t>((gy * kGridPoints + gx) * c_count + c)];
  };

  std::vector<float> pattern(static_cast<size_t>(spec.height) * spec.width * c_count);
  for (int32_t y = 0; y < spec.height; ++y) {
    const double gy = grid_coordinate(y, spec.height);
    const int32_t y0 = std::min(static_cast<int32_t>(gy), kGridPoints - 2);
    const double fy = gy - y0;
    for (int32_t x = 0; x < spec.width; ++x) {
      const double gx = grid_coordinate(x, spec.width);
      const int32_t x0 = std::min(static_cast<int32_t>(gx), kGridPoints - 2);
      const double fx = gx - x0;
      for (int32_t c = 0; c < c_count; ++c) {
        const double top = at(y0, x0, c) * (1 - fx) + at(y0, x0 + 1, c) * fx;
        const double bottom = at(y0 + 1, x0, c) * (1 - fx) + at(y0 + 1, x0 + 1, c) * fx;
        pattern[static_cast<size_t>((y * spec.width + x) * c_count + c)] =
            static_cast<float>(top * (1 - fy) + bottom * fy);
      }
    }
  }
  return pattern;
}

// Independent streams for the patterns and for each item, all derived from the one seed: item i does not depend
// on how many items come before or after it, so a larger count extends a smaller one.
uint64_t derive_seed(uint64_t seed, uint64_t stream) {
  uint64_t state = seed;
  state = splitmix64(state) ^ stream;
  return splitmix64(state);
}

constexpr uint64_t kPatternStream = ~uint64_t{0};  // item streams are 0, 1, 2, ...

}  // namespace

Dataset make_synthetic(const SyntheticSpec& spec) {
  check_spec(spec);
  Rng pattern_rng(derive_seed(spec.seed, kPatternStream));
  std::vector<std::vector<float>> patterns;
  for (int32_t k = 0; k < spec.num_classes; ++k) patterns.push_back(make_pattern(spec, pattern_rng));

  Dataset data;
  data.count = spec.count;
  data.height = spec.height;
  data.width = spec.width;
  data.channels = spec.channels;
  data.num_classes = spec.num_classes;
  const auto item_size = static_cast<size_t>(data.item_size());
  data.images.resize(static_cast<size_t>(spec.count) * item_size);
  data.labels.resize(static_cast<size_t>(spec.count));
  for (int32_t i = 0; i < spec.count; ++i) {
    // Round-robin labels: every class gets count / classes items (± 1), in any prefix too.
    const int32_t label = i % spec.num_classes;
    data.labels[static_cast<size_t>(i)] = label;
    Rng noise_rng(derive_seed(spec.seed, static_cast<uint64_t>(i)));
    const std::vector<float>& pattern = patterns[static_cast<size_t>(label)];
    float* item = data.images.data() + static_cast<size_t>(i) * item_size;
    for (size_t p = 0; p < item_size; ++p) {
      item[p] = pattern[p] + spec.noise * static_cast<float>(noise_rng.normal());
    }
  }
  return data;
}

}  // namespace nas::supernet
