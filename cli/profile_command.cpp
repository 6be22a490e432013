// nas profile: a run's network checked in QEMU on the target's stand-in and shown layer by layer, the cost model's
// estimate against the counted instructions, with RAM, flash, stack, latency and energy; stored like a
// `nas deploy --run-qemu` check (deployments, deployment_layers).
#include <fmt/format.h>

#include <cmath>
#include <iostream>
#include <optional>

#include "cli/commands.h"
#include "common/error.h"
#include "common/threads.h"
#include "cost_models/costs.h"
#include "cost_models/reuse_rate_model.h"
#include "deploy/codegen.h"
#include "results/deployment_records.h"
#include "runner/firmware_deploy.h"
#include "runner/firmware_tools.h"

namespace nas::cli {

namespace {

std::string shape(const deploy::Int8Tensor& t) { return fmt::format("{}x{}x{}", t.h, t.w, t.c); }

double error_pct(double estimate, double measured) { return measured > 0 ? 100 * (estimate / measured - 1) : 0; }

}  // namespace

int command_profile(const DeployArgs& args, const std::string& db_path, bool json) {
  std::optional<runner::TempFolder> scratch;  // the firmware's folder when --out does not keep it
  if (args.out.empty()) scratch.emplace("mcunas-profile");
  runner::FirmwareDeployOptions options;
  options.out = scratch ? scratch->path() : std::filesystem::path(args.out);
  options.run_qemu = true;
  options.board = false;
  FirmwareCommand run(args, db_path, json, options);
  auto& [db, target, d_ptr, result] = run;
  const runner::Int8Deployment& d = *d_ptr;
  auto& r = *result.qemu;
  r.out_dir = scratch ? "(not kept; pass --out to keep the firmware)"
                      : std::filesystem::absolute(options.out / "qemu").lexically_normal().string();
  r.id = results::store_deployment(db, r);

  const double cpi = target.cycles_per_instruction;
  const int64_t ram_limit = target.image ? target.image->ram_bytes : target.sram_bytes;
  const int64_t total_ram = r.ram_bytes + r.stack_bytes.value_or(0);
  nlohmann::json out = results::deployment_json(r);
  out["run"] = args.run_id;
  out["target"] = target.name;
  out["ram_limit_bytes"] = ram_limit;
  out["arena_bytes"] = d.plan.arena_bytes;
  out["arena_bytes_out_of_place"] = d.arena_bytes_out_of_place;
  out["liveness_lower_bound_bytes"] = d.plan.lower_bound_bytes;
  out["parameter_bytes"] = d.parameter_bytes;
  out["total_ram_bytes"] = total_ram;
  // Cycles from the measured instructions by timing class and the core's manual (cost_models/core_timing.h), where
  // the plugin gave the classes and the manual has a table.
  std::vector<std::optional<double>> trm(r.layers.size());
  std::optional<double> trm_total;
  for (size_t j = 0; j < r.layers.size() && j < result.qemu_layer_mix.size(); ++j) {
    trm[j] = cost_models::trm_cycles(target.core, result.qemu_layer_mix[j]);
    if (trm[j]) trm_total = trm_total.value_or(0) + *trm[j];
  }
  std::string text = fmt::format(
      "{} on {} ({}), counted in QEMU {} on {} test images: {}\n"
      "  {:>3}  {:<14} {:<15} {:<22} {:>9} {:>12} {:>12} {:>7} {}{:>9} {:>9}\n",
      runner::run_label(d.stored.run), target.name, target.core, r.machine, *r.images,
      *r.differing_images == 0 ? "every output byte equal to the host's"
                               : fmt::format("{} DIFFER from the host", *r.differing_images),
      "#", "layer", "kernel", "shape", "MACs", "est. instr", "measured", "error",
      trm_total ? fmt::format("{:>12} ", "TRM cycles") : "", "live RAM", "weights");
  double worst = 0;
  const auto graph = deploy::op_graph(d.model);
  std::string reuse_lines;
  for (size_t j = 0; j < r.layers.size(); ++j) {
    const auto& l = r.layers[j];
    const auto& op = d.model.ops[j];
    const double estimate = l.estimated_cycles / cpi;
    const double e = error_pct(estimate, l.instructions);
    worst = std::max(worst, std::fabs(e));
    const std::string io = shape(d.model.tensors[static_cast<size_t>(op.inputs[0])]) + ">" +
                           shape(d.model.tensors[static_cast<size_t>(op.output)]);
    text += fmt::format("  {:>3}  {:<14} {:<15} {:<22} {:>9} {:>12.0f} {:>12.0f} {:>+6.1f}% {}{:>9} {:>9}\n", l.layer,
                        l.name.substr(0, 14), l.kernel_path, io, l.macs, estimate, l.instructions, e,
                        trm_total ? fmt::format("{:>12.0f} ", trm[j].value_or(0)) : "", l.live_bytes,
                        l.parameter_bytes);
    out["layers"][j]["estimated_instructions"] = estimate;
    if (trm[j]) out["layers"][j]["trm_cycles"] = *trm[j];
    if (op.kind == deploy::Int8OpKind::reuse_conv) {
      // The multiply-adds a reuse convolution runs (hashing and the clusters' products) against its dense MACs.
      const auto& work = graph.ops[j];
      const double done = work.executed_macs + work.tail_macs;
      const auto& output = d.model.tensors[static_cast<size_t>(op.output)];
      out["layers"][j]["reuse_rate"] = op.reuse_rate;
      out["layers"][j]["sub_len"] = op.sub_len;
      out["layers"][j]["hash_bits"] = op.hash_bits;
      out["layers"][j]["pixels"] = output.h * output.w;  // sub-vectors per block and image
      // What the search priced it at before the network existed (cost_models/reuse_rate_model.h).
      const double expected = cost_models::estimated_reuse_rate(op.sub_len, op.hash_bits, output.h * output.w);
      out["layers"][j]["estimated_reuse_rate"] = expected;
      out["layers"][j]["reuse_macs"] = done;
      reuse_lines += fmt::format("  reuse   {}: L {}, H {}, {:.3f} clusters per sub-vector on the calibration images "
                                 "(the search's rate model: {:.3f}), {:.0f} multiply-adds ({:.1f} % of its {} dense "
                                 "MACs)\n",
                                 op.name, op.sub_len, op.hash_bits, op.reuse_rate, expected, done,
                                 100 * done / work.macs, l.macs);
    }
  }
  text += reuse_lines;
  const double estimate_total = *r.estimated_cycles_per_inference / cpi;
  const double whole = error_pct(estimate_total, *r.instructions_per_inference);
  out["estimated_instructions_per_inference"] = estimate_total;
  out["whole_network_error"] = whole / 100;
  out["worst_layer_error"] = worst / 100;
  if (trm_total) {
    out["trm_cycles_per_inference"] = *trm_total;
    out["trm_cycles_per_instruction"] = *trm_total / *r.instructions_per_inference;
  }
  text += fmt::format(
      "  total: {:.0f} instructions estimated, {:.0f} measured ({:+.1f} %; worst layer {:.1f} %)\n"
      "  latency {:.2f} ms measured, {:.2f} ms estimated (instructions x {} cycles/instruction at {:.0f} MHz; {})\n"
      "{}"
      "  energy  {:.1f} uJ measured, {:.1f} uJ estimated per inference at {:.1f} mW active\n"
      "  RAM     {} B static (arena {} B{}, estimate {} B) + stack {} B measured = {} B of {} B\n"
      "  flash   model {} B measured (the image less the same image with a stub model; parameters {} B), {} B "
      "estimated ({:+.1f} %)\n"
      "stored in {} (deployment {})\n",
      estimate_total, *r.instructions_per_inference, whole, worst, 1e3 * *r.measured_latency_s,
      1e3 * *r.estimated_latency_s, cpi, target.clock_hz / 1e6,
      target.calibration.empty() ? "hand-written coefficients" : target.calibration,
      trm_total ? fmt::format("  cycles  {:.0f} from the {} manual's instruction timings ({:.2f} per instruction: "
                              "{:.2f} ms at {:.0f} MHz)\n",
                              *trm_total, target.core, *trm_total / *r.instructions_per_inference,
                              1e3 * *trm_total / target.clock_hz, target.clock_hz / 1e6)
                : result.qemu_layer_mix.empty()
                      ? std::string("  cycles  not estimated: the QEMU plugin counted no timing classes\n")
                      : "  cycles  not estimated: no per-instruction timing table for " + target.core + "\n",
      1e6 * *r.measured_energy_j,
      1e6 * *r.estimated_energy_j, 1e3 * target.active_power_w, r.ram_bytes, d.plan.arena_bytes,
      d.arena_bytes_out_of_place == d.plan.arena_bytes
          ? ""
          : fmt::format("; {} B with no depthwise layer in place", d.arena_bytes_out_of_place),
      r.estimated_ram_bytes, r.stack_bytes.value_or(0), total_ram, ram_limit, r.model_flash_bytes.value_or(0),
      d.parameter_bytes, r.estimated_flash_bytes,
      error_pct(static_cast<double>(r.estimated_flash_bytes), static_cast<double>(r.model_flash_bytes.value_or(0))),
      db_path, r.id);
  if (json)
    std::cout << out.dump(2) << "\n";
  else
    std::cout << text;
  if (*r.differing_images > 0)
    throw Error("nas profile", fmt::format("{} of {} images differ from the host in QEMU", *r.differing_images,
                                           *r.images),
                Error::Kind::failure);
  return 0;
}

}  // namespace nas::cli
