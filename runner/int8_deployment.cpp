#include "runner/int8_deployment.h"

#include <fmt/format.h>

namespace nas::runner {

Int8Deployment prepare_int8(results::StoredNetwork stored, const deploy::CalibrationSpec& calibration) {
  Int8Deployment d{std::move(stored), {}, {}, 0};
  d.model = deploy::quantize_network(*d.stored.net, d.stored.data, calibration);
  d.plan = cost_models::plan_arena(deploy::op_graph(d.model));
  for (const auto& op : d.model.ops) d.parameter_bytes += deploy::parameter_bytes(op);
  return d;
}

std::string run_label(const results::RunSummary& run) {
  return fmt::format("run {} ({}{})", run.id, run.kind, run.target.empty() ? "" : " for " + run.target);
}

std::string memory_line(const Int8Deployment& d) {
  const double ratio = d.plan.lower_bound_bytes > 0
                           ? static_cast<double>(d.plan.arena_bytes) / static_cast<double>(d.plan.lower_bound_bytes)
                           : 1.0;
  return fmt::format("arena {} B ({:.3f}x the liveness lower bound of {} B, {} layout), parameters {} B in flash",
                     d.plan.arena_bytes, ratio, d.plan.lower_bound_bytes, d.plan.layout, d.parameter_bytes);
}

nlohmann::json memory_json(const Int8Deployment& d) {
  return {{"arena_bytes", d.plan.arena_bytes},
          {"liveness_lower_bound_bytes", d.plan.lower_bound_bytes},
          {"layout", d.plan.layout},
          {"parameter_bytes", d.parameter_bytes}};
}

}  // namespace nas::runner
