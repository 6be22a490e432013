#include "search/seed_run.h"

#include <yaml-cpp/yaml.h>

#include "common/error.h"
#include "common/yaml_keys.h"
#include "results/stored_network.h"
#include "supernet/network_builder.h"

namespace nas::search {

namespace {

const char* const kWhere = "--seed-run";

// The run's fixed architecture; one line naming --seed-run when it has none.
std::pair<results::RunDetail, supernet::FixedArch> seed_detail(const results::ResultsDb& db, int64_t run_id) {
  const std::string id = std::to_string(run_id);
  auto detail = db.get_run(run_id);
  if (!detail) throw Error(kWhere, "no run " + id + " in " + db.path().string() + " (nas runs lists them)");
  if (detail->summary.status != "done")
    throw Error(kWhere, "run " + id + " is '" + detail->summary.status + "', not finished");
  if (!detail->architecture || detail->weights.empty())
    throw Error(kWhere, "run " + id + " (" + detail->summary.kind + ") has no fixed network of the search space with "
                        "weights; a network of your own comes in with nas import model.onnx --as-seed");
  supernet::FixedArch arch = supernet::parse_fixed_arch(YAML::Load(detail->architecture->arch_yaml));
  return {std::move(*detail), std::move(arch)};
}

}  // namespace

YAML::Node seed_run_space(const supernet::FixedArch& arch) {
  YAML::Node blocks(YAML::NodeType::Sequence);
  for (const supernet::FixedBlock& b : arch.blocks) {
    YAML::Node block;
    block["name"] = b.name;
    block["out"] = b.out_channels;
    block["stride"] = b.stride;
    YAML::Node ops(YAML::NodeType::Sequence);
    ops.push_back(b.op.name());
    block["ops"] = ops;
    blocks.push_back(block);
  }
  YAML::Node space;
  space["blocks"] = blocks;
  return space;
}

SearchConfig seed_run_config(const results::ResultsDb& db, int64_t run_id, const SearchConfig& config,
                             const SearchOverrides& overrides) {
  const auto [detail, arch] = seed_detail(db, run_id);
  YAML::Node root = YAML::Clone(config.root);
  root["search_space"] = seed_run_space(arch);
  YAML::Node data = YAML::Clone(YAML::Load(detail.config_yaml)["data"]);
  // The run's data files are relative to the config it was made with; the search's config lies elsewhere.
  const bool synthetic = data["format"] && data["format"].as<std::string>() == "synthetic";
  if (!detail.summary.config_path.empty() && !synthetic) {
    const std::filesystem::path base = std::filesystem::path(detail.summary.config_path).parent_path();
    if (data["dir"])
      data["dir"] = (base / data["dir"].as<std::string>()).lexically_normal().string();  // "/abs" stays itself
    else if (!data["dataset"])
      data["dir"] = base.lexically_normal().string();
  }
  root["data"] = data;
  return search_config_from_text(yaml::to_text(root), config.path, overrides);
}

SeedNetwork load_seed_network(const results::ResultsDb& db, int64_t run_id, supernet::Shape input, int32_t classes) {
  auto [detail, arch] = seed_detail(db, run_id);
  SeedNetwork seed;
  seed.net = std::make_unique<supernet::Network>(
      supernet::build_network(supernet::fixed_model_yaml(arch), input, classes, detail.summary.seed));
  const std::string where = "--seed-run " + std::to_string(run_id);
  results::restore_values(detail.weights, seed.net->params().theta(), where, "weights");
  results::restore_values(detail.state, seed.net->params().state(), where, "BatchNorm statistics");
  seed.arch = std::move(arch);
  return seed;
}

}  // namespace nas::search
