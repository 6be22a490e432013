#include "supernet/candidate_accuracy.h"

#include <algorithm>
#include <cstring>

#include "common/error.h"
#include "supernet/loss.h"
#include "supernet/state_guard.h"

namespace nas::supernet {

double path_accuracy(SuperNet& net, const Dataset& holdout, int32_t images, int32_t batch_size) {
  return path_score(net, holdout, images, batch_size).accuracy;
}

PathScore path_score(SuperNet& net, const Dataset& holdout, int32_t images, int32_t batch_size) {
  const int32_t n = std::min(images, holdout.count);
  if (n <= 0 || batch_size <= 0)
    throw Error("path_score", "needs held-out images and a positive batch size", Error::Kind::failure);
  const StateGuard keep_statistics(net.weights());
  net.set_mode(BlockMode::sampled);
  int64_t correct = 0;
  double loss_sum = 0;
  Tensor batch;
  // Batches of the training batch size: BatchNorm normalises as in training, and the supernet's activation
  // buffers, which keep the largest batch they have seen, do not grow.
  for (int32_t first = 0; first < n; first += batch_size) {
    const int32_t count = std::min(batch_size, n - first);
    batch.resize(holdout.batch_shape(count));
    std::memcpy(batch.data(), holdout.images.data() + int64_t{first} * holdout.item_size(),
                sizeof(float) * static_cast<size_t>(batch.size()));
    const Tensor& logits = net.network().forward(batch, /*training=*/true);
    const std::span<const int32_t> labels(holdout.labels.data() + first, static_cast<size_t>(count));
    const LossResult r = softmax_cross_entropy(logits, labels, nullptr);
    loss_sum += r.loss * count;
    correct += r.correct;
  }
  return {loss_sum / n, static_cast<double>(correct) / n};
}

std::vector<CandidateAccuracy> candidate_accuracies(SuperNet& net, const Dataset& holdout, int32_t paths,
                                                    int32_t images, int32_t batch_size, Rng& rng) {
  if (paths <= 0) throw Error("candidate_accuracies", "needs at least one path", Error::Kind::failure);
  const double tau = net.tau();
  std::vector<CandidateAccuracy> out;
  for (size_t b = 0; b < net.block_count(); ++b) {
    SearchableBlock& block = net.block(b);
    for (size_t op = 0; op < block.op_count(); ++op) {
      double sum = 0;
      for (int32_t p = 0; p < paths; ++p) {
        net.sample(rng, tau);
        block.select(op);
        block.select_width(block.widths().size() - 1);
        sum += path_accuracy(net, holdout, images, batch_size);
      }
      out.push_back({block.spec().name, block.spec().ops[op].name(), sum / paths});
    }
  }
  return out;
}

}  // namespace nas::supernet
