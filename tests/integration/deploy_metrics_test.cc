// Every metric the Grafana dashboard and the Prometheus alert rules use must be exported by
// the real server (a renamed metric would otherwise silently blank a panel or an alert).
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "tests/support/server_fixture.h"

namespace ranker {
namespace {

using ::ranker::testing::RunningServer;
using ::ranker::testing::RunStoreTool;
using ::ranker::testing::TempDir;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::set<std::string> MetricNames(const std::string& text) {
  std::set<std::string> names;
  const std::regex name(R"(\b((ranker|process)_[A-Za-z0-9_]+))");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), name); it != std::sregex_iterator();
       ++it) {
    names.insert((*it)[1]);
  }
  return names;
}

TEST(DeployMetricsTest, DashboardAndAlertsUseOnlyExportedMetrics) {
  TempDir dir;
  RunStoreTool({"demo", "--store=" + dir.Sub("s"), "--users=50", "--items=50", "--d=8",
                "--hidden=8", "--ratio=2"});
  RunningServer server(dir.Sub("s"));
  ASSERT_TRUE(server.ok());
  const std::string scrape = server.ScrapeMetrics();
  std::map<std::string, std::string> types;  // family -> type
  const std::regex type_line(R"(# TYPE (\S+) (\S+))");
  for (auto it = std::sregex_iterator(scrape.begin(), scrape.end(), type_line);
       it != std::sregex_iterator(); ++it) {
    types[(*it)[1]] = (*it)[2];
  }
  ASSERT_GT(types.size(), 10u) << scrape;
  const auto exported = [&](const std::string& name) {
    if (types.count(name)) return true;
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      const std::string s(suffix);
      if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) {
        auto it = types.find(name.substr(0, name.size() - s.size()));
        if (it != types.end() && it->second == "histogram") return true;
      }
    }
    return false;
  };
  const std::string root = RANKER_SOURCE_DIR;
  size_t checked = 0;
  for (const std::string file :
       {"/deploy/grafana/dashboards/ranker.json", "/deploy/prometheus/alerts.yml"}) {
    const std::set<std::string> used = MetricNames(ReadFile(root + file));
    EXPECT_GE(used.size(), 3u) << file;
    for (const std::string& name : used) {
      EXPECT_TRUE(exported(name)) << file << " uses " << name
                                  << ", which the server does not export";
      ++checked;
    }
  }
  EXPECT_GT(checked, 10u);
}

}  // namespace
}  // namespace ranker
