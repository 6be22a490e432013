// The checkpoint blob: values come back as written, and a blob of another shape, a truncated one or one with
// bytes left over is refused with nas::Error instead of being read as garbage.
#include "supernet/state_blob.h"

#include <gtest/gtest.h>

#include "tests/common/test_support.h"

#include <array>
#include <vector>

#include "common/error.h"
#include "supernet/optimizer.h"
#include "supernet/rng.h"

namespace nas::supernet {
namespace {

std::vector<uint8_t> sample_blob() {
  StateWriter out;
  out.u64(0xdeadbeefcafef00dULL);
  out.i64(-7);
  out.f64(0.125);
  const std::vector<float> values = {1.5f, -2.0f, 3.25f};
  out.floats(values);
  const std::vector<double> lambdas = {0.5, 1000.0};
  out.doubles(lambdas);
  out.text("search");
  return out.take();
}

TEST(StateBlob, ReadsBackWhatWasWritten) {
  const auto bytes = sample_blob();
  StateReader in(bytes, "test blob");
  EXPECT_EQ(in.u64(), 0xdeadbeefcafef00dULL);
  EXPECT_EQ(in.i64(), -7);
  EXPECT_EQ(in.f64(), 0.125);
  std::vector<float> values(3);
  in.floats(values);
  EXPECT_EQ(values, (std::vector<float>{1.5f, -2.0f, 3.25f}));
  EXPECT_EQ(in.doubles(), (std::vector<double>{0.5, 1000.0}));
  EXPECT_EQ(in.text(), "search");
  EXPECT_NO_THROW(in.finish());
}

TEST(StateBlob, RefusesAnArrayOfAnotherSize) {
  const auto bytes = sample_blob();
  StateReader in(bytes, "test blob");
  in.u64();
  in.i64();
  in.f64();
  std::vector<float> wrong(4);
  EXPECT_TRUE(test_support::contains(test_support::error_of([&] { in.floats(wrong); }),
                                     "test blob: is corrupt or belongs to another network: an array of 3 values where "
                                     "this network has 4 (at byte"));
}

TEST(StateBlob, RefusesAnotherKindAtAPlace) {
  const auto bytes = sample_blob();
  StateReader in(bytes, "test blob");
  // The first value is an integer.
  EXPECT_TRUE(test_support::contains(test_support::error_of([&] { in.f64(); }),
                                     "test blob: is corrupt or belongs to another network: expected "));
}

// Reads sample_blob()'s values in order.
void read_sample(StateReader& in) {
  in.u64();
  in.i64();
  in.f64();
  std::vector<float> values(3);
  in.floats(values);
  in.doubles();
  in.text();
}

TEST(StateBlob, RefusesTruncatedAndPaddedBlobs) {
  auto bytes = sample_blob();
  for (size_t cut : {size_t{0}, size_t{5}, bytes.size() / 2, bytes.size() - 1}) {
    const std::vector<uint8_t> truncated(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(cut));
    EXPECT_THROW(
        {
          StateReader in(truncated, "test blob");
          read_sample(in);
        },
        Error)
        << "cut at " << cut;
  }
  bytes.push_back(0);
  StateReader in(bytes, "test blob");
  read_sample(in);
  EXPECT_TRUE(test_support::contains(test_support::error_of([&] { in.finish(); }),
                                     "test blob: is corrupt or belongs to another network: 1 bytes left over"));
}

TEST(StateBlob, OptimizerAndRngContinueBitForBit) {
  // Two Adam optimisers on the same store: one runs 6 steps, the other 3, is saved and loaded into a fresh one,
  // which runs the last 3. Same for the RNG. The parameters and draws must be identical.
  auto run = [](bool through_blob) {
    ParamStore store;
    const int32_t w = store.declare("w", 4, ParamRole::weight);
    store.allocate();
    for (int i = 0; i < 4; ++i) store.value(w)[static_cast<size_t>(i)] = 0.1f * static_cast<float>(i + 1);
    OptimizerSpec spec;
    spec.type = "adam";
    auto opt = make_optimizer(spec, store);
    Rng rng(42);
    auto step = [&](Optimizer& o) {
      for (auto& g : store.grads()) g = static_cast<float>(rng.uniform(-1.0, 1.0));
      o.step(store, 0.01);
    };
    for (int i = 0; i < 3; ++i) step(*opt);
    if (through_blob) {
      StateWriter out;
      opt->save(out);
      for (const uint64_t word : rng.state()) out.u64(word);
      const auto bytes = out.take();
      opt = make_optimizer(spec, store);
      rng = Rng(1);
      StateReader in(bytes, "test blob");
      opt->load(in);
      std::array<uint64_t, 4> words{};
      for (auto& word : words) word = in.u64();
      rng.set_state(words);
      in.finish();
    }
    for (int i = 0; i < 3; ++i) step(*opt);
    return std::vector<float>(store.theta().begin(), store.theta().end());
  };
  EXPECT_EQ(run(false), run(true));
}

}  // namespace
}  // namespace nas::supernet
