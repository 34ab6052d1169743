// Client-side balancing over real loopback gRPC servers: a target naming several addresses
// with --lb round_robin spreads calls over all of them, pick_first keeps to one, and Rank is
// retried on another address when one answers UNAVAILABLE (only when attempts > 1).
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/channel.h"
#include "proto/ranker.grpc.pb.h"

namespace ranker {
namespace {

// Counts calls; answers OK, or UNAVAILABLE when `unavailable` (a replica shutting down).
class CountingRanker final : public v1::Ranker::Service {
 public:
  explicit CountingRanker(bool unavailable) : unavailable_(unavailable) {}
  grpc::Status Rank(grpc::ServerContext*, const v1::RankRequest*,
                    v1::RankResponse* response) override {
    calls_.fetch_add(1);
    if (unavailable_) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "draining");
    response->set_model_version(1);
    return grpc::Status::OK;
  }
  grpc::Status GetModelInfo(grpc::ServerContext*, const v1::GetModelInfoRequest*,
                            v1::ModelInfo*) override {
    info_calls_.fetch_add(1);
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "draining");
  }
  int calls() const { return calls_.load(); }
  int info_calls() const { return info_calls_.load(); }

 private:
  const bool unavailable_;
  std::atomic<int> calls_{0}, info_calls_{0};
};

struct Replica {
  std::unique_ptr<CountingRanker> service;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
};

Replica StartReplica(bool unavailable) {
  Replica replica;
  replica.service = std::make_unique<CountingRanker>(unavailable);
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &replica.port);
  builder.RegisterService(replica.service.get());
  replica.server = builder.BuildAndStart();
  return replica;
}

std::string TargetOf(const std::vector<Replica>& replicas) {
  std::vector<std::string> addresses;
  for (const Replica& replica : replicas) {
    addresses.push_back(absl::StrCat("127.0.0.1:", replica.port));
  }
  return absl::StrCat("ipv4:", absl::StrJoin(addresses, ","));
}

// Makes `calls` Rank calls one after another; returns how many failed.
int CallRank(const std::shared_ptr<grpc::Channel>& channel, int calls) {
  std::unique_ptr<v1::Ranker::Stub> stub = v1::Ranker::NewStub(channel);
  int failed = 0;
  for (int i = 0; i < calls; ++i) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    v1::RankRequest request;
    v1::RankResponse response;
    failed += !stub->Rank(&context, request, &response).ok();
  }
  return failed;
}

TEST(ServiceConfigTest, RejectsUnknownPoliciesAndAttemptsOutsideGrpcsRange) {
  EXPECT_EQ(ServiceConfigJson({"random", 3}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ServiceConfigJson({"round_robin", 0}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ServiceConfigJson({"round_robin", 6}).status().code(),
            absl::StatusCode::kInvalidArgument);
  absl::StatusOr<std::string> no_retry = ServiceConfigJson({"pick_first", 1});
  ASSERT_TRUE(no_retry.ok());
  EXPECT_EQ(no_retry->find("retryPolicy"), std::string::npos);
}

TEST(BalancingTest, RoundRobinSpreadsCallsOverEveryAddress) {
  std::vector<Replica> replicas;
  for (int r = 0; r < 3; ++r) replicas.push_back(StartReplica(/*unavailable=*/false));
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
      OpenChannel(TargetOf(replicas), ClientTlsFiles(), ClientBalancing{"round_robin", 3});
  ASSERT_TRUE(channel.ok()) << channel.status();
  EXPECT_EQ(CallRank(*channel, 60), 0);
  for (const Replica& replica : replicas) EXPECT_GT(replica.service->calls(), 5);
}

TEST(BalancingTest, PickFirstKeepsToOneAddress) {
  std::vector<Replica> replicas;
  for (int r = 0; r < 2; ++r) replicas.push_back(StartReplica(/*unavailable=*/false));
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
      OpenChannel(TargetOf(replicas), ClientTlsFiles(), ClientBalancing{"pick_first", 3});
  ASSERT_TRUE(channel.ok()) << channel.status();
  EXPECT_EQ(CallRank(*channel, 20), 0);
  EXPECT_EQ(replicas[0].service->calls() + replicas[1].service->calls(), 20);
  EXPECT_TRUE(replicas[0].service->calls() == 0 || replicas[1].service->calls() == 0);
}

TEST(BalancingTest, RankIsRetriedOnAnotherReplicaWhenOneIsUnavailable) {
  std::vector<Replica> replicas;
  replicas.push_back(StartReplica(/*unavailable=*/true));
  replicas.push_back(StartReplica(/*unavailable=*/false));
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
      OpenChannel(TargetOf(replicas), ClientTlsFiles(), ClientBalancing{"round_robin", 3});
  ASSERT_TRUE(channel.ok()) << channel.status();
  EXPECT_EQ(CallRank(*channel, 40), 0);
  EXPECT_GT(replicas[0].service->calls(), 0);  // tried there, and answered by the other

  // Only Rank is retried: GetModelInfo's UNAVAILABLE reaches the caller.
  std::unique_ptr<v1::Ranker::Stub> stub = v1::Ranker::NewStub(*channel);
  int info_failed = 0;
  for (int i = 0; i < 10; ++i) {
    grpc::ClientContext context;
    v1::GetModelInfoRequest request;
    v1::ModelInfo info;
    info_failed += !stub->GetModelInfo(&context, request, &info).ok();
  }
  EXPECT_EQ(info_failed, 10);
  EXPECT_EQ(replicas[0].service->info_calls() + replicas[1].service->info_calls(), 10);
}

TEST(BalancingTest, WithoutRetriesTheUnavailableReplicasAnswerReachesTheCaller) {
  std::vector<Replica> replicas;
  replicas.push_back(StartReplica(/*unavailable=*/true));
  replicas.push_back(StartReplica(/*unavailable=*/false));
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
      OpenChannel(TargetOf(replicas), ClientTlsFiles(), ClientBalancing{"round_robin", 1});
  ASSERT_TRUE(channel.ok()) << channel.status();
  const int failed = CallRank(*channel, 40);
  EXPECT_GT(failed, 5);
  EXPECT_EQ(failed, replicas[0].service->calls());
}

}  // namespace
}  // namespace ranker
