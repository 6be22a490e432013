#include "cost_models/memory_planner.h"

namespace nas::cost_models {

LivenessReport liveness(const OpGraph<double>& graph) {
  const auto m = planner_detail::moments(graph);
  LivenessReport report;
  report.live_bytes = m.op_live;
  report.peak_bytes = peak_ram(graph);
  const planner_detail::Step<double>* peak_step = nullptr;
  for (const auto& step : m.steps)
    if (peak_step == nullptr || step.bytes > peak_step->bytes) peak_step = &step;
  if (peak_step == nullptr) return report;

  // Within the peak step, the most likely choice (for an ungrouped op, the op itself) and its largest op.
  int32_t best_choice = graph.ops[peak_step->first_op].choice;
  double best_presence = -1;
  for (int32_t k = peak_step->first_op; k <= peak_step->last_op; ++k)
    if (graph.ops[k].presence > best_presence) {
      best_presence = graph.ops[k].presence;
      best_choice = graph.ops[k].choice;
    }
  for (int32_t k = peak_step->first_op; k <= peak_step->last_op; ++k)
    if (graph.ops[k].choice == best_choice && (report.peak_op < 0 || m.op_live[k] > m.op_live[report.peak_op]))
      report.peak_op = k;
  return report;
}

}  // namespace nas::cost_models
