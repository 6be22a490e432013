#include "search/finetune_phase.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>

#include "common/error.h"
#include "common/interrupt.h"
#include "supernet/state_blob.h"

namespace nas::search {

supernet::StepCallback phase_step_callback(Progress& progress, const char* command, const char* phase, int32_t epoch,
                                           int32_t batch_size, int64_t images) {
  return [&progress, command, phase, epoch, batch_size, images](int32_t step, int32_t, double loss, double accuracy) {
    if (interrupt_requested()) throw Interrupted();
    if (!std::isfinite(loss))
      throw Error(command, fmt::format("the loss diverged (not finite) in {} epoch {}, step {}; lower the "
                                       "learning rate", phase, epoch, step), Error::Kind::failure);
    progress.step(step, loss, accuracy, std::min<int64_t>(int64_t{step} * batch_size, images));
  };
}

results::EpochRecord phase_epoch_record(int32_t epoch, const char* phase, double lr,
                                        const supernet::EpochResult& train) {
  results::EpochRecord r;
  r.epoch = epoch;
  r.phase = phase;
  r.learning_rate = lr;
  r.train_loss = train.loss;
  r.train_accuracy = train.accuracy;
  r.seconds = train.seconds;
  r.images_per_second = train.seconds > 0 ? static_cast<double>(train.images) / train.seconds : 0;
  return r;
}

FinetunePlan finetune_plan(const SearchConfig& config) {
  FinetunePlan plan;
  plan.epochs = config.finetune_epochs;
  plan.first_loader_epoch = config.warmup_epochs + config.search_epochs;
  plan.optimizer = config.finetune_optimizer;
  plan.schedule = config.finetune_schedule;
  plan.label_smoothing = config.label_smoothing;
  plan.batch_size = config.batch_size;
  plan.eval_batch_size = config.eval_batch_size;
  return plan;
}

double run_finetune_phase(supernet::Network& net, supernet::BatchLoader& loader, const supernet::DataSplits& data,
                          const FinetunePlan& plan, const supernet::Distillation* distillation, results::ResultsDb& db,
                          int64_t run_id, Progress& progress, const char* command,
                          const FinetuneCheckpoints* checkpoints) {
  if (plan.epochs == 0) return supernet::evaluate(net, data.test, plan.eval_batch_size).accuracy;
  auto optimizer = supernet::make_optimizer(plan.optimizer, net.params());
  auto checkpoint_after = [&](int32_t epoch) {
    supernet::StateWriter out;
    supernet::save_training(net, *optimizer, out);
    return results::CheckpointRecord{"finetune", epoch, checkpoints->request, out.take()};
  };
  int32_t first = 0;
  if (checkpoints && checkpoints->resume) {
    const results::CheckpointRecord& resume = *checkpoints->resume;
    supernet::StateReader in(resume.state, fmt::format("the fine-tuning checkpoint of run {}", run_id));
    supernet::load_training(net, *optimizer, in);
    in.finish();
    first = std::min(resume.epoch, plan.epochs);
  } else if (checkpoints) {
    db.store_checkpoint(run_id, checkpoint_after(0));
  }
  const int32_t steps = loader.batches_per_epoch();
  const supernet::LrSchedule schedule(plan.schedule, steps, plan.epochs);
  // A run resumed after its last epoch (killed before it was marked done) only needs that epoch's test accuracy.
  double accuracy = first == plan.epochs ? supernet::evaluate(net, data.test, plan.eval_batch_size).accuracy : 0;
  progress.set_phase("finetune");
  for (int32_t e = first; e < plan.epochs; ++e) {
    progress.begin_epoch(e + 1, plan.epochs, steps);
    const int64_t first_step = int64_t{e} * steps;
    supernet::EpochPlan epoch_plan{plan.first_loader_epoch + e, first_step, plan.label_smoothing};
    epoch_plan.distillation = distillation;
    const auto train = supernet::train_epoch(net, *optimizer, schedule, loader, epoch_plan,
                                             phase_step_callback(progress, command, "finetune", e + 1, plan.batch_size,
                                                                 data.train.count));
    results::EpochRecord record = phase_epoch_record(e + 1, "finetune", schedule.at(first_step + steps - 1), train);
    const auto test = supernet::evaluate(net, data.test, plan.eval_batch_size);
    record.test_loss = test.loss;
    record.test_accuracy = test.accuracy;
    if (checkpoints) {
      const results::CheckpointRecord checkpoint = checkpoint_after(e + 1);
      db.add_epoch(run_id, record, &checkpoint);
    } else {
      db.add_epoch(run_id, record);
    }
    accuracy = test.accuracy;
    progress.end_epoch(fmt::format("loss {:.4f} train {:.2f}% test {:.2f}%  {:.1f}s", train.loss,
                                   100 * train.accuracy, 100 * test.accuracy, train.seconds));
  }
  progress.set_phase("");
  return accuracy;
}

}  // namespace nas::search
