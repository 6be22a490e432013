#include "supernet/param_store.h"

#include "common/error.h"

namespace nas::supernet {

int32_t ParamStore::declare(std::string name, int64_t count, ParamRole role) {
  if (allocated_) throw Error("ParamStore", "declare after allocate (slot " + name + ")", Error::Kind::failure);
  slots_.push_back({std::move(name), role, 0, count});
  return static_cast<int32_t>(slots_.size() - 1);
}

void ParamStore::allocate() {
  int64_t trainable = 0, state = 0;
  for (auto& slot : slots_) {
    int64_t& cursor = slot.role == ParamRole::state ? state : trainable;
    slot.offset = cursor;
    cursor += slot.count;
  }
  theta_.assign(static_cast<size_t>(trainable), 0.0f);
  grads_.assign(static_cast<size_t>(trainable), 0.0f);
  state_.assign(static_cast<size_t>(state), 0.0f);
  allocated_ = true;
}

std::span<float> ParamStore::value(int32_t handle) {
  const auto& s = slots_.at(static_cast<size_t>(handle));
  auto& buffer = s.role == ParamRole::state ? state_ : theta_;
  return std::span<float>(buffer).subspan(static_cast<size_t>(s.offset), static_cast<size_t>(s.count));
}

std::span<const float> ParamStore::value(int32_t handle) const {
  return const_cast<ParamStore*>(this)->value(handle);
}

std::span<float> ParamStore::grad(int32_t handle) {
  const auto& s = slots_.at(static_cast<size_t>(handle));
  if (s.role == ParamRole::state) throw Error("ParamStore", "state slot " + s.name + " has no gradient", Error::Kind::failure);
  return std::span<float>(grads_).subspan(static_cast<size_t>(s.offset), static_cast<size_t>(s.count));
}

}  // namespace nas::supernet
