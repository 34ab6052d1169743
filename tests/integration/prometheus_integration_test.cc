// A real Prometheus server (Debian's `prometheus`) scrapes the real ranker-server; the test
// asks Prometheus's HTTP API what it saw. `promtool check metrics` lints a scrape.
#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <regex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "tests/support/server_fixture.h"

namespace ranker {
namespace {

using ::ranker::testing::HttpGet;
using ::ranker::testing::RunCommand;
using ::ranker::testing::RunningServer;
using ::ranker::testing::RunStoreTool;
using ::ranker::testing::Subprocess;
using ::ranker::testing::TempDir;

int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

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
  const std::string config = dir.Sub("prometheus.yml");
  std::ofstream(config) << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                        << "scrape_configs:\n  - job_name: ranker\n    static_configs:\n"
                        << "      - targets: ['127.0.0.1:" << server.metrics_port() << "']\n";
  Subprocess prometheus({"/usr/bin/prometheus", "--config.file=" + config,
                         "--storage.tsdb.path=" + dir.Sub("tsdb"),
                         absl::StrCat("--web.listen-address=127.0.0.1:", prometheus_port)});

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
                              << prometheus.Stderr();
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
