// ModelReaper: a model whose last reference is dropped is destroyed on the reaper thread, Stop
// drains the queue, and after Stop destruction happens inline.
#include "server/model_reaper.h"

#include <gtest/gtest.h>

#include "model/demo_model.h"

namespace ranker {
namespace {

TEST(ModelReaperTest, LastReferenceDropIsDestroyedOnTheReaperThread) {
  auto reaper = ModelReaper::Create();
  DemoModelOptions options;
  options.users = 10;
  options.items = 10;
  options.d = 4;
  options.hidden = {4};
  options.ratio = 2;
  Snapshot s = *MakeDemoSnapshot(options);
  auto model = reaper->Adopt(*Model::Create(s.manifest, std::move(s.tensors)));
  EXPECT_EQ(reaper->destroyed_on_reaper_thread(), 0u);
  model.reset();  // this (test) thread drops the last reference; the reaper thread frees it
  EXPECT_TRUE(reaper->WaitForDestroyed(1, absl::Seconds(30)));
  EXPECT_FALSE(reaper->WaitForDestroyed(2, absl::Milliseconds(10)));  // nothing else queued
  // A second model retired just before Stop is still destroyed on the reaper thread: Stop
  // drains the queue.
  Snapshot s1 = *MakeDemoSnapshot(options);
  reaper->Adopt(*Model::Create(s1.manifest, std::move(s1.tensors))).reset();
  reaper->Stop();
  EXPECT_EQ(reaper->destroyed_on_reaper_thread(), 2u);
  EXPECT_EQ(reaper->destroyed_inline(), 0u);
  // After Stop there is no thread left: destruction happens inline.
  Snapshot s2 = *MakeDemoSnapshot(options);
  reaper->Adopt(*Model::Create(s2.manifest, std::move(s2.tensors))).reset();
  EXPECT_EQ(reaper->destroyed_inline(), 1u);
}

}  // namespace
}  // namespace ranker
