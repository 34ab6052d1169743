// Starts the real ranker-server binary on free loopback ports over a store, for integration
// tests, and gives typed stubs to it.
#ifndef RANKER_TESTS_SUPPORT_SERVER_FIXTURE_H_
#define RANKER_TESTS_SUPPORT_SERVER_FIXTURE_H_

#include <memory>
#include <string>
#include <vector>

#include "proto/grpc_health.grpc.pb.h"
#include "proto/ranker.grpc.pb.h"
#include "tests/support/test_util.h"

namespace ranker::testing {

class RunningServer {
 public:
  // Starts `ranker-server --store store --listen 127.0.0.1:0 ... extra_flags` and waits until it
  // listens. Check ok() before use.
  RunningServer(const std::string& store, std::vector<std::string> extra_flags = {});

  bool ok() const { return port_ > 0; }
  std::string target() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string admin_target() const { return "127.0.0.1:" + std::to_string(admin_port_); }
  int metrics_port() const { return metrics_port_; }
  Subprocess& process() { return *process_; }
  // The text of GET /metrics ("" if it cannot be fetched).
  std::string ScrapeMetrics() const;

  std::unique_ptr<v1::Ranker::Stub> Ranker() const;
  std::unique_ptr<v1::RankerAdmin::Stub> Admin() const;
  std::unique_ptr<grpc::health::v1::Health::Stub> Health() const;

 private:
  std::unique_ptr<Subprocess> process_;
  int port_ = 0;
  int admin_port_ = 0;
  int metrics_port_ = 0;
};

// GET http://127.0.0.1:port/path with a plain socket (no HTTP library needed for tests);
// returns the body, or "" on failure.
std::string HttpGet(int port, const std::string& path);

// The value of the first sample of `metric` (exact name plus labels text, e.g.
// `ranker_model_version` or `ranker_requests_total{code="OK",method="Rank"}`), or -1.
double MetricValue(const std::string& exposition, const std::string& metric);

// A loopback TCP port that was free a moment ago (for servers that cannot pick their own).
int FreePort();

// Runs `ranker-store args...` and fails the test if it exits non-zero.
void RunStoreTool(const std::vector<std::string>& args);

}  // namespace ranker::testing

#endif  // RANKER_TESTS_SUPPORT_SERVER_FIXTURE_H_
