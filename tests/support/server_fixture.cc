#include "tests/support/server_fixture.h"

#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <regex>

namespace ranker::testing {

RunningServer::RunningServer(const std::string& store, std::vector<std::string> extra_flags) {
  std::vector<std::string> argv = {BinaryPath("server/ranker-server"), "--store=" + store,
                                   "--listen=127.0.0.1:0", "--admin_listen=127.0.0.1:0",
                                   "--metrics_listen=127.0.0.1:0"};
  argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
  process_ = std::make_unique<Subprocess>(argv);
  if (!process_->WaitForOutput("listening on 127.0.0.1:", absl::Seconds(60))) {
    ADD_FAILURE() << "server did not start. stderr:\n" << process_->Stderr();
    return;
  }
  std::smatch match;
  const std::string out = process_->Stdout();
  if (std::regex_search(out, match, std::regex("metrics listening on port (\\d+)"))) {
    metrics_port_ = std::stoi(match[1]);
  }
  if (std::regex_search(out, match, std::regex("admin listening on port (\\d+)"))) {
    admin_port_ = std::stoi(match[1]);
  }
  if (std::regex_search(
          out, match,
          std::regex(
              "\nlistening on 127\\.0\\.0\\.1:(\\d+)|^listening on 127\\.0\\.0\\.1:(\\d+)"))) {
    port_ = std::stoi(match[1].matched ? match[1].str() : match[2].str());
  }
}

std::unique_ptr<v1::Ranker::Stub> RunningServer::Ranker() const {
  return v1::Ranker::NewStub(grpc::CreateChannel(target(), grpc::InsecureChannelCredentials()));
}

std::unique_ptr<v1::RankerAdmin::Stub> RunningServer::Admin() const {
  return v1::RankerAdmin::NewStub(
      grpc::CreateChannel(admin_target(), grpc::InsecureChannelCredentials()));
}

std::unique_ptr<grpc::health::v1::Health::Stub> RunningServer::Health() const {
  return grpc::health::v1::Health::NewStub(
      grpc::CreateChannel(target(), grpc::InsecureChannelCredentials()));
}

std::string RunningServer::ScrapeMetrics() const { return HttpGet(metrics_port_, "/metrics"); }

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

std::string HttpGet(int port, const std::string& path) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return "";
  // A server that accepts and never answers must fail the caller's wait, not hang the test
  // until ctest kills it (one CI run hung 300 s with no output in a test that scrapes in a loop).
  const timeval timeout{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string response;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    const std::string request =
        "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    if (write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
      char buffer[65536];
      for (ssize_t n; (n = read(fd, buffer, sizeof(buffer))) > 0;) response.append(buffer, n);
    }
  }
  close(fd);
  const size_t body = response.find("\r\n\r\n");
  return body == std::string::npos ? "" : response.substr(body + 4);
}

double MetricValue(const std::string& exposition, const std::string& metric) {
  size_t pos = 0;
  while ((pos = exposition.find(metric + " ", pos)) != std::string::npos) {
    if (pos == 0 || exposition[pos - 1] == '\n') {
      return std::stod(exposition.substr(pos + metric.size() + 1));
    }
    pos += metric.size();
  }
  return -1;
}

void RunStoreTool(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {BinaryPath("model_store/ranker-store")};
  argv.insert(argv.end(), args.begin(), args.end());
  std::string out, err;
  const int code = RunCommand(argv, &out, &err);
  ASSERT_EQ(code, 0) << "ranker-store failed:\n" << out << err;
}

}  // namespace ranker::testing
