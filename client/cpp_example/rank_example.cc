// A backend service's Rank call in C++, built against the installed stubs only:
//   cmake --install build --component sdk --prefix /opt/ranker
//   g++ -std=c++17 rank_example.cc -I/opt/ranker/include /opt/ranker/lib/libranker_proto.a \
//       $(pkg-config --cflags --libs grpc++ protobuf) -o rank_example
//   ./rank_example localhost:50051 42
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "proto/ranker.grpc.pb.h"

int main(int argc, char** argv) {
  const char* target = argc > 1 ? argv[1] : "localhost:50051";
  const uint64_t user = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 42;
  auto channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  std::unique_ptr<ranker::v1::Ranker::Stub> ranker = ranker::v1::Ranker::NewStub(channel);

  ranker::v1::RankRequest request;
  request.set_user_id(user);
  request.set_k(5);
  for (uint64_t item : {3, 5, 8, 13, 21, 34}) request.add_candidate_ids(item);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
  ranker::v1::RankResponse response;
  const grpc::Status status = ranker->Rank(&context, request, &response);
  if (!status.ok()) {
    std::fprintf(stderr, "rank failed: %d: %s\n", static_cast<int>(status.error_code()),
                 status.error_message().c_str());
    return 1;
  }
  std::printf("model version %lu\n", static_cast<unsigned long>(response.model_version()));
  for (const ranker::v1::ScoredItem& item : response.items()) {
    std::printf("item %lu score %.4f\n", static_cast<unsigned long>(item.item_id()), item.score());
  }
  return 0;
}
