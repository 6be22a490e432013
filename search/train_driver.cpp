#include "search/train_driver.h"

#include <sys/resource.h>

#include <fmt/core.h>

#include <cmath>
#include <memory>

#include "common/error.h"
#include "common/interrupt.h"
#include "common/threads.h"
#include "results/distillation_records.h"
#include "search/resume.h"
#include "supernet/network_builder.h"
#include "supernet/state_blob.h"
#include "supernet/trainer.h"

namespace nas::search {

int64_t peak_rss_bytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return int64_t{usage.ru_maxrss} * 1024;  // Linux reports kilobytes
}

namespace {

std::string format_epoch(const supernet::EpochResult& train, const results::EpochRecord& record) {
  std::string line = fmt::format("loss {:.4f} train {:.2f}%", train.loss, 100 * train.accuracy);
  if (record.val_accuracy) line += fmt::format(" val {:.2f}%", 100 * *record.val_accuracy);
  if (record.test_accuracy) line += fmt::format(" test {:.2f}%", 100 * *record.test_accuracy);
  line += fmt::format("  lr {:.4f}  {:.2f}s  {:.0f} img/s", record.learning_rate, record.seconds,
                      record.images_per_second);
  return line;
}

}  // namespace

results::RunEnd run_end(const std::string& status, const std::string& error, std::optional<double> test_accuracy,
                        const supernet::Network* net) {
  results::RunEnd end;
  end.status = status;
  end.test_accuracy = test_accuracy;
  end.error = error;
  if (net) {
    end.weights.assign(net->params().theta().begin(), net->params().theta().end());
    end.state.assign(net->params().state().begin(), net->params().state().end());
  }
  end.peak_rss_bytes = peak_rss_bytes();
  return end;
}

TrainOutcome run_train(const TrainConfig& config, results::ResultsDb& db, Progress& progress,
                       const std::string& command_line, const std::optional<TeacherSpec>& teacher_spec, int64_t resume_run,
                       const results::CheckpointRecord* resume, bool keep_checkpoint) {
  ThreadBudget threads(config.threads);
  supernet::DataSplits data = supernet::load_data(config.data, config.seed);
  // A bad teacher, model or augmentation is refused before anything is printed or recorded.
  std::unique_ptr<Teacher> teacher = teacher_spec ? std::make_unique<Teacher>(db, *teacher_spec, data) : nullptr;
  const supernet::Shape input = data.train.batch_shape(1);
  supernet::Network net = [&] {
    try {
      return supernet::build_network(config.model, input, data.train.num_classes, config.seed);
    } catch (const Error& e) {
      throw Error(config.path.string(), e.what(), e.kind());  // name the file the model came from
    }
  }();
  auto optimizer = supernet::make_optimizer(config.optimizer, net.params());
  supernet::BatchLoader loader(data.train, config.batch_size, /*shuffle=*/true, config.data.augment, config.seed);
  const supernet::LrSchedule schedule(config.schedule, loader.batches_per_epoch(), config.epochs);
  // Printed once the model and the loader are built, so a bad model or augmentation is refused in one line.
  progress.message(fmt::format("data: {} train, {} validation, {} test images of {}x{}x{}, {} classes",
                               data.train.count, data.validation.count, data.test.count, data.train.height,
                               data.train.width, data.train.channels, data.train.num_classes));
  if (teacher) teacher->prepare(data.train, loader.augments(), config.batch_size, progress);

  TrainOutcome outcome;
  outcome.parameters = static_cast<int64_t>(net.params().theta().size());
  progress.message(fmt::format("model: {} layers, {} parameters; {} epochs of {} steps, {} threads", net.size(),
                               outcome.parameters, config.epochs, loader.batches_per_epoch(), config.threads));

  int32_t first_epoch = 1;
  if (resume) {
    supernet::StateReader in(resume->state, fmt::format("the checkpoint of run {}", resume_run));
    supernet::load_training(net, *optimizer, in);
    in.finish();
    db.reopen_run(resume_run);
    outcome.run_id = resume_run;
    first_epoch = resume->epoch + 1;
    outcome.epochs_done = resume->epoch;
    // Killed after its last epoch but before it was marked done: that epoch's test accuracy is all that is left.
    if (first_epoch > config.epochs)
      outcome.test_accuracy = supernet::evaluate(net, data.test, config.eval_batch_size).accuracy;
    progress.message(fmt::format("run {} resumed in {} after epoch {}", outcome.run_id, db.path().string(),
                                 resume->epoch));
  } else {
    results::RunStart start{"train", config.effective_yaml(), config.path.string(), command_line, config.seed,
                            config.threads};
    outcome.run_id = db.begin_run(start);
    progress.message(fmt::format("run {} recorded in {}", outcome.run_id, db.path().string()));
    if (teacher) results::store_distillation(db, outcome.run_id, teacher->record("train"));
  }
  const std::string request_yaml = train_request_yaml(teacher_spec);

  double train_seconds = 0;
  int64_t train_images = 0;
  auto finish = [&](const std::string& status, const std::string& error) {
    results::RunEnd end =
        run_end(status, error, outcome.epochs_done > 0 ? std::optional(outcome.test_accuracy) : std::nullopt, &net);
    end.keep_checkpoint = keep_checkpoint;
    outcome.peak_rss_bytes = end.peak_rss_bytes;
    db.finish_run(outcome.run_id, end);
    outcome.status = status;
    outcome.mean_epoch_seconds = train_seconds / std::max(1, outcome.epochs_done);
    outcome.images_per_second = train_seconds > 0 ? static_cast<double>(train_images) / train_seconds : 0;
  };

  run_to_the_end(
      [&] {
        for (int32_t epoch = first_epoch; epoch <= config.epochs; ++epoch) {
          progress.begin_epoch(epoch, config.epochs, loader.batches_per_epoch());
          int64_t images_done = 0;
          const auto on_step = [&](int32_t step, int32_t, double loss, double accuracy) {
            if (interrupt_requested()) throw Interrupted();
            if (!std::isfinite(loss))
              throw Error("nas train", fmt::format("the loss diverged (not finite) at epoch {}, step {}; lower "
                                                   "train.schedule.lr", epoch, step), Error::Kind::failure);
            images_done = std::min<int64_t>(int64_t{step} * config.batch_size, data.train.count);
            progress.step(step, loss, accuracy, images_done);
          };
          const int64_t first_step = int64_t{epoch - 1} * loader.batches_per_epoch();
          supernet::EpochPlan plan{epoch - 1, first_step, config.label_smoothing};
          plan.distillation = teacher ? teacher->distillation() : nullptr;
          const auto train = supernet::train_epoch(net, *optimizer, schedule, loader, plan, on_step);

          results::EpochRecord record;
          record.epoch = epoch;
          record.phase = "train";
          record.learning_rate = schedule.at(first_step + loader.batches_per_epoch() - 1);
          record.train_loss = train.loss;
          record.train_accuracy = train.accuracy;
          record.seconds = train.seconds;
          record.images_per_second = static_cast<double>(train.images) / train.seconds;
          if (data.validation.count > 0) {
            const auto val = supernet::evaluate(net, data.validation, config.eval_batch_size);
            record.val_loss = val.loss;
            record.val_accuracy = val.accuracy;
          }
          const auto test = supernet::evaluate(net, data.test, config.eval_batch_size);
          record.test_loss = test.loss;
          record.test_accuracy = test.accuracy;
          supernet::StateWriter state;
          supernet::save_training(net, *optimizer, state);
          const results::CheckpointRecord checkpoint{"train", epoch, request_yaml, state.take()};
          db.add_epoch(outcome.run_id, record, &checkpoint);

          outcome.epochs_done = epoch;
          outcome.test_accuracy = test.accuracy;
          train_seconds += train.seconds;
          train_images += train.images;
          progress.end_epoch(format_epoch(train, record));
        }
      },
      [&] {
        progress.message(
            fmt::format("run {} interrupted after {} finished epochs", outcome.run_id, outcome.epochs_done));
      },
      finish);
  return outcome;
}

}  // namespace nas::search
