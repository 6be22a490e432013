#include "supernet/candidate_accuracy.h"

#include <algorithm>
#include <cstring>

#include "supernet/error.h"
#include "supernet/loss.h"
#include "supernet/state_guard.h"

namespace nas::supernet {

std::vector<CandidateAccuracy> candidate_accuracies(SuperNet& net, const Dataset& holdout, int32_t paths,
                                                    int32_t images, Rng& rng) {
  const int32_t n = std::min(images, holdout.count);
  if (n <= 0 || paths <= 0)
    throw Error("candidate_accuracies", "needs held-out images and at least one path", Error::Kind::failure);
  Tensor batch(holdout.batch_shape(n));
  std::memcpy(batch.data(), holdout.images.data(), sizeof(float) * static_cast<size_t>(batch.size()));
  const StateGuard keep_statistics(net.weights());
  const double tau = net.tau();
  net.set_mode(BlockMode::sampled);

  std::vector<CandidateAccuracy> out;
  for (size_t b = 0; b < net.block_count(); ++b) {
    SearchableBlock& block = net.block(b);
    for (size_t op = 0; op < block.op_count(); ++op) {
      int64_t correct = 0;
      for (int32_t p = 0; p < paths; ++p) {
        net.sample(rng, tau);
        block.select(op);
        block.select_width(block.widths().size() - 1);
        const Tensor& logits = net.network().forward(batch, /*training=*/true);
        for (int32_t i = 0; i < n; ++i) correct += argmax(logits, i) == holdout.labels[static_cast<size_t>(i)];
      }
      out.push_back({block.spec().name, block.spec().ops[op].name(),
                     static_cast<double>(correct) / (static_cast<double>(n) * paths)});
    }
  }
  return out;
}

}  // namespace nas::supernet
