#include "results/stored_network.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>

#include "common/error.h"
#include "results/imported_models.h"
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

namespace {

// The checks every use of a stored run makes, then the run's summary and data splits (no network yet). A caller
// that wants the float `network` is refused an imported int8 model.
struct FinishedRun {
  RunDetail detail;
  StoredNetwork stored;
};
FinishedRun load_finished_run(const ResultsDb& db, int64_t run_id, bool network) {
  const std::string where = "run " + std::to_string(run_id);
  auto detail = db.get_run(run_id);
  if (!detail)
    throw Error(where, "no such run in " + db.path().string() + " (nas runs lists the runs; --db picks another file)");
  const auto& s = detail->summary;
  if (s.status == "failed")
    throw Error(where, "its " + s.kind + " failed (" + detail->error + "); it has no network to use, run it again");
  if (s.status != "done")
    throw Error(where, "is '" + s.status + "', not finished; only a finished run has final weights");
  if (network && s.kind == kImportKind && !detail->architecture)  // an int8 model, not a float seed network
    throw Error(where, "is an int8 model brought in by nas import; it has no float network to train, fine-tune or "
                       "search from (nas eval, export, deploy and profile take it)");
  FinishedRun out;
  out.stored.run = s;
  out.detail = std::move(*detail);  // `s` refers into it: only out.stored.run from here on
  const RunSummary& run = out.stored.run;
  const YAML::Node config = YAML::Load(out.detail.config_yaml);
  const std::filesystem::path base = run.config_path.empty() ? std::filesystem::current_path()
                                                             : std::filesystem::path(run.config_path).parent_path();
  const auto spec = supernet::parse_data_spec(config["data"], base);
  out.stored.data = supernet::load_data(spec, run.seed);
  return out;
}

}  // namespace

StoredNetwork load_stored_data(const ResultsDb& db, int64_t run_id) {
  return std::move(load_finished_run(db, run_id, /*network=*/false).stored);
}

StoredNetwork load_stored_network(const ResultsDb& db, int64_t run_id) {
  const std::string where = "run " + std::to_string(run_id);
  FinishedRun run = load_finished_run(db, run_id, /*network=*/true);
  const RunDetail& detail = run.detail;
  StoredNetwork& out = run.stored;
  const YAML::Node config = YAML::Load(detail.config_yaml);
  // A search's fixed architecture, or a training run's `model:` section.
  const YAML::Node model = detail.architecture ? YAML::Load(detail.architecture->model_yaml) : config["model"];
  if (!model) throw Error(where, "has no fixed architecture (its search ended before fixing one)");
  if (detail.weights.empty()) throw Error(where, "has no stored weights");
  const supernet::Shape input = out.data.train.batch_shape(1);
  out.net = std::make_unique<supernet::Network>(
      supernet::build_network(model, input, out.data.train.num_classes, out.run.seed));
  restore_values(detail.weights, out.net->params().theta(), where, "weights");
  restore_values(detail.state, out.net->params().state(), where, "BatchNorm statistics");
  return std::move(out);
}

}  // namespace nas::results
