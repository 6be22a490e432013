// nas deploy: a finished run's network as Cortex-M firmware for a board, and its check in QEMU
// (runner/firmware_deploy.h does the work; this prints and stores what it measured).
#include <fmt/format.h>

#include <iostream>

#include "cli/commands.h"
#include "common/error.h"
#include "common/threads.h"
#include "deploy/codegen.h"
#include "results/deployment_records.h"
#include "runner/firmware_deploy.h"
#include "runner/latency_calibration.h"

namespace nas::cli {

namespace {

std::string bytes(int64_t n) { return fmt::format("{:>9L}", n); }

std::string board_text(const results::DeploymentRecord& r, const cost_models::Target& t) {
  const auto& image = *t.image;
  return fmt::format(
      "  image   {0}/{1}.elf, {1}.hex, {1}.bin (flash from {2:#x})\n"
      "  flash {3} B  text + data, arm-none-eabi-size; {4:.1f} % of {5:L} B   cost model: model {6:L} B\n"
      "  RAM   {7} B  data + bss (arena among it);       {8:.1f} % of {9:L} B   cost model: arena {10:L} B\n",
      r.out_dir, t.name, image.flash_origin, bytes(r.flash_bytes),
      100.0 * static_cast<double>(r.flash_bytes) / static_cast<double>(image.flash_bytes), image.flash_bytes,
      r.estimated_flash_bytes, bytes(r.ram_bytes),
      100.0 * static_cast<double>(r.ram_bytes) / static_cast<double>(image.ram_bytes), image.ram_bytes,
      r.estimated_ram_bytes);
}

std::string qemu_text(const results::DeploymentRecord& r) {
  std::string s = fmt::format(
      "QEMU {} ({}): {} test images, {}\n"
      "  {:.0f} instructions per inference (cost model: {:.0f} cycles); per layer, mean over the images:\n"
      "  {:>3}  {:<28} {:<16} {:>10} {:>13} {:>9} {:>13}\n",
      r.machine, r.core, *r.images,
      *r.differing_images == 0 ? "every output byte equal to the host's"
                               : fmt::format("{} of them DIFFER from the host", *r.differing_images),
      *r.instructions_per_inference, *r.estimated_cycles_per_inference, "#", "layer", "kernel", "MACs",
      "instructions", "instr/MAC", "est. cycles");
  for (const auto& l : r.layers)
    s += fmt::format("  {:>3}  {:<28} {:<16} {:>10} {:>13.0f} {:>9} {:>13.0f}\n", l.layer, l.name.substr(0, 28),
                     l.kernel_path, l.macs, l.instructions,
                     l.macs > 0 ? fmt::format("{:.2f}", l.instructions / static_cast<double>(l.macs)) : "-",
                     l.estimated_cycles);
  return s;
}

}  // namespace

FirmwareCommand::FirmwareCommand(const DeployArgs& args, const std::string& db_path, bool json,
                                 runner::FirmwareDeployOptions options)
    : db((require_existing(db_path), db_path)),  // refused before SQLite would create a missing file
      target(cost_models::load_target(args.target)) {
  const ThreadBudget threads(args.threads);
  search::Progress progress(search::Progress::detect(json));
  options.images = args.images;
  options.origin = fmt::format("run {} of {}", args.run_id, db_path);
  // Tools first: a missing compiler is refused before seconds of calibration, with nothing written.
  d = std::make_unique<runner::Int8Deployment>(int8_run(db, args, progress, [&] {
    runner::check_firmware_tools(target, options);
    deploy::make_output_dir(options.out);
  }));
  result = runner::deploy_firmware(*d, target, options, [&](const std::string& s) { progress.message(s); });
}

int command_deploy(const DeployArgs& args, const std::string& db_path, bool json) {
  runner::FirmwareDeployOptions options;
  options.out = args.out;
  options.run_qemu = args.run_qemu;
  FirmwareCommand run(args, db_path, json, options);
  auto& [db, target, d_ptr, result] = run;
  const runner::Int8Deployment& d = *d_ptr;

  nlohmann::json out = {{"run", args.run_id}, {"target", target.name}, {"files", result.files}};
  std::string text = fmt::format("{} deployed to {} ({}) in {}\n", runner::run_label(d.stored.run), target.name,
                                 target.core, args.out);
  for (auto* record : {&result.board, &result.qemu}) {
    if (!*record) continue;
    (*record)->id = results::store_deployment(db, **record);
    out[(*record)->kind] = results::deployment_json(**record);
  }
  if (result.board) text += board_text(*result.board, target);
  if (result.qemu) text += qemu_text(*result.qemu);
  text += fmt::format("stored in {} (deployments {}{})\n", db_path,
                      result.board ? std::to_string(result.board->id) : std::string(),
                      result.qemu ? (result.board ? " and " : "") + std::to_string(result.qemu->id) : std::string());
  if (json)
    std::cout << out.dump(2) << "\n";
  else
    std::cout << text;
  if (result.qemu && *result.qemu->differing_images > 0)
    throw Error("--run-qemu", fmt::format("{} of {} images differ from the host in QEMU (see {}/qemu/console.txt)",
                                          *result.qemu->differing_images, *result.qemu->images, args.out),
                Error::Kind::failure);
  return 0;
}

int command_calibrate(const std::string& target_name, const std::string& out, bool json) {
  const cost_models::Target target = cost_models::load_target(target_name, /*calibrated=*/false);
  search::Progress progress(search::Progress::detect(json));
  const auto outcome = runner::calibrate_target(target, out, [&](const std::string& s) { progress.message(s); });
  const auto& c = outcome.calibration;
  nlohmann::json j = {{"target", target.name},
                      {"core", c.core},
                      {"qemu_machine", c.qemu_machine},
                      {"commit", c.commit},
                      {"date", c.date},
                      {"calls", outcome.calls},
                      {"file", outcome.written.string()},
                      {"cycles_per_instruction", target.cycles_per_instruction}};
  std::string text = fmt::format(
      "{}: {} kernel calls counted on QEMU {} ({}, commit {}); coefficients in {}\n"
      "  {:<16} {:>6} {:>9} {:>9} {:>10}   {}\n",
      target.name, outcome.calls, c.qemu_machine, c.core, c.commit, outcome.written.string(), "kernel path",
      "calls", "max err", "mean err", "within 10%", "instructions per MAC / output / call");
  for (size_t p = 0; p < cost_models::kKernelPathCount; ++p) {
    const auto& f = c.fit[p];
    const auto& k = c.instructions[p];
    text += fmt::format("  {:<16} {:>6} {:>8.1f}% {:>8.1f}% {:>9.0f}%   {:.3f} / {:.1f} / {:.0f}\n",
                        cost_models::kKernelPathNames[p], f.samples, 100 * f.max_error, 100 * f.mean_error,
                        100 * f.within_10, k.per_mac, k.per_output, k.per_call);
    nlohmann::json terms;
    for (size_t t = 0; t < cost_models::kLatencyTermNames.size(); ++t)
      if (cost_models::term(k, t) != 0) terms[cost_models::kLatencyTermNames[t]] = cost_models::term(k, t);
    j["paths"][std::string(cost_models::kKernelPathNames[p])] = {{"calls", f.samples},
                                                                  {"max_error", f.max_error},
                                                                  {"mean_error", f.mean_error},
                                                                  {"within_10", f.within_10},
                                                                  {"instructions", terms}};
  }
  text += fmt::format("  the search now prices {} with these: cycles = instructions x {} (cycles_per_instruction in "
                      "{})\n",
                      target.name, target.cycles_per_instruction, target.source_path);
  if (json)
    std::cout << j.dump(2) << "\n";
  else
    std::cout << text;
  return 0;
}

}  // namespace nas::cli
