#include "icnn/search_sweep.h"

#include <sys/stat.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "common/sweep/local_runner.h"
#include "common/sweep/sweep_testing.h"
#include "common/train/run_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace icnn {
namespace {

using ::common::sweep::testing::FreshDir;
using ::common::sweep::testing::ReadAll;
using ::testing::HasSubstr;

// The fake worker's validation accuracy of configuration `id`: a tie between ids 18 and 22 for
// "nn" (the lowest wins), a single best (id 25) for "ours".
double FakeAccuracy(const std::string& model, int id) {
  return model == "nn" ? 0.1 * ((id - 18) % 4 == 0 ? 5 : id % 4) : 0.01 * id * (id == 25 ? 2 : 1);
}

// A worker that writes the fake accuracies and records its arguments, instead of training.
std::string FakeWorker(const std::string& dir) {
  const std::string path = dir + "/fake_worker.sh";
  std::string nn_cases, ours_cases;
  const std::vector<SearchConfig> grid = SearchGrid("small").value();
  for (const SearchConfig& c : grid) {
    absl::StrAppend(&nn_cases, "  nn:", c.id, ") acc=", FakeAccuracy("nn", c.id), " ;;\n");
    absl::StrAppend(&ours_cases, "  ours:", c.id, ") acc=", FakeAccuracy("ours", c.id), " ;;\n");
  }
  std::ofstream(path) << "#!/bin/bash\n"
                         "for a in \"$@\"; do case $a in\n"
                         "  --worker_model=*) m=${a#*=} ;; --worker_config=*) id=${a#*=} ;;\n"
                         "  --out_dir=*) dir=${a#*=} ;; esac; done\n"
                         "case $m:$id in\n"
                      << nn_cases << ours_cases
                      << "esac\n"
                         "mkdir -p \"$dir\" && echo \"$@\" > \"$dir/args\"\n"
                         "echo \"{\\\"best_accuracy\\\": $acc, \\\"best_epoch\\\": $id}\" > "
                         "\"$dir/result.json\"\n";
  chmod(path.c_str(), 0755);
  return path;
}

MlpSearchOptions Options(const std::string& dir) {
  MlpSearchOptions o;
  o.models = {"nn", "ours"};
  o.grid = "small";
  o.data_dir = "/data";
  o.run = {3, 64, 7};
  o.dir = dir + "/search";
  o.worker_binary = FakeWorker(dir);
  return o;
}

TEST(MlpSearch, EveryConfigurationRunsOnceAndTheBestIsTheOracles) {
  const std::string dir = FreshDir("search");
  const MlpSearchOptions o = Options(dir);
  const std::vector<SearchConfig> grid = SearchGrid("small").value();
  const common::sweep::Sweep sweep = PlanSearch(o, grid);
  ASSERT_EQ(sweep.runs.size(), 2 * grid.size());
  ASSERT_TRUE(common::sweep::LocalRunner(2).Execute(sweep).ok());
  const auto best = CollectSearch(o, grid);
  ASSERT_TRUE(best.ok()) << best.status();

  // The oracle: argmax of the fake accuracies, the first of equals.
  for (const std::string m : {"nn", "ours"}) {
    int want = -1;
    for (const SearchConfig& c : grid) {
      if (want < 0 || FakeAccuracy(m, c.id) > FakeAccuracy(m, want)) want = c.id;
    }
    EXPECT_EQ(best->at(m).config.id, want) << m;
    EXPECT_DOUBLE_EQ(best->at(m).accuracy, FakeAccuracy(m, want)) << m;
    EXPECT_EQ(best->at(m).epoch, want) << m;
    const nlohmann::json j = common::train::ReadJsonFile(o.dir + "/best_" + m + ".json").value();
    EXPECT_EQ(j["config"]["id"].get<int>(), want);
  }
  EXPECT_EQ(best->at("nn").config.id, 18);
  EXPECT_EQ(best->at("ours").config.id, 25);

  const std::string csv = ReadAll(o.dir + "/search.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 1 + 2 * static_cast<int>(grid.size()));
  EXPECT_THAT(csv, HasSubstr("\nours,25,zca,0.0001,0,256x256,0.5,25\n"));
  // The worker gets the run's flags, and threads so that 2 workers fit the machine's cores.
  const std::string args = ReadAll(o.dir + "/nn/config20/args");
  EXPECT_THAT(args, HasSubstr("--worker_model=nn --worker_config=20 --out_dir=" + o.dir +
                              "/nn/config20 --grid=small --epochs=3 --bs=64"));
  EXPECT_THAT(args, HasSubstr("--seed=7"));
  EXPECT_THAT(args, HasSubstr(absl::StrCat("--threads=", common::sweep::WorkerThreads(2))));
}

TEST(MlpSearch, AResultWithoutItsAccuracyIsDataLossNamingTheFile) {
  const std::string dir = FreshDir("search_corrupt");
  const MlpSearchOptions o = Options(dir);
  const std::vector<SearchConfig> grid = SearchGrid("small").value();
  ASSERT_TRUE(common::sweep::LocalRunner(1).Execute(PlanSearch(o, grid)).ok());
  std::ofstream(o.dir + "/ours/config21/result.json") << "{\"best_epoch\": 1}";
  const auto best = CollectSearch(o, grid);
  EXPECT_EQ(best.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(best.status().message()), HasSubstr("ours/config21/result.json"));
}

TEST(MlpSearch, AWorkerWritesTheSearchRunsCurve) {
  torch::manual_seed(0);
  SearchData data{torch::rand({60, 5}), torch::randint(3, {60}), torch::rand({20, 5}),
                  torch::randint(3, {20}), 3};
  const SearchConfig config = FindConfig("small", 19).value();
  const SearchRunOptions run{2, 16, 3};
  const std::string dir = FreshDir("worker") + "/run";
  ASSERT_TRUE(RunSearchWorker("ours", config, data, run, dir).ok());
  const Curve want = SearchRun("ours", config, data, run).value();
  const nlohmann::json got = common::train::ReadJsonFile(dir + "/result.json").value();
  EXPECT_EQ(got["best_accuracy"].get<double>(), want.best_accuracy);
  EXPECT_EQ(got["best_epoch"].get<int64_t>(), want.best_epoch);
  EXPECT_EQ(got["valid_accuracy"].get<std::vector<double>>(), want.accuracy);
  EXPECT_EQ(got["config"]["id"].get<int>(), 19);
  EXPECT_THAT(std::string(FindConfig("small", 17).status().message()),
              HasSubstr("no configuration 17 in --grid=small"));
}

}  // namespace
}  // namespace icnn
