#include "server/message_pool.h"

#include <gtest/gtest.h>

#include "proto/ranker.pb.h"

namespace ranker {
namespace {

using Pool = MessagePool<v1::RankRequest, v1::RankResponse>;

TEST(MessagePoolTest, ReleasedMessagesComeBackClearedWithTheirCapacity) {
  Pool pool;
  auto* first = pool.AllocateMessages();
  for (int i = 0; i < 500; ++i) first->request()->add_candidate_ids(i);
  for (int i = 0; i < 20; ++i) first->response()->add_items()->set_item_id(i);
  v1::RankRequest* request = first->request();
  first->Release();

  auto* second = pool.AllocateMessages();
  EXPECT_EQ(second->request(), request) << "the idle holder is reused";
  EXPECT_EQ(second->request()->candidate_ids_size(), 0);
  EXPECT_EQ(second->response()->items_size(), 0);
  EXPECT_GE(second->request()->candidate_ids().Capacity(), 500);
  second->Release();
}

TEST(MessagePoolTest, HoldersInUseAreDistinctAndIdleOnesAreCapped) {
  Pool pool(/*max_idle=*/1);
  auto* a = pool.AllocateMessages();
  auto* b = pool.AllocateMessages();
  EXPECT_NE(a->request(), b->request());
  EXPECT_NE(a->response(), b->response());
  const v1::RankRequest* kept = a->request();
  a->Release();
  b->Release();  // over max_idle: freed
  auto* c = pool.AllocateMessages();
  auto* d = pool.AllocateMessages();
  EXPECT_EQ(c->request(), kept);
  EXPECT_NE(d->request(), kept);
  c->Release();
  d->Release();
}

}  // namespace
}  // namespace ranker
