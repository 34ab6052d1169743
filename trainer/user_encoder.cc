#include "trainer/user_encoder.h"

#include <algorithm>
#include <optional>
#include <vector>

namespace ranker {
namespace {

class IdUserEncoder final : public UserEncoder {
 public:
  explicit IdUserEncoder(TrainableTable users) : users_(std::move(users)) {}
  TrainableTable& table() override { return users_; }
  const TrainableTable& table() const override { return users_; }
  void Encode(const TrainingPair& pair, float* out) const override { users_.Embed(pair.user, out); }
  void Backward(const TrainingPair& pair, const float* d_user, TableGradient* grad) const override {
    users_.Backward(pair.user, d_user, grad);
  }
  bool uses_positive() const override { return false; }

 private:
  TrainableTable users_;
};

class HistoryUserEncoder final : public UserEncoder {
 public:
  // Owns `own` unless `borrowed` is given (tied tables).
  HistoryUserEncoder(std::optional<TrainableTable> own, TrainableTable* borrowed,
                     const Split& split, size_t max_history)
      : own_(std::move(own)), table_(borrowed != nullptr ? borrowed : &*own_) {
    histories_.reserve(split.users.size());
    for (const UserSplit& user : split.users) {
      histories_.push_back(RecentHistory(user, /*with_validation=*/false, max_history));
    }
  }
  TrainableTable& table() override { return *table_; }
  const TrainableTable& table() const override { return *table_; }
  void Encode(const TrainingPair& pair, float* out) const override {
    thread_local std::vector<float> row;
    row.resize(table_->dim());
    PoolRows(*table_, histories_[pair.user], pair.positive, out, row.data());
  }
  void Backward(const TrainingPair& pair, const float* d_user, TableGradient* grad) const override {
    const std::vector<uint32_t>& items = histories_[pair.user];
    // Items are distinct within a user's log, so the positive is in the history at most once.
    const uint32_t pooled = static_cast<uint32_t>(items.size()) -
                            (std::find(items.begin(), items.end(), pair.positive) != items.end());
    if (pooled == 0) return;
    // u = (1/count) sum_j E[j], so dL/dE[j] = dL/du / count for every pooled j.
    const uint32_t d = table_->dim();
    thread_local std::vector<float> share;
    share.resize(d);
    const float scale = 1.0f / static_cast<float>(pooled);
    for (uint32_t k = 0; k < d; ++k) share[k] = d_user[k] * scale;
    for (uint32_t item : items) {
      if (item != pair.positive) table_->Backward(item, share.data(), grad);
    }
  }
  bool uses_positive() const override { return true; }
  bool tied() const override { return own_ == std::nullopt; }

 private:
  std::optional<TrainableTable> own_;
  TrainableTable* table_;
  std::vector<std::vector<uint32_t>> histories_;  // per user, oldest first
};

}  // namespace

uint32_t PoolRows(const TrainableTable& table, absl::Span<const uint32_t> items, int64_t skip,
                  float* out, float* row) {
  const uint32_t d = table.dim();
  std::fill_n(out, d, 0.0f);
  uint32_t pooled = 0;
  for (uint32_t item : items) {
    if (static_cast<int64_t>(item) == skip) continue;
    table.Embed(item, row);
    for (uint32_t k = 0; k < d; ++k) out[k] += row[k];
    ++pooled;
  }
  if (pooled == 0) return 0;
  const float scale = 1.0f / static_cast<float>(pooled);
  for (uint32_t k = 0; k < d; ++k) out[k] *= scale;
  return pooled;
}

std::unique_ptr<UserEncoder> MakeIdUserEncoder(TrainableTable users) {
  return std::make_unique<IdUserEncoder>(std::move(users));
}

std::unique_ptr<UserEncoder> MakeHistoryUserEncoder(TrainableTable items_in, const Split& split,
                                                    size_t max_history) {
  return std::make_unique<HistoryUserEncoder>(std::move(items_in), nullptr, split, max_history);
}

std::unique_ptr<UserEncoder> MakeTiedHistoryUserEncoder(TrainableTable* items, const Split& split,
                                                        size_t max_history) {
  return std::make_unique<HistoryUserEncoder>(std::nullopt, items, split, max_history);
}

}  // namespace ranker
