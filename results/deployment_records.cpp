#include "results/deployment_records.h"

#include <fmt/format.h>

#include <utility>

#include "common/error.h"
#include "results/sqlite_statement.h"

namespace nas::results {

using sql::Statement;
using sql::Transaction;

namespace {

std::optional<int64_t> optional_integer(const Statement& row, int col) {
  const auto v = row.optional_real(col);
  return v ? std::optional<int64_t>(static_cast<int64_t>(*v)) : std::nullopt;
}

}  // namespace

int64_t store_deployment(ResultsDb& db, const DeploymentRecord& r) {
  sqlite3* c = db.connection();
  const std::string where = db.path().string();
  Transaction tx(c, where);
  {
    Statement run(c, where, "SELECT 1 FROM runs WHERE id = ?");
    run.bind(1, r.run_id);
    if (!run.step()) throw Error(where, "no run " + std::to_string(r.run_id) + " to store a deployment for");
  }
  Statement insert(c, where,
                   "INSERT INTO deployments (run_id, created_at, target, kind, machine, core, flash_bytes, ram_bytes, "
                   "estimated_flash_bytes, estimated_ram_bytes, images, differing_images, instructions_per_inference, "
                   "estimated_cycles_per_inference, cycles_per_instruction, measured_latency_s, estimated_latency_s, "
                   "measured_energy_j, estimated_energy_j, stack_bytes, model_flash_bytes, out_dir) VALUES (?, "
                   "strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                   "?)");
  insert.bind(1, r.run_id).bind(2, r.target).bind(3, r.kind).bind(4, r.machine).bind(5, r.core);
  insert.bind(6, r.flash_bytes).bind(7, r.ram_bytes).bind(8, r.estimated_flash_bytes);
  insert.bind(9, r.estimated_ram_bytes);
  if (r.images) insert.bind(10, *r.images); else insert.bind_null(10);
  if (r.differing_images) insert.bind(11, *r.differing_images); else insert.bind_null(11);
  insert.bind(12, r.instructions_per_inference).bind(13, r.estimated_cycles_per_inference);
  insert.bind(14, r.cycles_per_instruction).bind(15, r.measured_latency_s).bind(16, r.estimated_latency_s);
  insert.bind(17, r.measured_energy_j).bind(18, r.estimated_energy_j);
  if (r.stack_bytes) insert.bind(19, *r.stack_bytes); else insert.bind_null(19);
  if (r.model_flash_bytes) insert.bind(20, *r.model_flash_bytes); else insert.bind_null(20);
  insert.bind(21, r.out_dir);
  insert.run();
  const int64_t id = sqlite3_last_insert_rowid(c);
  for (const auto& l : r.layers) {
    Statement layer(c, where,
                    "INSERT INTO deployment_layers (deployment_id, layer, name, kernel_path, macs, instructions, "
                    "estimated_cycles, parameter_bytes, live_bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
    layer.bind(1, id).bind(2, int64_t{l.layer}).bind(3, l.name).bind(4, l.kernel_path);
    layer.bind(5, l.macs).bind(6, l.instructions).bind(7, l.estimated_cycles).bind(8, l.parameter_bytes);
    layer.bind(9, l.live_bytes).run();
  }
  tx.commit();
  return id;
}

nlohmann::json deployment_json(const DeploymentRecord& r) {
  nlohmann::json j = {{"id", r.id},
                      {"kind", r.kind},
                      {"machine", r.machine},
                      {"core", r.core},
                      {"flash_bytes", r.flash_bytes},
                      {"ram_bytes", r.ram_bytes},
                      {"estimated_flash_bytes", r.estimated_flash_bytes},
                      {"estimated_ram_bytes", r.estimated_ram_bytes},
                      {"out", r.out_dir}};
  if (r.images) j["images"] = *r.images;
  if (r.differing_images) j["differing_images"] = *r.differing_images;
  if (r.instructions_per_inference) j["instructions_per_inference"] = *r.instructions_per_inference;
  if (r.estimated_cycles_per_inference) j["estimated_cycles_per_inference"] = *r.estimated_cycles_per_inference;
  const std::pair<const char*, const std::optional<double>*> optional[] = {
      {"cycles_per_instruction", &r.cycles_per_instruction}, {"measured_latency_s", &r.measured_latency_s},
      {"estimated_latency_s", &r.estimated_latency_s},       {"measured_energy_j", &r.measured_energy_j},
      {"estimated_energy_j", &r.estimated_energy_j}};
  for (const auto& [key, value] : optional)
    if (*value) j[key] = **value;
  if (r.stack_bytes) j["stack_bytes"] = *r.stack_bytes;
  if (r.model_flash_bytes) j["model_flash_bytes"] = *r.model_flash_bytes;
  for (const auto& l : r.layers)
    j["layers"].push_back({{"layer", l.layer},
                           {"name", l.name},
                           {"kernel_path", l.kernel_path},
                           {"macs", l.macs},
                           {"instructions", l.instructions},
                           {"estimated_cycles", l.estimated_cycles},
                           {"parameter_bytes", l.parameter_bytes},
                           {"live_bytes", l.live_bytes}});
  return j;
}

std::string deployment_lines(const std::vector<DeploymentRecord>& records) {
  if (records.empty()) return "";
  std::string text = "deployments (nas deploy):\n";
  for (const auto& r : records) {
    text += fmt::format("  {:>3}  {:<5}  {:<11} flash {} B (estimate {} B), RAM {} B (arena estimate {} B)  {}\n", r.id,
                        r.kind, r.machine, r.flash_bytes, r.estimated_flash_bytes, r.ram_bytes, r.estimated_ram_bytes,
                        r.created_at);
    if (r.images)
      text += fmt::format("       {} test images, {} differing from the host; {:.0f} instructions per inference "
                          "(estimate {:.0f} cycles)\n",
                          *r.images, r.differing_images.value_or(0), r.instructions_per_inference.value_or(0),
                          r.estimated_cycles_per_inference.value_or(0));
    if (r.measured_latency_s)
      text += fmt::format("       latency {:.3f} ms measured, {:.3f} ms estimated; energy {:.1f} uJ measured, {:.1f} "
                          "uJ estimated; stack {} B\n",
                          1e3 * *r.measured_latency_s, 1e3 * r.estimated_latency_s.value_or(0),
                          1e6 * r.measured_energy_j.value_or(0), 1e6 * r.estimated_energy_j.value_or(0),
                          r.stack_bytes.value_or(0));
  }
  return text;
}

std::vector<DeploymentRecord> deployments_of_run(const ResultsDb& db, int64_t run_id) {
  sqlite3* c = db.connection();
  const std::string where = db.path().string();
  Statement query(c, where,
                  "SELECT id, run_id, created_at, target, kind, machine, core, flash_bytes, ram_bytes, "
                  "estimated_flash_bytes, estimated_ram_bytes, images, differing_images, instructions_per_inference, "
                  "estimated_cycles_per_inference, out_dir, cycles_per_instruction, measured_latency_s, "
                  "estimated_latency_s, measured_energy_j, estimated_energy_j, stack_bytes, model_flash_bytes "
                  "FROM deployments WHERE run_id = ? ORDER BY id");
  query.bind(1, run_id);
  std::vector<DeploymentRecord> records;
  while (query.step()) {
    DeploymentRecord r;
    r.id = query.integer(0);
    r.run_id = query.integer(1);
    r.created_at = query.text(2);
    r.target = query.text(3);
    r.kind = query.text(4);
    r.machine = query.text(5);
    r.core = query.text(6);
    r.flash_bytes = query.integer(7);
    r.ram_bytes = query.integer(8);
    r.estimated_flash_bytes = query.integer(9);
    r.estimated_ram_bytes = query.integer(10);
    r.images = optional_integer(query, 11);
    r.differing_images = optional_integer(query, 12);
    r.instructions_per_inference = query.optional_real(13);
    r.estimated_cycles_per_inference = query.optional_real(14);
    r.out_dir = query.text(15);
    r.cycles_per_instruction = query.optional_real(16);
    r.measured_latency_s = query.optional_real(17);
    r.estimated_latency_s = query.optional_real(18);
    r.measured_energy_j = query.optional_real(19);
    r.estimated_energy_j = query.optional_real(20);
    r.stack_bytes = optional_integer(query, 21);
    r.model_flash_bytes = optional_integer(query, 22);
    records.push_back(std::move(r));
  }
  for (auto& r : records) {
    Statement layers(c, where,
                     "SELECT layer, name, kernel_path, macs, instructions, estimated_cycles, parameter_bytes, "
                     "live_bytes FROM "
                     "deployment_layers WHERE deployment_id = ? ORDER BY layer");
    layers.bind(1, r.id);
    while (layers.step())
      r.layers.push_back({static_cast<int32_t>(layers.integer(0)), layers.text(1), layers.text(2), layers.integer(3),
                          layers.real(4), layers.real(5), layers.integer(6), layers.integer(7)});
  }
  return records;
}

}  // namespace nas::results
