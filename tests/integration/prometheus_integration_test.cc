// A real Prometheus server (Debian's `prometheus`) scrapes the real ranker-server; the test
// asks Prometheus's HTTP API what it saw. `promtool check metrics` lints a scrape.
#include <arpa/inet.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "common/files.h"
#include "tests/support/server_fixture.h"

namespace ranker {
namespace {

using ::ranker::testing::FreePort;
using ::ranker::testing::HttpGet;
using ::ranker::testing::RunCommand;
using ::ranker::testing::RunningServer;
using ::ranker::testing::RunStoreTool;
using ::ranker::testing::Subprocess;
using ::ranker::testing::TempDir;

std::string UrlEncode(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (isalnum(c) || c == '_' || c == '.' || c == '-') {
      out.push_back(static_cast<char>(c));
    } else {
      char buffer[4];
      std::snprintf(buffer, sizeof(buffer), "%%%02X", c);
      out += buffer;
    }
  }
  return out;
}

// The first sample value of an instant query, or nullopt while Prometheus has none.
std::optional<double> Query(int port, const std::string& promql) {
  const std::string body = HttpGet(port, "/api/v1/query?query=" + UrlEncode(promql));
  std::smatch match;
  if (!std::regex_search(body, match, std::regex(R"re("value":\[[0-9.]+,"([^"]+)"\])re"))) {
    return std::nullopt;
  }
  return std::stod(match[1]);
}

// The real Prometheus, scraping the server's /metrics every second, its API on `port`.
std::unique_ptr<Subprocess> StartPrometheus(const TempDir& dir, int metrics_port, int port) {
  const std::string config = dir.Sub("prometheus.yml");
  std::ofstream(config) << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                        << "scrape_configs:\n  - job_name: ranker\n    static_configs:\n"
                        << "      - targets: ['127.0.0.1:" << metrics_port << "']\n";
  return std::make_unique<Subprocess>(std::vector<std::string>{
      "/usr/bin/prometheus", "--config.file=" + config, "--storage.tsdb.path=" + dir.Sub("tsdb"),
      absl::StrCat("--web.listen-address=127.0.0.1:", port)});
}

// Every PromQL expression of the Grafana dashboard (panels and annotations), read from
// deploy/grafana/dashboards/ranker.json.
std::vector<std::string> DashboardExpressions() {
  absl::StatusOr<std::string> json = ReadFileToString(
      std::string(RANKER_SOURCE_DIR) + "/deploy/grafana/dashboards/ranker.json", "dashboard");
  EXPECT_TRUE(json.ok()) << json.status();
  google::protobuf::Struct dashboard;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json.value_or("{}"), &dashboard).ok());
  std::vector<std::string> expressions;
  const auto collect = [&](const google::protobuf::Value& list, const char* holder_field) {
    for (const google::protobuf::Value& holder : list.list_value().values()) {
      const auto& fields = holder.struct_value().fields();
      if (holder_field == nullptr) {
        if (fields.count("expr")) expressions.push_back(fields.at("expr").string_value());
        continue;
      }
      if (!fields.count(holder_field)) continue;
      for (const google::protobuf::Value& target : fields.at(holder_field).list_value().values()) {
        const auto& target_fields = target.struct_value().fields();
        if (target_fields.count("expr")) {
          // The dashboard's variables as Grafana's "All" expands them.
          expressions.push_back(
              absl::StrReplaceAll(target_fields.at("expr").string_value(), {{"$model", ".+"}}));
        }
      }
    }
  };
  const auto& top = dashboard.fields();
  if (top.count("panels")) collect(top.at("panels"), "targets");
  if (top.count("annotations")) {
    const auto& annotations = top.at("annotations").struct_value().fields();
    if (annotations.count("list")) collect(annotations.at("list"), nullptr);
  }
  return expressions;
}

// Whether an instant query answers at least one series (a query that does not parse answers
// an error, which has none).
bool AnswersSomething(int port, const std::string& promql, std::string* body) {
  *body = HttpGet(port, "/api/v1/query?query=" + UrlEncode(promql));
  return body->find(R"("status":"success")") != std::string::npos &&
         body->find(R"("result":[{)") != std::string::npos;
}

// What Grafana would show, checked where Grafana cannot run: after some traffic (good and bad
// calls, one and two stages) and a hot reload, every dashboard query answers data.
TEST(PrometheusIntegrationTest, EveryDashboardQueryAnswersAfterLoadAndAReload) {
  const std::vector<std::string> expressions = DashboardExpressions();
  ASSERT_GE(expressions.size(), 15u);
  TempDir dir;
  const std::string store = dir.Sub("store");
  const std::vector<std::string> demo = {"demo",  "--store=" + store, "--users=100", "--items=2000",
                                         "--d=8", "--hidden=8",       "--ratio=2"};
  RunStoreTool(demo);
  RunningServer server(store, {"--poll_interval=1s", "--retrieve_n=100"});
  ASSERT_TRUE(server.ok());
  const int prometheus_port = FreePort();
  std::unique_ptr<Subprocess> prometheus =
      StartPrometheus(dir, server.metrics_port(), prometheus_port);

  std::atomic<bool> stop{false};
  std::thread load([&] {
    auto stub = server.Ranker();
    for (int call = 0; !stop; ++call) {
      grpc::ClientContext context;
      v1::RankRequest request;
      request.set_user_id(call % 100);
      request.set_k(call % 10 == 0 ? 0 : 5);  // every tenth call is refused (INVALID_ARGUMENT)
      if (call % 2 == 0) {  // half with candidates (one stage), half the catalogue (two)
        for (uint64_t item = 0; item < 50; ++item) request.add_candidate_ids(item * 7 + call % 7);
      }
      v1::RankResponse response;
      stub->Rank(&context, request, &response);
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });
  // A new version once Prometheus has scraped the first: the reload panels and the annotation
  // (a change of the served version) need one.
  const absl::Time scraped_by = absl::Now() + absl::Seconds(60);
  while (!Query(prometheus_port, "ranker_model_version") && absl::Now() < scraped_by) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  std::this_thread::sleep_for(std::chrono::seconds(2));
  std::vector<std::string> with_seed = demo;
  with_seed.push_back("--seed=2");
  RunStoreTool(with_seed);

  std::map<std::string, std::string> silent;  // expression -> Prometheus's last answer
  const absl::Time deadline = absl::Now() + absl::Seconds(90);
  do {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    silent.clear();
    for (const std::string& expression : expressions) {
      std::string body;
      if (!AnswersSomething(prometheus_port, expression, &body)) silent[expression] = body;
    }
  } while (!silent.empty() && absl::Now() < deadline);
  // What each query answered (its first sample), for people reading the log.
  for (const std::string& expression : expressions) {
    const std::optional<double> value = Query(prometheus_port, expression);
    std::printf("  %-12s %s\n", value ? absl::StrCat(*value).c_str() : "(none)",
                expression.c_str());
  }
  stop = true;
  load.join();
  for (const auto& [expression, body] : silent) {
    ADD_FAILURE() << "no data for dashboard query: " << expression
                  << "\nPrometheus said: " << body.substr(0, 300);
  }
  EXPECT_TRUE(silent.empty()) << expressions.size() << " queries, Prometheus's log:\n"
                              << (silent.empty() ? "" : prometheus->Stderr());
}

TEST(PrometheusIntegrationTest, RealPrometheusScrapesVersionAndRequestRate) {
  TempDir dir;
  const std::string store = dir.Sub("store");
  RunStoreTool({"demo", "--store=" + store, "--users=100", "--items=100", "--d=8", "--hidden=8",
                "--ratio=2"});
  RunStoreTool({"demo", "--store=" + store, "--users=100", "--items=100", "--d=8", "--hidden=8",
                "--ratio=2", "--seed=2"});
  RunningServer server(store);
  ASSERT_TRUE(server.ok());

  // promtool lints the exposition format of a real scrape.
  const std::string scrape_file = dir.Sub("scrape.txt");
  std::ofstream(scrape_file) << server.ScrapeMetrics();
  std::string out, err;
  EXPECT_EQ(RunCommand({"/bin/sh", "-c", "promtool check metrics < " + scrape_file}, &out, &err), 0)
      << out << err;

  const int prometheus_port = FreePort();
  std::unique_ptr<Subprocess> prometheus =
      StartPrometheus(dir, server.metrics_port(), prometheus_port);

  std::atomic<bool> stop{false};
  std::thread load([&] {
    auto stub = server.Ranker();
    while (!stop) {
      grpc::ClientContext context;
      v1::RankRequest request;
      request.set_user_id(3);
      request.set_k(5);
      v1::RankResponse response;
      stub->Rank(&context, request, &response);
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });

  std::optional<double> version, rate, up;
  const absl::Time deadline = absl::Now() + absl::Seconds(90);
  while (absl::Now() < deadline) {
    up = Query(prometheus_port, "up{job=\"ranker\"}");
    version = Query(prometheus_port, "ranker_model_version");
    rate = Query(prometheus_port,
                 "sum(rate(ranker_requests_total{method=\"Rank\",code=\"OK\"}[15s]))");
    if (version && rate && *rate > 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  stop = true;
  load.join();
  ASSERT_TRUE(up.has_value()) << "Prometheus never scraped the server. Its log:\n"
                              << prometheus->Stderr();
  EXPECT_EQ(*up, 1);
  ASSERT_TRUE(version.has_value());
  EXPECT_EQ(*version, 2) << "the latest published version";
  ASSERT_TRUE(rate.has_value());
  EXPECT_GT(*rate, 0);
  // Histograms are usable from PromQL too.
  const auto p99 = Query(prometheus_port,
                         "histogram_quantile(0.99, sum by (le) (rate("
                         "ranker_request_duration_seconds_bucket{method=\"Rank\"}[15s])))");
  ASSERT_TRUE(p99.has_value());
  EXPECT_GT(*p99, 0);
  EXPECT_LT(*p99, 1);
}

}  // namespace
}  // namespace ranker
