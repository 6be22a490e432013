// Optimizers over a flat parameter span, and the learning-rate schedule. Weight decay applies only to slots with
// ParamRole::weight (not to biases or BatchNorm), the usual practice for convolutional networks.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "supernet/param_store.h"
#include "supernet/state_blob.h"

namespace nas::supernet {

struct OptimizerSpec {
  std::string type = "sgd";  // "sgd" | "adam"
  double momentum = 0.9;     // sgd
  bool nesterov = true;      // sgd
  double weight_decay = 5e-4;
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;  // adam (Kingma & Ba, 2015)
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  // Updates store.theta() from store.grads() with learning rate lr.
  virtual void step(ParamStore& store, double lr) = 0;
  // The moments and step count, for checkpoints (supernet/state_blob.h); load throws for another store's size.
  virtual void save(StateWriter& out) const = 0;
  virtual void load(StateReader& in) = 0;
};

// What is wrong with a spec (an unknown type, an out-of-range hyper-parameter), or "" when nothing is: config
// readers check a spec when they read it, so the error names the file and the key before any work starts.
std::string optimizer_spec_problem(const OptimizerSpec& spec);

// Throws nas::Error for an unknown type or out-of-range hyper-parameters (optimizer_spec_problem).
std::unique_ptr<Optimizer> make_optimizer(const OptimizerSpec& spec, const ParamStore& store);

// Learning rate per step: linear warm-up from 0 over `warmup_steps`, then cosine decay to `final_lr` at
// `total_steps` (Loshchilov & Hutter, SGDR, without restarts), or constant.
struct ScheduleSpec {
  std::string type = "cosine";  // "cosine" | "constant"
  double lr = 0.1;
  double final_lr = 0.0;
  double warmup_epochs = 0.0;
};

// The same for a learning-rate schedule (LrSchedule throws it).
std::string schedule_spec_problem(const ScheduleSpec& spec);

class LrSchedule {
 public:
  LrSchedule(const ScheduleSpec& spec, int64_t steps_per_epoch, int32_t epochs);
  double at(int64_t step) const;

 private:
  ScheduleSpec spec_;
  int64_t warmup_steps_, total_steps_;
};

}  // namespace nas::supernet
