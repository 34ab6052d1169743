// Bytes that are not a request, sent to every method of the real server over real gRPC (a
// generic stub: no generated client in between): each is answered INVALID_ARGUMENT naming the
// message type it should have been, counted in ranker_requests_total like any refused call,
// and the server keeps serving well-formed calls.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "tests/support/server_fixture.h"

namespace ranker {
namespace {

using ::ranker::testing::MetricValue;
using ::ranker::testing::RunningServer;
using ::ranker::testing::RunStoreTool;
using ::ranker::testing::TempDir;

// Calls `method` with `payload` as the whole request message.
grpc::Status CallRaw(const std::string& target, const std::string& method,
                     const std::string& payload) {
  auto channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::Slice slice(payload);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  grpc::Status status;
  std::mutex mu;
  std::condition_variable done_cv;
  bool done = false;
  stub.UnaryCall(&context, method, grpc::StubOptions(), &request, &response, [&](grpc::Status s) {
    std::lock_guard<std::mutex> lock(mu);
    status = std::move(s);
    done = true;
    done_cv.notify_one();
  });
  std::unique_lock<std::mutex> lock(mu);
  done_cv.wait(lock, [&] { return done; });
  return status;
}

// Payloads protobuf cannot parse: random bytes (an invalid wire type at once), a valid request
// cut inside its packed candidate ids, a length prefix past the end, an end-group tag.
std::vector<std::string> Garbage() {
  std::vector<std::string> payloads;
  std::mt19937 rng(7);
  std::string random = "\x0f";  // field 1, wire type 7: does not exist
  for (int i = 0; i < 200; ++i) random.push_back(static_cast<char>(rng()));
  payloads.push_back(random);
  v1::RankRequest valid;
  valid.set_user_id(3);
  valid.set_k(5);
  for (uint64_t id = 1000; id < 1100; ++id) valid.add_candidate_ids(id);
  const std::string bytes = valid.SerializeAsString();
  payloads.push_back(bytes.substr(0, bytes.size() - 3));
  payloads.push_back(std::string("\x0a\xff\x01", 3));  // field 1, length 255, no bytes
  payloads.push_back(std::string("\x0c", 1));          // end group without a start
  return payloads;
}

TEST(MalformedRequestTest, EveryMethodAnswersInvalidArgumentNamingTheMessage) {
  TempDir dir;
  RunStoreTool({"demo", "--store=" + dir.Sub("s"), "--users=50", "--items=50", "--d=8",
                "--hidden=8", "--ratio=2"});
  RunningServer server(dir.Sub("s"));
  ASSERT_TRUE(server.ok());
  struct Method {
    std::string path, target, message, metric_label;
  };
  const std::vector<Method> methods = {
      {"/ranker.v1.Ranker/Rank", server.target(), "ranker.v1.RankRequest", "Rank"},
      {"/ranker.v1.Ranker/GetModelInfo", server.target(), "ranker.v1.GetModelInfoRequest",
       "GetModelInfo"},
      {"/ranker.v1.RankerAdmin/Reload", server.admin_target(), "ranker.v1.ReloadRequest", "Reload"},
      {"/ranker.v1.RankerAdmin/ListLoadedVersions", server.admin_target(),
       "ranker.v1.ListLoadedVersionsRequest", "ListLoadedVersions"},
  };
  const std::vector<std::string> garbage = Garbage();
  for (const Method& method : methods) {
    SCOPED_TRACE(method.path);
    for (const std::string& payload : garbage) {
      const grpc::Status status = CallRaw(method.target, method.path, payload);
      EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
      EXPECT_EQ(status.error_message(), "request could not be parsed as " + method.message);
    }
    const std::string scrape = server.ScrapeMetrics();
    EXPECT_EQ(MetricValue(scrape, "ranker_requests_total{code=\"INVALID_ARGUMENT\",method=\"" +
                                      method.metric_label + "\"}"),
              static_cast<double>(garbage.size()))
        << scrape;
  }
  // Well-formed calls still work, on the same connections' server.
  v1::RankRequest request;
  request.set_user_id(3);
  request.set_k(5);
  const grpc::Status ok =
      CallRaw(server.target(), "/ranker.v1.Ranker/Rank", request.SerializeAsString());
  EXPECT_TRUE(ok.ok()) << ok.error_message();
  // An empty message is a valid request with every field at its default.
  EXPECT_TRUE(CallRaw(server.target(), "/ranker.v1.Ranker/GetModelInfo", "").ok());
  EXPECT_TRUE(CallRaw(server.admin_target(), "/ranker.v1.RankerAdmin/ListLoadedVersions", "").ok());
}

}  // namespace
}  // namespace ranker
