#include "results/stored_network.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>

#include "common/error.h"
#include "supernet/network_builder.h"

namespace nas::results {

void restore_values(const std::vector<float>& stored, std::span<float> into, const std::string& where,
                    const char* what) {
  if (stored.size() != into.size())
    throw Error(where, "stored " + std::string(what) + " have " + std::to_string(stored.size()) +
                           " values but its network needs " + std::to_string(into.size()) +
                           " (the database and this nas disagree; re-run the search with this version)",
                Error::Kind::failure);  // stored data that does not fit, like damaged weights: exit 1
  std::copy(stored.begin(), stored.end(), into.begin());
}

StoredNetwork load_stored_network(const ResultsDb& db, int64_t run_id) {
  const std::string where = "run " + std::to_string(run_id);
  auto detail = db.get_run(run_id);
  if (!detail)
    throw Error(where, "no such run in " + db.path().string() + " (nas runs lists the runs; --db picks another file)");
  const auto& s = detail->summary;
  if (s.status == "failed")
    throw Error(where, "its " + s.kind + " failed (" + detail->error + "); it has no network to use, run it again");
  if (s.status != "done")
    throw Error(where, "is '" + s.status + "', not finished; only a finished run has final weights");

  StoredNetwork out;
  out.run = s;
  const YAML::Node config = YAML::Load(detail->config_yaml);
  // A search's fixed architecture, or a training run's `model:` section.
  const YAML::Node model = detail->architecture ? YAML::Load(detail->architecture->model_yaml) : config["model"];
  if (!model) throw Error(where, "has no fixed architecture (its search ended before fixing one)");
  if (detail->weights.empty()) throw Error(where, "has no stored weights");

  const std::filesystem::path base = s.config_path.empty() ? std::filesystem::current_path()
                                                           : std::filesystem::path(s.config_path).parent_path();
  const auto spec = supernet::parse_data_spec(config["data"], base);
  out.data = supernet::load_data(spec, s.seed);
  const supernet::Shape input = out.data.train.batch_shape(1);
  out.net = std::make_unique<supernet::Network>(
      supernet::build_network(model, input, out.data.train.num_classes, s.seed));
  restore_values(detail->weights, out.net->params().theta(), where, "weights");
  restore_values(detail->state, out.net->params().state(), where, "BatchNorm statistics");
  return out;
}

}  // namespace nas::results
