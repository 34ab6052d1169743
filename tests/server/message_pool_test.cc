#include "server/message_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "proto/ranker.pb.h"

namespace ranker {
namespace {

using Pool = MessagePool<v1::RankRequest, v1::RankResponse>;

TEST(MessagePoolTest, ReleasedHoldersComeBackWithEmptyMessagesOnTheirArena) {
  Pool pool;
  auto* first = pool.AllocateMessages();
  EXPECT_NE(first->request()->GetArena(), nullptr);
  EXPECT_EQ(first->request()->GetArena(), first->response()->GetArena());
  for (int i = 0; i < 500; ++i) first->request()->add_candidate_ids(i);
  for (int i = 0; i < 20; ++i) first->response()->add_items()->set_item_id(i);
  first->response()->mutable_stages()->set_ranked(20);
  const google::protobuf::Arena* arena = first->request()->GetArena();
  first->Release();

  auto* second = pool.AllocateMessages();
  EXPECT_EQ(second->request()->GetArena(), arena) << "the idle holder is reused";
  EXPECT_EQ(second->request()->candidate_ids_size(), 0);
  EXPECT_EQ(second->response()->items_size(), 0);
  EXPECT_FALSE(second->response()->has_stages());
  second->Release();
}

TEST(MessagePoolTest, MessagesLargerThanTheInlineBlockStillWork) {
  Pool pool;
  auto* holder = pool.AllocateMessages();
  for (int i = 0; i < 100000; ++i) holder->request()->add_candidate_ids(i);  // 800 KB
  EXPECT_EQ(holder->request()->candidate_ids(99999), 99999u);
  holder->Release();
  auto* again = pool.AllocateMessages();
  EXPECT_EQ(again->request()->candidate_ids_size(), 0);
  again->Release();
}

TEST(MessagePoolTest, HoldersInUseAreDistinctAndIdleOnesAreCapped) {
  Pool pool(/*max_idle=*/1);
  auto* a = pool.AllocateMessages();
  auto* b = pool.AllocateMessages();
  EXPECT_NE(a->request(), b->request());
  EXPECT_NE(a->response(), b->response());
  const google::protobuf::Arena* kept = a->request()->GetArena();
  a->Release();
  b->Release();  // over max_idle: freed
  auto* c = pool.AllocateMessages();
  auto* d = pool.AllocateMessages();
  EXPECT_EQ(c->request()->GetArena(), kept);
  EXPECT_NE(d->request()->GetArena(), kept);
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
        if (holder->request()->candidate_ids_size() != 0) ++mixed;
        const uint64_t mark = static_cast<uint64_t>(t) * 1000000 + i;
        for (int c = 0; c < 1 + i % 50; ++c) holder->request()->add_candidate_ids(mark);
        holder->response()->add_items()->set_item_id(mark);
        for (uint64_t id : holder->request()->candidate_ids()) mixed += id != mark;
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
