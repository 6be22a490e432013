// The fine-tuning phase of a fixed network, shared by `nas search` (after fixing the architecture) and
// `nas finetune` (again from a search's stored start point): epochs of plain or distilled training, each stored with
// its test accuracy as it ends. Also the step callback every training phase of the drivers uses.
#pragma once

#include <cstdint>

#include "results/results_db.h"
#include "search/progress.h"
#include "search/search_config.h"
#include "supernet/data_spec.h"
#include "supernet/network.h"
#include "supernet/optimizer.h"
#include "supernet/teacher_logits.h"
#include "supernet/trainer.h"

namespace nas::search {

struct FinetunePlan {
  int32_t epochs = 0;
  int32_t first_loader_epoch = 0;   // the loader's shuffle index of the first epoch (after warm-up and search)
  supernet::OptimizerSpec optimizer;
  supernet::ScheduleSpec schedule;
  double label_smoothing = 0;
  int32_t batch_size = 128;         // the loader's, for progress
  int32_t eval_batch_size = 500;
};

// The fine-tuning a search config asks for: its finetune section, after its warm-up and search epochs.
FinetunePlan finetune_plan(const SearchConfig& config);

// Checkpoints of the phase: the state before its first epoch and after each one (the network's parameters and
// BatchNorm statistics, the optimiser's moments), each with its epoch in one transaction, carrying `request`.
// With `resume` (a checkpoint of this phase) the phase continues after the epoch it holds.
struct FinetuneCheckpoints {
  std::string request;
  const results::CheckpointRecord* resume = nullptr;
};

// Runs the epochs on `net` and returns the test accuracy after the last one (evaluated once when there are none).
// Interrupts and divergence throw from the step callback, as in every phase.
double run_finetune_phase(supernet::Network& net, supernet::BatchLoader& loader, const supernet::DataSplits& data,
                          const FinetunePlan& plan, const supernet::Distillation* distillation, results::ResultsDb& db,
                          int64_t run_id, Progress& progress, const char* command,
                          const FinetuneCheckpoints* checkpoints = nullptr);

// Progress, interrupt and divergence check after every step of a phase; `command` names the command in errors.
supernet::StepCallback phase_step_callback(Progress& progress, const char* command, const char* phase, int32_t epoch,
                                           int32_t batch_size, int64_t images);

// An epoch's record from its training result.
results::EpochRecord phase_epoch_record(int32_t epoch, const char* phase, double lr,
                                        const supernet::EpochResult& train);

}  // namespace nas::search
