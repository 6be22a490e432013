#include "runner/int8_deployment.h"

#include <fmt/format.h>

#include "common/error.h"
#include "deploy/tflite_import.h"

namespace nas::runner {

Int8Deployment prepare_int8(results::StoredNetwork stored, const deploy::CalibrationSpec& calibration) {
  Int8Deployment d{std::move(stored), {}, {}, 0, 0, {}};
  d.model = deploy::quantize_network(*d.stored.net, d.stored.data, calibration);
  plan_int8(d);
  return d;
}

Int8Deployment imported_int8(results::StoredNetwork stored, const results::ImportedModel& model) {
  Int8Deployment d{std::move(stored), {}, {}, 0, 0, {}};
  if (model.format != "tflite")
    throw Error("run " + std::to_string(d.stored.run.id),
                "holds a model of format '" + model.format + "', which this nas cannot read (a newer nas wrote it)");
  d.model = deploy::read_tflite(model.bytes, "run " + std::to_string(d.stored.run.id), &d.description);
  plan_int8(d);
  return d;
}

void plan_int8(Int8Deployment& d) {
  auto graph = deploy::op_graph(d.model);
  d.plan = cost_models::plan_arena(graph);
  for (auto& op : graph.ops) op.writes_over_input = false;
  d.arena_bytes_out_of_place = cost_models::plan_arena(graph).arena_bytes;
  d.parameter_bytes = 0;
  for (const auto& op : d.model.ops) d.parameter_bytes += deploy::parameter_bytes(op);
}

std::string run_label(const results::RunSummary& run) {
  return fmt::format("run {} ({}{})", run.id, run.kind, run.target.empty() ? "" : " for " + run.target);
}

std::string memory_line(const Int8Deployment& d) {
  const double ratio = d.plan.lower_bound_bytes > 0
                           ? static_cast<double>(d.plan.arena_bytes) / static_cast<double>(d.plan.lower_bound_bytes)
                           : 1.0;
  const std::string in_place = d.arena_bytes_out_of_place == d.plan.arena_bytes
                                   ? ""
                                   : fmt::format("; {} B with no depthwise layer in place", d.arena_bytes_out_of_place);
  return fmt::format("arena {} B ({:.3f}x the liveness lower bound of {} B, {} layout{}), parameters {} B in flash",
                     d.plan.arena_bytes, ratio, d.plan.lower_bound_bytes, d.plan.layout, in_place, d.parameter_bytes);
}

nlohmann::json memory_json(const Int8Deployment& d) {
  return {{"arena_bytes", d.plan.arena_bytes},
          {"liveness_lower_bound_bytes", d.plan.lower_bound_bytes},
          {"arena_bytes_out_of_place", d.arena_bytes_out_of_place},
          {"layout", d.plan.layout},
          {"parameter_bytes", d.parameter_bytes}};
}

}  // namespace nas::runner
