#include "trainer/split.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <random>

namespace ranker {

Split SplitPerUser(const Dataset& dataset, const SplitOptions& options) {
  std::vector<std::vector<Interaction>> by_user(dataset.users());
  for (const Interaction& x : dataset.interactions) by_user[x.user].push_back(x);
  Split split;
  split.users.resize(dataset.users());
  split.train_item_counts.assign(dataset.items(), 0);
  std::mt19937_64 rng(options.seed);
  for (size_t u = 0; u < by_user.size(); ++u) {
    std::vector<Interaction>& xs = by_user[u];
    std::shuffle(xs.begin(), xs.end(), rng);  // random order, or random among equal timestamps
    if (dataset.has_timestamps) {
      std::stable_sort(xs.begin(), xs.end(), [](const Interaction& a, const Interaction& b) {
        return a.timestamp < b.timestamp;
      });
    }
    const size_t n = xs.size();
    const size_t test =
        n == 0 ? 0
               : std::max<size_t>(1, static_cast<size_t>(std::round(n * options.test_fraction)));
    const size_t validation =
        std::min(n - test, static_cast<size_t>(std::round(n * options.validation_fraction)));
    const size_t train = n - test - validation;
    UserSplit& s = split.users[u];
    for (size_t i = 0; i < n; ++i) {
      (i < train ? s.train : i < train + validation ? s.validation : s.test).push_back(xs[i].item);
    }
    s.train_in_time = s.train;
    s.validation_in_time = s.validation;
    for (auto* part : {&s.train, &s.validation, &s.test}) std::sort(part->begin(), part->end());
    for (uint32_t item : s.train) ++split.train_item_counts[item];
    split.train_interactions += s.train.size();
  }
  return split;
}

std::vector<uint32_t> RecentHistory(const UserSplit& user, bool with_validation,
                                    size_t max_history) {
  std::vector<uint32_t> history = user.train_in_time;
  if (with_validation) {
    history.insert(history.end(), user.validation_in_time.begin(), user.validation_in_time.end());
  }
  if (max_history > 0 && history.size() > max_history) {
    history.erase(history.begin(), history.end() - static_cast<ptrdiff_t>(max_history));
  }
  return history;
}

}  // namespace ranker
