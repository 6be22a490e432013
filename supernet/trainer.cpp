#include "supernet/trainer.h"

#include <algorithm>
#include <chrono>
#include <cstring>

namespace nas::supernet {

namespace {
double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}
}  // namespace

void save_training(const Network& net, const Optimizer& optimizer, StateWriter& out) {
  out.floats(net.params().theta());
  out.floats(net.params().state());
  optimizer.save(out);
}

void load_training(Network& net, Optimizer& optimizer, StateReader& in) {
  in.floats(net.params().theta());
  in.floats(net.params().state());
  optimizer.load(in);
}

EpochResult train_epoch(Network& net, Optimizer& optimizer, const LrSchedule& schedule, BatchLoader& loader,
                        const EpochPlan& plan, const StepCallback& on_step) {
  const auto start = std::chrono::steady_clock::now();
  EpochTally tally;
  Tensor images, grad;
  std::vector<int32_t> labels;
  const int32_t steps = loader.batches_per_epoch();
  loader.start_epoch(plan.epoch);
  for (int32_t step = 0; loader.next(images, labels); ++step) {
    const Tensor& logits = net.forward(images, /*training=*/true);
    const LossResult loss = training_loss(logits, images, labels, loader.batch_indices(), plan.distillation,
                                          plan.label_smoothing, &grad);
    net.backward(grad);
    optimizer.step(net.params(), schedule.at(plan.first_step + step));
    tally.add(loss, static_cast<int64_t>(labels.size()));
    if (on_step) on_step(step + 1, steps, tally.loss(), tally.accuracy());
  }
  return tally.result(seconds_since(start));
}

EpochResult evaluate(Network& net, const Dataset& data, int32_t batch_size) {
  const auto start = std::chrono::steady_clock::now();
  EpochResult result;
  Tensor images;
  double loss_sum = 0;
  int64_t correct = 0;
  const int64_t item = data.item_size();
  for (int32_t begin = 0; begin < data.count; begin += batch_size) {
    const int32_t n = std::min(batch_size, data.count - begin);
    images.resize(data.batch_shape(n));
    std::memcpy(images.data(), data.images.data() + begin * item, sizeof(float) * static_cast<size_t>(n * item));
    const std::span<const int32_t> labels(data.labels.data() + begin, static_cast<size_t>(n));
    const LossResult loss = softmax_cross_entropy(net.forward(images, /*training=*/false), labels, nullptr);
    loss_sum += loss.loss * n;
    correct += loss.correct;
  }
  result.images = data.count;
  result.loss = loss_sum / std::max(1, data.count);
  result.accuracy = static_cast<double>(correct) / std::max(1, data.count);
  result.seconds = seconds_since(start);
  return result;
}

}  // namespace nas::supernet
