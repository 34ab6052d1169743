// MessagePool: holders come back with a fresh response (and no request bytes) on the same
// arena, requests parsed onto that arena go with it, large messages still work, idle holders
// are capped, and threads taking and releasing holders see only their own messages.
#include "server/message_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "proto/ranker.pb.h"
#include "server/wire_messages.h"

namespace ranker {
namespace {

using Pool = MessagePool<v1::RankResponse>;

// A request as it arrives: its bytes.
grpc::ByteBuffer Wire(const v1::RankRequest& request) {
  grpc::ByteBuffer bytes;
  bool own = false;
  EXPECT_TRUE(grpc::SerializationTraits<v1::RankRequest>::Serialize(request, &bytes, &own).ok());
  return bytes;
}

// The request parsed onto the holder's arena, as RankerService does.
v1::RankRequest* Parse(grpc::MessageHolder<grpc::ByteBuffer, v1::RankResponse>* holder,
                       const grpc::ByteBuffer& bytes) {
  auto* request =
      google::protobuf::Arena::CreateMessage<v1::RankRequest>(holder->response()->GetArena());
  EXPECT_TRUE(ParseRequest(bytes, request).ok());
  return request;
}

TEST(MessagePoolTest, ReleasedHoldersComeBackWithAFreshResponseOnTheirArena) {
  Pool pool;
  auto* first = pool.AllocateMessages();
  ASSERT_NE(first->response()->GetArena(), nullptr);
  v1::RankRequest sent;
  for (int i = 0; i < 500; ++i) sent.add_candidate_ids(i);
  const v1::RankRequest* parsed = Parse(first, Wire(sent));
  EXPECT_EQ(parsed->GetArena(), first->response()->GetArena());
  EXPECT_EQ(parsed->candidate_ids_size(), 500);
  *first->request() = Wire(sent);  // gRPC hands the received bytes to the holder
  for (int i = 0; i < 20; ++i) first->response()->add_items()->set_item_id(i);
  first->response()->mutable_stages()->set_ranked(20);
  const google::protobuf::Arena* arena = first->response()->GetArena();
  first->Release();

  auto* second = pool.AllocateMessages();
  EXPECT_EQ(second->response()->GetArena(), arena) << "the idle holder is reused";
  EXPECT_EQ(second->request()->Length(), 0u) << "the bytes were released";
  EXPECT_EQ(second->response()->items_size(), 0);
  EXPECT_FALSE(second->response()->has_stages());
  second->Release();
}

TEST(MessagePoolTest, MessagesLargerThanTheInlineBlockStillWork) {
  Pool pool;
  auto* holder = pool.AllocateMessages();
  v1::RankRequest sent;
  for (int i = 0; i < 100000; ++i) sent.add_candidate_ids(i);  // 800 KB parsed
  const v1::RankRequest* parsed = Parse(holder, Wire(sent));
  EXPECT_EQ(parsed->candidate_ids(99999), 99999u);
  for (int i = 0; i < 10000; ++i) holder->response()->add_items()->set_item_id(i);
  holder->Release();
  auto* again = pool.AllocateMessages();
  EXPECT_EQ(again->response()->items_size(), 0);
  again->Release();
}

TEST(MessagePoolTest, HoldersInUseAreDistinctAndIdleOnesAreCapped) {
  Pool pool(/*max_idle=*/1);
  auto* a = pool.AllocateMessages();
  auto* b = pool.AllocateMessages();
  EXPECT_NE(a->request(), b->request());
  EXPECT_NE(a->response(), b->response());
  const google::protobuf::Arena* kept = a->response()->GetArena();
  a->Release();
  b->Release();  // over max_idle: freed
  auto* c = pool.AllocateMessages();
  auto* d = pool.AllocateMessages();
  EXPECT_EQ(c->response()->GetArena(), kept);
  EXPECT_NE(d->response()->GetArena(), kept);
  c->Release();
  d->Release();
}

// gRPC takes and releases holders from any thread; each call must see only its own messages.
TEST(MessagePoolTest, ThreadsTakingAndReleasingHoldersSeeOnlyTheirOwnMessages) {
  Pool pool(/*max_idle=*/4);
  std::atomic<int> mixed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        auto* holder = pool.AllocateMessages();
        if (holder->response()->items_size() != 0) ++mixed;
        const uint64_t mark = static_cast<uint64_t>(t) * 1000000 + i;
        v1::RankRequest sent;
        for (int c = 0; c < 1 + i % 50; ++c) sent.add_candidate_ids(mark);
        const v1::RankRequest* parsed = Parse(holder, Wire(sent));
        holder->response()->add_items()->set_item_id(mark);
        for (uint64_t id : parsed->candidate_ids()) mixed += id != mark;
        mixed += holder->response()->items(0).item_id() != mark;
        holder->Release();
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(mixed.load(), 0);
}

}  // namespace
}  // namespace ranker
