#include "supernet/optimizer.h"

#include <cmath>
#include <numbers>
#include <sstream>

#include "common/error.h"

namespace nas::supernet {

namespace {

// Calls fn(begin, end, decay) over the trainable slots, decay being the weight decay of that slot.
template <class Fn>
void for_trainable(const ParamStore& store, double weight_decay, Fn&& fn) {
  for (const auto& slot : store.slots()) {
    if (slot.role == ParamRole::state) continue;
    fn(slot.offset, slot.offset + slot.count, slot.role == ParamRole::weight ? static_cast<float>(weight_decay) : 0.0f);
  }
}

class Sgd final : public Optimizer {
 public:
  Sgd(const OptimizerSpec& spec, size_t size) : spec_(spec), velocity_(size, 0.0f) {}

  void step(ParamStore& store, double lr) override {
    float* theta = store.theta().data();
    const float* grad = store.grads().data();
    const float mu = static_cast<float>(spec_.momentum), rate = static_cast<float>(lr);
    for_trainable(store, spec_.weight_decay, [&](int64_t begin, int64_t end, float decay) {
      for (int64_t i = begin; i < end; ++i) {
        const float g = grad[i] + decay * theta[i];
        velocity_[i] = mu * velocity_[i] + g;
        theta[i] -= rate * (spec_.nesterov ? g + mu * velocity_[i] : velocity_[i]);
      }
    });
  }

  void save(StateWriter& out) const override { out.floats(velocity_); }
  void load(StateReader& in) override { in.floats(velocity_); }

 private:
  OptimizerSpec spec_;
  std::vector<float> velocity_;
};

class Adam final : public Optimizer {
 public:
  Adam(const OptimizerSpec& spec, size_t size) : spec_(spec), m_(size, 0.0f), v_(size, 0.0f) {}

  void step(ParamStore& store, double lr) override {
    ++t_;
    float* theta = store.theta().data();
    const float* grad = store.grads().data();
    const float b1 = static_cast<float>(spec_.beta1), b2 = static_cast<float>(spec_.beta2);
    // Bias corrections folded into the step size.
    const double c1 = 1.0 - std::pow(spec_.beta1, static_cast<double>(t_));
    const double c2 = 1.0 - std::pow(spec_.beta2, static_cast<double>(t_));
    const float rate = static_cast<float>(lr * std::sqrt(c2) / c1);
    const float eps = static_cast<float>(spec_.eps * std::sqrt(c2));
    for_trainable(store, spec_.weight_decay, [&](int64_t begin, int64_t end, float decay) {
      for (int64_t i = begin; i < end; ++i) {
        const float g = grad[i] + decay * theta[i];
        m_[i] = b1 * m_[i] + (1 - b1) * g;
        v_[i] = b2 * v_[i] + (1 - b2) * g * g;
        theta[i] -= rate * m_[i] / (std::sqrt(v_[i]) + eps);
      }
    });
  }

  void save(StateWriter& out) const override {
    out.i64(t_);
    out.floats(m_);
    out.floats(v_);
  }
  void load(StateReader& in) override {
    t_ = in.i64();
    in.floats(m_);
    in.floats(v_);
  }

 private:
  OptimizerSpec spec_;
  std::vector<float> m_, v_;
  int64_t t_ = 0;
};

}  // namespace

std::string optimizer_spec_problem(const OptimizerSpec& spec) {
  if (spec.type != "sgd" && spec.type != "adam") return "unknown type '" + spec.type + "' (known: sgd, adam)";
  if (!(spec.weight_decay >= 0)) return "weight_decay must be >= 0";
  if (spec.type == "sgd" && !(spec.momentum >= 0 && spec.momentum < 1)) return "sgd momentum must be in [0, 1)";
  if (spec.type == "adam" && !(spec.beta1 >= 0 && spec.beta1 < 1 && spec.beta2 >= 0 && spec.beta2 < 1))
    return "adam betas must be in [0, 1)";
  return "";
}

std::unique_ptr<Optimizer> make_optimizer(const OptimizerSpec& spec, const ParamStore& store) {
  if (const std::string problem = optimizer_spec_problem(spec); !problem.empty()) throw Error("optimizer", problem);
  const size_t size = store.theta().size();
  if (spec.type == "sgd") return std::make_unique<Sgd>(spec, size);
  return std::make_unique<Adam>(spec, size);
}

std::string schedule_spec_problem(const ScheduleSpec& spec) {
  if (spec.type != "cosine" && spec.type != "constant")
    return "unknown type '" + spec.type + "' (known: cosine, constant)";
  if (!(spec.lr > 0)) {
    std::ostringstream got;  // shortest form: 0, -0.1, 1e-05
    got << spec.lr;
    return "lr must be positive (got " + got.str() + ")";
  }
  return "";
}

LrSchedule::LrSchedule(const ScheduleSpec& spec, int64_t steps_per_epoch, int32_t epochs)
    : spec_(spec),
      warmup_steps_(static_cast<int64_t>(std::llround(spec.warmup_epochs * static_cast<double>(steps_per_epoch)))),
      total_steps_(steps_per_epoch * epochs) {
  if (const std::string problem = schedule_spec_problem(spec); !problem.empty()) throw Error("schedule", problem);
}

double LrSchedule::at(int64_t step) const {
  if (step < warmup_steps_) return spec_.lr * static_cast<double>(step + 1) / static_cast<double>(warmup_steps_);
  if (spec_.type == "constant") return spec_.lr;
  const double span = static_cast<double>(std::max<int64_t>(1, total_steps_ - warmup_steps_));
  const double progress = std::min(1.0, static_cast<double>(step - warmup_steps_) / span);
  return spec_.final_lr + 0.5 * (spec_.lr - spec_.final_lr) * (1.0 + std::cos(std::numbers::pi * progress));
}

}  // namespace nas::supernet
