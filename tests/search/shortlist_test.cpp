#include "search/shortlist.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>

namespace nas::search {
namespace {

TEST(Shortlist, LogSoftmaxNormalisesAndKeepsDifferences) {
  const std::vector<double> out = log_softmax({2.0, -1.0, 0.5, 1000.0});
  double sum = 0;
  for (const double v : out) sum += std::exp(v);
  EXPECT_NEAR(sum, 1.0, 1e-12);
  EXPECT_NEAR(out[0] - out[1], 3.0, 1e-12);
  EXPECT_TRUE(std::isfinite(out[1]));  // a huge logit does not overflow the others
  EXPECT_TRUE(log_softmax({}).empty());
}

// Every assignment, sorted the way most_probable_choice_sets promises.
std::vector<ChoiceSet> all_sets_sorted(const std::vector<std::vector<double>>& log_probs) {
  std::vector<ChoiceSet> all{ChoiceSet{}};
  for (const auto& block : log_probs) {
    std::vector<ChoiceSet> next;
    for (const auto& prefix : all)
      for (size_t i = 0; i < block.size(); ++i) {
        ChoiceSet c = prefix;
        c.choices.push_back(i);
        c.log_probability += block[i];
        next.push_back(c);
      }
    all = next;
  }
  std::stable_sort(all.begin(), all.end(), [](const ChoiceSet& a, const ChoiceSet& b) {
    if (a.log_probability != b.log_probability) return a.log_probability > b.log_probability;
    return a.choices < b.choices;
  });
  return all;
}

TEST(Shortlist, TheBeamFindsExactlyTheMostProbableSets) {
  // Uneven blocks, some nearly flat and some peaked, as a search leaves them; integers/8 keep the sums exact.
  const std::vector<std::vector<double>> raw = {
      {2, 1}, {0, 3, 1, 3}, {1, 1, 1, 1, 1}, {5, 0, 4, 2}, {0, 6, 2, 1, 7}};
  std::vector<std::vector<double>> log_probs;
  for (const auto& block : raw) {
    std::vector<double> scaled;
    for (const double v : block) scaled.push_back(v / 8);
    log_probs.push_back(log_softmax(scaled));
  }
  const auto all = all_sets_sorted(log_probs);
  for (const size_t k : {size_t{1}, size_t{4}, size_t{17}, size_t{160}, size_t{2000}}) {
    const auto best = most_probable_choice_sets(log_probs, k);
    ASSERT_EQ(best.size(), std::min(k, all.size())) << "k = " << k;
    for (size_t i = 0; i < best.size(); ++i) {
      EXPECT_NEAR(best[i].log_probability, all[i].log_probability, 1e-12) << "k = " << k << ", rank " << i;
      // Sums that tie on paper may differ in their last bit depending on the order they were added in: compare the
      // probabilities at every rank, and the sets themselves where the sum is unique.
      if ((i == 0 || std::abs(all[i - 1].log_probability - all[i].log_probability) > 1e-9) &&
          (i + 1 == all.size() || std::abs(all[i + 1].log_probability - all[i].log_probability) > 1e-9)) {
        EXPECT_EQ(best[i].choices, all[i].choices) << "k = " << k << ", rank " << i;
      }
    }
  }
  EXPECT_TRUE(most_probable_choice_sets(log_probs, 0).empty());
}

TEST(Shortlist, TheFirstSetIsTheArgmaxOfEveryBlock) {
  const std::vector<std::vector<double>> log_probs = {log_softmax({0.1, 0.3, 0.2}), log_softmax({4, 1}),
                                                      log_softmax({0, 0, 9, 0})};
  const auto best = most_probable_choice_sets(log_probs, 3);
  ASSERT_EQ(best.size(), 3u);
  EXPECT_EQ(best[0].choices, (std::vector<size_t>{1, 0, 2}));
  // The runners-up change the least certain block first: block 0 (0.3 against 0.2, then 0.1).
  EXPECT_EQ(best[1].choices, (std::vector<size_t>{2, 0, 2}));
  EXPECT_EQ(best[2].choices, (std::vector<size_t>{0, 0, 2}));
}

}  // namespace
}  // namespace nas::search
