#include "tests/server_fixture.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <regex>

namespace ranker::testing {

RunningServer::RunningServer(const std::string& store, std::vector<std::string> extra_flags) {
  std::vector<std::string> argv = {BinaryPath("server/ranker-server"), "--store=" + store,
                                   "--listen=127.0.0.1:0", "--admin_listen=127.0.0.1:0"};
  argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
  process_ = std::make_unique<Subprocess>(argv);
  if (!process_->WaitForOutput("listening on 127.0.0.1:", absl::Seconds(60))) {
    ADD_FAILURE() << "server did not start. stderr:\n" << process_->Stderr();
    return;
  }
  std::smatch match;
  const std::string out = process_->Stdout();
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

void RunStoreTool(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {BinaryPath("model_store/ranker-store")};
  argv.insert(argv.end(), args.begin(), args.end());
  std::string out, err;
  const int code = RunCommand(argv, &out, &err);
  ASSERT_EQ(code, 0) << "ranker-store failed:\n" << out << err;
}

}  // namespace ranker::testing
