#include "model/embedding_table.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "model/table_sizing.h"

namespace ranker {
namespace {

absl::StatusOr<AlignedBuffer> TakeTensor(TensorMap& tensors, const std::string& name, DType dtype,
                                         std::vector<uint64_t> shape) {
  auto it = tensors.find(name);
  if (it == tensors.end())
    return absl::NotFoundError(absl::StrCat("tensor '", name, "' is missing"));
  if (it->second.dtype != dtype || it->second.shape != shape) {
    return absl::FailedPreconditionError(
        absl::StrCat("tensor '", name, "' has shape [", absl::StrJoin(it->second.shape, ","),
                     "], expected [", absl::StrJoin(shape, ","), "]"));
  }
  AlignedBuffer bytes = std::move(it->second.bytes);
  tensors.erase(it);
  return bytes;
}

inline void Scale(const float* row, float weight, uint32_t d, float* out) {
  for (uint32_t k = 0; k < d; ++k) out[k] = row[k] * weight;
}

}  // namespace

uint64_t HashId(snapshot::HashKind kind, uint64_t seed, uint64_t id) {
  if (kind != snapshot::MIX) return id;
  uint64_t z = id ^ seed;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

absl::StatusOr<EmbeddingTable> EmbeddingTable::Create(const TableSpec& spec, TensorMap& tensors) {
  const std::string& f = spec.feature();
  const uint64_t n = spec.n(), m = spec.m(), d = spec.d();
  if (n == 0 || d == 0) {
    return absl::FailedPreconditionError(absl::StrCat("table '", f, "' has n=", n, " d=", d));
  }
  EmbeddingTable table;
  table.spec_ = spec;
  const auto fail_context = [&](absl::Status s) {
    return absl::Status(s.code(), absl::StrCat("table '", f, "': ", s.message()));
  };
  absl::StatusOr<AlignedBuffer> primary, weights, quotient;
  switch (spec.kind()) {
    case snapshot::FULL:
      if (m != n)
        return absl::FailedPreconditionError(absl::StrCat("table '", f, "': full needs m == n"));
      primary = TakeTensor(tensors, TableTensorName(f, "embeddings"), snapshot::FLOAT32, {n, d});
      break;
    case snapshot::HASH:
    case snapshot::MEMCOM:
      if (m == 0) return absl::FailedPreconditionError(absl::StrCat("table '", f, "': m is 0"));
      primary = TakeTensor(tensors, TableTensorName(f, "shared"), snapshot::FLOAT32, {m, d});
      if (spec.kind() == snapshot::MEMCOM) {
        weights = TakeTensor(tensors, TableTensorName(f, "weight"), snapshot::FLOAT32, {n});
        if (!weights.ok()) return fail_context(weights.status());
        table.weights_ = *std::move(weights);
      }
      break;
    case snapshot::MEMCOM_FREQ: {
      if (m == 0) return absl::FailedPreconditionError(absl::StrCat("table '", f, "': m is 0"));
      const uint64_t k = spec.dedicated();
      if (k > n)
        return absl::FailedPreconditionError(absl::StrCat("table '", f, "': dedicated > n"));
      primary = TakeTensor(tensors, TableTensorName(f, "shared"), snapshot::FLOAT32, {m, d});
      weights = TakeTensor(tensors, TableTensorName(f, "weight"), snapshot::FLOAT32, {n});
      if (!weights.ok()) return fail_context(weights.status());
      table.weights_ = *std::move(weights);
      auto ids = TakeTensor(tensors, TableTensorName(f, "dedicated_ids"), snapshot::UINT64, {k});
      if (!ids.ok()) return fail_context(ids.status());
      auto rows = TakeTensor(tensors, TableTensorName(f, "dedicated"), snapshot::FLOAT32, {k, d});
      if (!rows.ok()) return fail_context(rows.status());
      table.dedicated_ids_ = *std::move(ids);
      table.dedicated_rows_ = *std::move(rows);
      auto sorted = table.dedicated_ids_.as<uint64_t>();
      for (size_t i = 0; i < sorted.size(); ++i) {
        if (sorted[i] >= n || (i > 0 && sorted[i] <= sorted[i - 1])) {
          return absl::FailedPreconditionError(
              absl::StrCat("table '", f, "': dedicated_ids must be increasing indices below n"));
        }
      }
      break;
    }
    case snapshot::QR:
      if (m == 0) return absl::FailedPreconditionError(absl::StrCat("table '", f, "': m is 0"));
      primary = TakeTensor(tensors, TableTensorName(f, "remainder"), snapshot::FLOAT32, {m, d});
      quotient = TakeTensor(tensors, TableTensorName(f, "quotient"), snapshot::FLOAT32,
                            {(n + m - 1) / m, d});
      if (!quotient.ok()) return fail_context(quotient.status());
      table.quotient_ = *std::move(quotient);
      break;
    default:
      return absl::FailedPreconditionError(
          absl::StrCat("table '", f, "' has unknown kind ", spec.kind()));
  }
  if (!primary.ok()) return fail_context(primary.status());
  table.primary_ = *std::move(primary);
  return table;
}

size_t EmbeddingTable::resident_bytes() const {
  return primary_.size() + weights_.size() + quotient_.size() + dedicated_ids_.size() +
         dedicated_rows_.size();
}

uint64_t EmbeddingTable::parameters() const { return TableParameters(spec_); }

const float* EmbeddingTable::BaseRow(uint64_t index) const {
  auto ids = dedicated_ids_.as<uint64_t>();
  auto it = std::lower_bound(ids.begin(), ids.end(), index);
  if (it != ids.end() && *it == index) {
    return dedicated_rows_.as<float>().data() + static_cast<size_t>(it - ids.begin()) * dim();
  }
  return primary_.as<float>().data() + Row(index) * dim();
}

void EmbeddingTable::Embed(uint64_t index, float* out) const {
  const uint32_t d = dim();
  const float* base = primary_.as<float>().data();
  switch (spec_.kind()) {
    case snapshot::FULL:
      std::memcpy(out, base + index * d, d * sizeof(float));
      return;
    case snapshot::HASH:
      std::memcpy(out, base + Row(index) * d, d * sizeof(float));
      return;
    case snapshot::MEMCOM:
      Scale(base + Row(index) * d, weights_.as<float>()[index], d, out);
      return;
    case snapshot::MEMCOM_FREQ:
      Scale(BaseRow(index), weights_.as<float>()[index], d, out);
      return;
    case snapshot::QR: {
      const float* q = quotient_.as<float>().data() + (index / spec_.m()) * d;
      const float* r = base + (index % spec_.m()) * d;
      for (uint32_t k = 0; k < d; ++k) out[k] = q[k] * r[k];
      return;
    }
    default:
      std::memset(out, 0, d * sizeof(float));
  }
}

void EmbeddingTable::EmbedUnknown(uint64_t raw_id, float* out) const {
  const uint32_t d = dim();
  switch (spec_.kind()) {
    case snapshot::HASH:
    case snapshot::MEMCOM:
    case snapshot::MEMCOM_FREQ:
    case snapshot::QR:
      std::memcpy(out, primary_.as<float>().data() + Row(raw_id) * d, d * sizeof(float));
      return;
    default:
      std::memset(out, 0, d * sizeof(float));
  }
}

void EmbeddingTable::Gather(const uint64_t* indices, const uint64_t* raw_ids, size_t count,
                            float* out) const {
  const uint32_t d = dim();
  for (size_t r = 0; r < count; ++r) {
    if (indices[r] == kUnknown) {
      EmbedUnknown(raw_ids[r], out + r * d);
    } else {
      Embed(indices[r], out + r * d);
    }
  }
}

}  // namespace ranker
