#include "server/message_pool.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace ranker
