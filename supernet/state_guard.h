// Puts a parameter store's state (BatchNorm running statistics) back when it goes out of scope: for passes that
// must run BatchNorm in training mode — batch statistics, as the supernet's paths were trained — without moving
// the statistics the weights carry (architecture steps on held-out data, accuracy estimates of single paths).
#pragma once

#include <algorithm>
#include <vector>

#include "supernet/param_store.h"

namespace nas::supernet {

class StateGuard {
 public:
  explicit StateGuard(ParamStore& store) : store_(store), saved_(store.state().begin(), store.state().end()) {}
  ~StateGuard() { std::copy(saved_.begin(), saved_.end(), store_.state().begin()); }
  StateGuard(const StateGuard&) = delete;
  StateGuard& operator=(const StateGuard&) = delete;

 private:
  ParamStore& store_;
  std::vector<float> saved_;
};

}  // namespace nas::supernet
