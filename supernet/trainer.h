// One training epoch and one evaluation pass over a dataset. The driver that strings epochs together, stores
// results and reports progress lives in search/; these are the loops it calls.
#pragma once

#include <cstdint>
#include <functional>

#include "supernet/dataset.h"
#include "supernet/loss.h"
#include "supernet/network.h"
#include "supernet/optimizer.h"
#include "supernet/teacher_logits.h"

namespace nas::supernet {

struct EpochResult {
  double loss = 0;       // mean over images
  double accuracy = 0;   // share of images classified correctly
  int64_t images = 0;
  double seconds = 0;
};

// Running mean loss and accuracy over an epoch's steps: what train_epoch and the search's supernet epochs report.
class EpochTally {
 public:
  void add(const LossResult& loss, int64_t images) {
    loss_sum_ += loss.loss * static_cast<double>(images);
    correct_ += loss.correct;
    images_ += images;
  }
  double loss() const { return loss_sum_ / static_cast<double>(images_ > 0 ? images_ : 1); }
  double accuracy() const { return static_cast<double>(correct_) / static_cast<double>(images_ > 0 ? images_ : 1); }
  EpochResult result(double seconds) const { return {loss(), accuracy(), images_, seconds}; }

 private:
  double loss_sum_ = 0;
  int64_t correct_ = 0, images_ = 0;
};

// Called after every step with (step within the epoch, steps in the epoch, running loss, running accuracy).
using StepCallback = std::function<void(int32_t step, int32_t steps, double loss, double accuracy)>;

// Trains one epoch; the schedule is indexed by the global step `first_step + step`.
struct EpochPlan {
  int32_t epoch = 0;              // 0-based; selects the loader's shuffle and augmentation
  int64_t first_step = 0;
  double label_smoothing = 0.0;
  // With a teacher, every step's loss is the distillation loss (label smoothing then does not apply).
  const Distillation* distillation = nullptr;
};
EpochResult train_epoch(Network& net, Optimizer& optimizer, const LrSchedule& schedule, BatchLoader& loader,
                        const EpochPlan& plan, const StepCallback& on_step = {});

// What a training loop carries from one epoch to the next besides the data order (which the loader derives from the
// epoch): the network's weights and BatchNorm statistics and the optimiser's moments, for the checkpoints of
// `nas train` and fine-tuning. load_training throws nas::Error for the state of another network.
void save_training(const Network& net, const Optimizer& optimizer, StateWriter& out);
void load_training(Network& net, Optimizer& optimizer, StateReader& in);

// Evaluates in inference mode (BatchNorm running statistics) in batches of `batch_size`.
EpochResult evaluate(Network& net, const Dataset& data, int32_t batch_size);

}  // namespace nas::supernet
