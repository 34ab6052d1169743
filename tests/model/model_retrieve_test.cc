// Two-stage Rank: retrieval by u . e_i, then the scorer over the retrieved. Checked against a
// reference computed the long way (every item's embedding, a full sort, ScoreOne), and against
// one stage when retrieval keeps every item.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "model/demo_model.h"
#include "model/model.h"
#include "model/table_layout.h"
#include "tests/support/table_kinds.h"

namespace ranker {
namespace {

constexpr uint64_t kItems = 3 * Model::kBlockSize + 5;

using Param = testing::KindModeHash;

class TwoStageTest : public ::testing::TestWithParam<Param> {
 protected:
  void SetUp() override {
    DemoModelOptions options;
    options.users = 50;
    options.items = kItems;
    options.d = 16;
    options.kind = std::get<0>(GetParam());
    options.user_mode = std::get<1>(GetParam());
    options.ratio = 4;
    options.clamp_ratio = true;  // qr's user table (50 users) cannot reach 4x
    options.hidden = {24, 8};
    options.dot_weight = 0.7f;
    options.sparse_item_ids = true;  // wire ids 7 i + 3: keys and ids differ
    options.hash = std::get<2>(GetParam());
    Snapshot snapshot = *MakeDemoSnapshot(options);
    auto model = Model::Create(snapshot.manifest, std::move(snapshot.tensors));
    ASSERT_TRUE(model.ok()) << model.status();
    model_ = *std::move(model);
    history_ = {Id(5), Id(17), Id(900), Id(2000), 999999};  // one unknown
    exclude_ = {Id(1), Id(3), Id(kItems - 1), 123456789};   // one unknown
  }
  static uint64_t Id(uint64_t index) { return 7 * index + 3; }
  bool history() const { return model_->history_mode(); }

  RankQuery Query(size_t k, size_t retrieve_n) const {
    RankQuery query;
    query.user_id = 7;
    if (history()) query.history = history_;
    query.exclude = exclude_;
    query.k = k;
    query.retrieve_n = retrieve_n;
    return query;
  }

  // The user vector Rank uses.
  std::vector<float> User() const {
    std::vector<float> user(model_->item().table.dim());
    if (history()) {
      uint32_t used = 0, unknown = 0;
      model_->EmbedHistory(history_, user.data(), &used, &unknown);
    } else {
      model_->EmbedUser(7, user.data());
    }
    return user;
  }

  bool Excluded(uint64_t id) const {
    if (std::find(exclude_.begin(), exclude_.end(), id) != exclude_.end()) return true;
    return history() && std::find(history_.begin(), history_.end(), id) != history_.end();
  }

  // The long way: the top n of `pool` by u . e_i (doubles, a full sort, ties to the lower id),
  // each with its ScoreOne score.
  std::map<uint64_t, float> Retrieved(const std::vector<uint64_t>& pool, size_t n) const {
    const std::vector<float> user = User();
    std::vector<float> e(user.size());
    std::vector<std::pair<double, uint64_t>> by_dot;
    for (uint64_t id : pool) {
      if (Excluded(id)) continue;
      model_->EmbedItem(id, e.data());
      double dot = 0;
      for (size_t j = 0; j < e.size(); ++j) dot += double{user[j]} * e[j];
      by_dot.push_back({-dot, id});
    }
    std::sort(by_dot.begin(), by_dot.end());
    by_dot.resize(std::min(n, by_dot.size()));
    std::map<uint64_t, float> scores;
    for (const auto& [dot, id] : by_dot) {
      model_->EmbedItem(id, e.data());
      scores[id] = model_->scorer().ScoreOne(user.data(), e.data());
    }
    return scores;
  }

  // `result` is the top k of the reference's retrieved items by score. Items with equal
  // embeddings (hash tables share rows) tie in exact arithmetic and may come in either order,
  // so each position is checked by score, and each id by membership and its own score.
  void ExpectRanksAsReference(const RankResult& result, const std::vector<uint64_t>& pool, size_t n,
                              size_t k) const {
    const std::map<uint64_t, float> retrieved = Retrieved(pool, n);
    std::vector<float> best;
    for (const auto& [id, score] : retrieved) best.push_back(score);
    std::sort(best.rbegin(), best.rend());
    best.resize(std::min(k, best.size()));
    ASSERT_EQ(result.items.size(), best.size());
    for (size_t r = 0; r < best.size(); ++r) {
      const auto it = retrieved.find(result.items[r].id);
      ASSERT_NE(it, retrieved.end()) << "rank " << r << ": id " << result.items[r].id
                                     << " is not in the reference's top " << n << " by dot";
      const float tolerance = 1e-5f * std::max(1.0f, std::abs(best[r]));
      EXPECT_NEAR(it->second, best[r], tolerance) << "rank " << r << " id " << it->first;
      EXPECT_NEAR(result.items[r].score, best[r], tolerance) << "rank " << r;
    }
  }

  std::vector<uint64_t> Catalogue() const {
    std::vector<uint64_t> ids;
    for (uint64_t i = 0; i < kItems; ++i) ids.push_back(Id(i));
    return ids;
  }

  std::unique_ptr<const Model> model_;
  std::vector<uint64_t> history_, exclude_;
  RankScratch scratch_;
};

TEST_P(TwoStageTest, WholeCatalogueMatchesTheLongWayReference) {
  for (size_t n : {1, 10, 50, 700}) {
    RankResult result;
    model_->Rank(Query(10, n), &scratch_, &result);
    EXPECT_EQ(result.retrieval_scored, kItems) << n;
    EXPECT_EQ(result.ranked, n) << n;
    ExpectRanksAsReference(result, Catalogue(), n, 10);
  }
}

// Stage 1 alone: the reference's top N by the dot product, best first, with those scores.
TEST_P(TwoStageTest, RetrieveReturnsTheTopNByTheDotProduct) {
  const std::vector<float> user = User();
  std::vector<float> e(user.size());
  for (size_t n : {1, 37, 1500}) {
    RankResult result;
    model_->Retrieve(Query(10, n), &scratch_, &result);
    const std::map<uint64_t, float> retrieved = Retrieved(Catalogue(), n);
    ASSERT_EQ(result.items.size(), n);
    EXPECT_EQ(result.retrieval_scored, kItems);
    for (size_t r = 0; r < n; ++r) {
      const ScoredId& item = result.items[r];
      EXPECT_TRUE(retrieved.count(item.id)) << "rank " << r << " id " << item.id;
      model_->EmbedItem(item.id, e.data());
      double dot = 0, magnitude = 0;
      for (size_t j = 0; j < e.size(); ++j) {
        dot += double{user[j]} * e[j];
        magnitude += std::abs(double{user[j]} * e[j]);
      }
      EXPECT_NEAR(item.score, dot, 1e-5 * magnitude) << "rank " << r;
      if (r > 0) {
        EXPECT_FALSE(RanksBefore(item, result.items[r - 1])) << "rank " << r;
      }
    }
  }
}

TEST_P(TwoStageTest, GivenCandidatesMatchTheLongWayReference) {
  // Duplicates, unknown ids and excluded ids among them (123456789: unknown and excluded, so
  // not counted as unknown).
  std::vector<uint64_t> candidates = {Id(1), 424242, Id(7), Id(7), 5, 123456789};
  for (uint64_t i = 0; i < kItems; i += 3) candidates.push_back(Id(i));
  RankQuery query = Query(20, 64);
  query.candidates = candidates;
  RankResult result;
  model_->Rank(query, &scratch_, &result);
  std::vector<uint64_t> unique = candidates;
  std::sort(unique.begin(), unique.end());
  unique.erase(std::unique(unique.begin(), unique.end()), unique.end());
  EXPECT_EQ(result.retrieval_scored, unique.size());
  EXPECT_EQ(result.ranked, 64u);
  EXPECT_EQ(result.unknown_items, 2u);  // 424242 and 5 (Id(i) is never 5)
  ExpectRanksAsReference(result, unique, 64, 20);

  // Fewer candidates than the table's projection rows: stage 1 builds their embeddings instead
  // of projecting the user (except full and qr, whose projections are small or none).
  std::vector<uint64_t> few = {Id(1), 424242, Id(2)};
  for (uint64_t i = 5; i < 150; i += 2) few.push_back(Id(i));
  const TableKind kind = model_->item().table.spec().kind();
  ASSERT_TRUE(kind == snapshot::FULL || kind == snapshot::QR ||
              few.size() < model_->item().table.DotPrepareRows());
  query.candidates = few;
  model_->Rank(query, &scratch_, &result);
  std::sort(few.begin(), few.end());
  EXPECT_EQ(result.retrieval_scored, few.size());
  EXPECT_EQ(result.unknown_items, 1u);
  ExpectRanksAsReference(result, few, 64, 20);
}

// Retrieval that keeps every item not excluded must rank exactly as one stage: same ids, same
// scores to the bit (the scorer sees the same items in the same blocks).
TEST_P(TwoStageTest, KeepingEverythingRanksExactlyAsOneStage) {
  const size_t k = kItems;  // every item, so every score is compared
  RankResult one, two;
  model_->Rank(Query(k, 0), &scratch_, &one);
  model_->Rank(Query(k, kItems - 1), &scratch_, &two);
  EXPECT_EQ(one.retrieval_scored, 0u);
  EXPECT_EQ(two.retrieval_scored, kItems);
  EXPECT_EQ(two.ranked, one.ranked);
  ASSERT_EQ(two.items.size(), one.items.size());
  for (size_t r = 0; r < one.items.size(); ++r) {
    ASSERT_EQ(two.items[r].id, one.items[r].id) << r;
    ASSERT_EQ(two.items[r].score, one.items[r].score) << r;
  }
}

TEST_P(TwoStageTest, RetrieveNAtLeastThePoolRunsOneStage) {
  RankResult result;
  model_->Rank(Query(10, kItems), &scratch_, &result);
  EXPECT_EQ(result.retrieval_scored, 0u);
  std::vector<uint64_t> candidates = {Id(8), Id(9), Id(10)};
  RankQuery query = Query(10, 3);
  query.candidates = candidates;
  model_->Rank(query, &scratch_, &result);
  EXPECT_EQ(result.retrieval_scored, 0u);
  EXPECT_EQ(result.ranked, 3u);
}

INSTANTIATE_TEST_SUITE_P(AllKinds, TwoStageTest, testing::AllKindsModesAndHashes(),
                         testing::KindModeHashName);

TEST(TwoStageRankTest, PopularityRankingNeverRetrieves) {
  DemoModelOptions options;
  options.items = 3000;
  options.user_mode = snapshot::USER_MODE_HISTORY;
  Snapshot snapshot = *MakeDemoSnapshot(options);
  auto model = *Model::Create(snapshot.manifest, std::move(snapshot.tensors));
  RankQuery query;  // no history
  query.k = 5;
  query.retrieve_n = 10;
  RankScratch scratch;
  RankResult result;
  model->Rank(query, &scratch, &result);
  EXPECT_TRUE(result.popularity);
  EXPECT_EQ(result.retrieval_scored, 0u);
  EXPECT_EQ(result.ranked, 0u);
  ASSERT_EQ(result.items.size(), 5u);
  EXPECT_EQ(result.items[0].id, 0u);  // the demo's most popular item
}

// Over a catalogue of 8-bit pq rows, retrieval scores only the candidates of the bounded scan
// (model/pq_scan.h); it must keep exactly the items and scores a scan of every exact score
// keeps (computed here with DotRange over the whole catalogue and a full sort), with the ten
// best excluded. Catalogues across 512-item rank blocks, one a whole number of them; a head of
// 20 rows (no whole SIMD block); 4-bit codes, which have no shortcut and take the full scan.
// Small (d = 8, about 2,000 items): encoding pq tables is slow under the sanitizers.
TEST(TwoStageRankTest, TheCatalogueShortcutKeepsWhatTheFullScanKeeps) {
  struct Case {
    const char* storage;
    uint64_t items;
  };
  for (const Case& c : {Case{"pq8x8", 2013}, Case{"head20:pq8x8+pq4x8", 2013},
                        Case{"head1:pq8x8+pq2x8", 2048}, Case{"head20:pq8x4+pq4x4", 2013}}) {
    const char* storage = c.storage;
    SCOPED_TRACE(storage);
    DemoModelOptions options;
    options.users = 20;
    options.items = c.items;
    options.d = 8;
    options.kind = snapshot::FULL;
    options.user_mode = snapshot::USER_MODE_HISTORY;
    options.hidden = {8};
    options.rows = *ParseRowStorage(storage);
    Snapshot snapshot = *MakeDemoSnapshot(options);
    auto created = Model::Create(snapshot.manifest, std::move(snapshot.tensors));
    ASSERT_TRUE(created.ok()) << created.status();
    const Model& model = **created;
    const EmbeddingTable& table = model.item().table;
    const bool shortcut = std::string(storage).find("x4") == std::string::npos;
    RankScratch scratch;
    for (uint64_t seed : {0u, 1u, 2u}) {
      const std::vector<uint64_t> history = {seed, 100 + seed, 1000 + 7 * seed};
      std::vector<float> user(8);
      uint32_t used = 0, unknown = 0;
      model.EmbedHistory(history, user.data(), &used, &unknown);
      std::vector<float> all(options.items);
      DotQuery dot;
      dot.user = user.data();
      table.PrepareDot(&dot);
      table.DotRange(dot, 0, all.size(), all.data());
      std::vector<ScoredId> by_score;
      for (uint64_t i = 0; i < all.size(); ++i) by_score.push_back({i, all[i]});
      std::sort(by_score.begin(), by_score.end(), RanksBefore);
      std::vector<uint64_t> candidates;
      EXPECT_EQ(table.DotTopCandidates(&dot, 50, &candidates), shortcut);
      if (shortcut) {
        EXPECT_LT(candidates.size(), all.size() / 10);
      }
      // Exclude the ten best: the shortcut must look past all of them.
      std::vector<uint64_t> exclude;
      for (size_t r = 0; r < 10; ++r) exclude.push_back(by_score[r].id);
      for (size_t n : {size_t{1}, size_t{10}, size_t{100}, size_t{1000}}) {  // 1000: no shortcut
        RankQuery query;
        query.history = history;
        query.exclude = exclude;
        query.k = n;
        query.retrieve_n = n;
        RankResult result;
        model.Retrieve(query, &scratch, &result);
        EXPECT_EQ(result.retrieval_scored, all.size());
        std::vector<ScoredId> expected;
        for (const ScoredId& entry : by_score) {
          if (expected.size() == n) break;
          const bool excluded =
              std::find(exclude.begin(), exclude.end(), entry.id) != exclude.end() ||
              std::find(history.begin(), history.end(), entry.id) != history.end();
          if (!excluded) expected.push_back(entry);
        }
        ASSERT_EQ(result.items.size(), expected.size()) << "n " << n;
        for (size_t r = 0; r < expected.size(); ++r) {
          EXPECT_EQ(result.items[r].id, expected[r].id) << "n " << n << " rank " << r;
          EXPECT_EQ(result.items[r].score, expected[r].score) << "n " << n << " rank " << r;
        }
      }
    }
  }
}

}  // namespace
}  // namespace ranker
