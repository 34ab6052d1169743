#include "model/table_dot.h"

#include <Eigen/Core>
#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"
#include "model/id_hash.h"
#include "model/pq_scan.h"
#include "model/table_rows.h"

namespace ranker {
namespace {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using ConstMatrixMap = Eigen::Map<const RowMatrix>;
using ConstVectorMap = Eigen::Map<const Eigen::VectorXf>;
using VectorMap = Eigen::Map<Eigen::VectorXf>;

// out[r] = rows[r] . v for `count` consecutive rows of a row-major [*, d] matrix.
inline void Gemv(const float* rows, size_t count, uint32_t d, const float* v, float* out) {
  VectorMap(out, static_cast<Eigen::Index>(count)).noalias() =
      ConstMatrixMap(rows, static_cast<Eigen::Index>(count), d) * ConstVectorMap(v, d);
}

template <typename RowT>
inline float Dot(const RowT& a, const float* b, uint32_t d) {
  float sum = 0;
  for (uint32_t k = 0; k < d; ++k) sum += a[k] * b[k];
  return sum;
}

// out[r] = row(first + r) . v for `count` consecutive rows of tensor `tensor`, read through the
// row policy (table_rows.h).
template <typename R>
void RowsGemv(const TableTensors& t, size_t tensor, uint64_t first, size_t count, const float* v,
              float* out);

template <>
void RowsGemv<FloatRows>(const TableTensors& t, size_t tensor, uint64_t first, size_t count,
                         const float* v, float* out) {
  const uint32_t d = t.spec->d();
  Gemv(t.floats(tensor) + first * d, count, d, v, out);
}

// s[r] * (q[r] . v): blocks of levels widened to floats (a vectorised conversion into an L1-sized
// buffer), the float GEMV over the block, then each row's scale. Summing the levels directly
// would leave one horizontal reduction per row, which costs more than the conversion.
template <>
void RowsGemv<Int8Rows>(const TableTensors& t, size_t tensor, uint64_t first, size_t count,
                        const float* v, float* out) {
  constexpr size_t kBlockFloats = 8192;  // 32 KiB
  // Fixed size per thread: no allocation, and a table's d cannot make it grow.
  alignas(64) thread_local float block[kBlockFloats];
  const uint32_t d = t.spec->d();
  const int8_t* levels = t.int8s(tensor) + first * d;
  const float* scales = t.scales[tensor] + first;
  if (d > kBlockFloats) {  // rows wider than the buffer: one row at a time, unblocked
    for (size_t r = 0; r < count; ++r) {
      const int8_t* q = levels + r * d;
      float sum = 0;
      for (uint32_t k = 0; k < d; ++k) sum += static_cast<float>(q[k]) * v[k];
      out[r] = sum * scales[r];
    }
    return;
  }
  const size_t block_rows = kBlockFloats / d;
  for (size_t start = 0; start < count; start += block_rows) {
    const size_t rows = std::min(block_rows, count - start);
    const int8_t* q = levels + start * d;
    for (size_t e = 0; e < rows * d; ++e) block[e] = static_cast<float>(q[e]);
    float* block_out = out + start;
    Gemv(block, rows, d, v, block_out);
    for (size_t r = 0; r < rows; ++r) block_out[r] *= scales[start + r];
  }
}

// Asymmetric distance computation over pq codes (model/pq_rows.h): a row . v is the sum over
// sub-vectors j of centroid(j, code j) . v_j, so one lookup table of every centroid's product
// with its part of v (pq_subvectors x 2^bits floats) turns each row into pq_subvectors loads.
inline uint32_t PqCentroids(const TableSpec& spec) {
  return spec.pq_subvectors() << spec.pq_bits();
}

// lut[j * 2^bits + c] = centroid (j, c) . v_j.
inline void BuildPqLut(const TableTensors& t, size_t tensor, const float* v, float* lut) {
  const uint32_t subvectors = t.spec->pq_subvectors(), centroids = 1u << t.spec->pq_bits();
  const uint32_t sub = t.spec->d() / subvectors;
  const float* codebook = t.codebooks[tensor];
  for (uint32_t j = 0; j < subvectors; ++j) {
    Gemv(codebook + size_t{j} * centroids * sub, centroids, sub, v + j * sub, lut + j * centroids);
  }
}

// out[r] = sum over j of lut[j * 2^bits + code(first + r, j)], sub-vectors in order. One row
// at a time with its codes read 8 bytes per load, the sub-vector count a compile-time constant
// where it is a common one (the loop unrolls and every table offset is an immediate).
template <uint32_t kBits, uint32_t kSubvectors>
inline float PqRowSum(const uint8_t* row, uint32_t subvectors, const float* lut) {
  constexpr uint32_t kCentroids = 1u << kBits;
  const uint32_t count = kSubvectors > 0 ? kSubvectors : subvectors;
  float sum = 0;
  for (uint32_t j = 0; j < count; ++j) {
    const uint32_t code = kBits == 8 ? row[j] : (row[j >> 1] >> ((j & 1) * 4)) & 0xF;
    sum += lut[j * kCentroids + code];
  }
  return sum;
}

template <uint32_t kBits, uint32_t kSubvectors>
void PqLookupRows(const uint8_t* codes, uint32_t subvectors, const float* lut, size_t count,
                  float* out) {
  const size_t row_bytes = subvectors * kBits / 8;
  // Four rows per iteration: their sums are independent chains of adds.
  size_t r = 0;
  for (; r + 3 < count; r += 4) {
    const uint8_t* row = codes + r * row_bytes;
    out[r] = PqRowSum<kBits, kSubvectors>(row, subvectors, lut);
    out[r + 1] = PqRowSum<kBits, kSubvectors>(row + row_bytes, subvectors, lut);
    out[r + 2] = PqRowSum<kBits, kSubvectors>(row + 2 * row_bytes, subvectors, lut);
    out[r + 3] = PqRowSum<kBits, kSubvectors>(row + 3 * row_bytes, subvectors, lut);
  }
  for (; r < count; ++r) {
    out[r] = PqRowSum<kBits, kSubvectors>(codes + r * row_bytes, subvectors, lut);
  }
}

template <uint32_t kBits>
void PqLookup(const uint8_t* codes, uint32_t subvectors, const float* lut, size_t count,
              float* out) {
  switch (subvectors) {
    case 8:
      return PqLookupRows<kBits, 8>(codes, subvectors, lut, count, out);
    case 16:
      return PqLookupRows<kBits, 16>(codes, subvectors, lut, count, out);
    case 32:
      return PqLookupRows<kBits, 32>(codes, subvectors, lut, count, out);
    default:
      return PqLookupRows<kBits, 0>(codes, subvectors, lut, count, out);
  }
}

inline void PqLookup(const TableTensors& t, size_t tensor, uint64_t first, size_t count,
                     const float* lut, float* out) {
  const uint32_t subvectors = t.spec->pq_subvectors();
  const uint8_t* codes = t.codes(tensor) + first * (subvectors * t.spec->pq_bits() / 8);
  if (t.spec->pq_bits() == 8) {
    PqLookup<8>(codes, subvectors, lut, count, out);
  } else {
    PqLookup<4>(codes, subvectors, lut, count, out);
  }
}

// Rows sharing no per-request lookup table (a shared-row table's m rows, a run of qr
// remainders): each row's centroids dotted with v's sub-vectors, d multiply-adds as for float
// rows. A lookup table here would need per-thread scratch: a static thread_local one (64 KiB)
// made threads with small stacks fail to start (glibc puts static TLS on every thread's stack;
// the metrics server's civetweb threads have 100 KiB).
template <>
void RowsGemv<PqRows>(const TableTensors& t, size_t tensor, uint64_t first, size_t count,
                      const float* v, float* out) {
  const uint32_t subvectors = t.spec->pq_subvectors();
  for (size_t r = 0; r < count; ++r) {
    const PqRow row = PqRows::At(t, tensor, first + r);
    float sum = 0;
    for (uint32_t j = 0; j < subvectors; ++j) {
      const float* centroid = row.Centroid(j);
      const float* part = v + j * row.sub;
      for (uint32_t k = 0; k < row.sub; ++k) sum += centroid[k] * part[k];
    }
    out[r] = sum;
  }
}

// Calls run(offset, row, length) for the runs of items first + offset .. + length whose
// identity-hashed rows (i mod m) are consecutive: row, row + 1, ...; i / m is constant in a run.
template <typename Run>
inline void ForEachRun(uint64_t first, size_t count, uint64_t m, Run run) {
  uint64_t row = first % m;
  size_t offset = 0;
  while (offset < count) {
    const size_t length = static_cast<size_t>(std::min<uint64_t>(count - offset, m - row));
    run(offset, row, length);
    offset += length;
    row = 0;
  }
}

// The shared (which = 0) or second row of dense index i: the load-time index when there is
// one, else computed.
inline uint64_t RowOf(const TableTensors& t, size_t which, uint64_t i) {
  if (t.rows[which] != nullptr) return t.rows[which][i];
  return which == 0 ? SharedRow(*t.spec, i) : SecondRow(*t.spec, i);
}

template <typename R>
struct Full {
  static uint64_t PrepareRows(const TableSpec&) { return 0; }
  static void Prepare(const TableTensors&, DotQuery*) {}
  static void ScoreRange(const TableTensors& t, const DotQuery& q, uint64_t first, size_t count,
                         float* scores) {
    RowsGemv<R>(t, 0, first, count, q.user, scores);
  }
  static float Score(const TableTensors& t, const DotQuery& q, uint64_t i) {
    return Dot(R::At(t, 0, i), q.user, t.spec->d());
  }
  static float ScoreUnknown(const TableTensors&, const DotQuery&, uint64_t) { return 0.0f; }
};

// A full table of pq codes: the lookup table is the per-request state.
template <>
struct Full<PqRows> {
  static uint64_t PrepareRows(const TableSpec& spec) {
    return uint64_t{1} << spec.pq_bits();  // the codebook: 2^bits rows of d floats
  }
  static void Prepare(const TableTensors& t, DotQuery* q) {
    q->projected.resize(PqCentroids(*t.spec));
    BuildPqLut(t, 0, q->user, q->projected.data());
  }
  static void ScoreRange(const TableTensors& t, const DotQuery& q, uint64_t first, size_t count,
                         float* scores) {
    PqLookup(t, 0, first, count, q.projected.data(), scores);
  }
  static float Score(const TableTensors& t, const DotQuery& q, uint64_t i) {
    float score;
    PqLookup(t, 0, i, 1, q.projected.data(), &score);
    return score;
  }
  static float ScoreUnknown(const TableTensors&, const DotQuery&, uint64_t) { return 0.0f; }
  static bool TopCandidates(const TableTensors& t, DotQuery* q, size_t keep,
                            std::vector<uint64_t>* items) {
    const TableSpec& spec = *t.spec;
    if (spec.pq_bits() != 8 || !PqScanHasSimdFor(spec.pq_subvectors())) return false;
    const PqScanGroup group{t.codes(0), spec.n(), spec.pq_subvectors(), q->projected.data()};
    return PqScanCandidates(&group, 1, keep, &q->scan, items);  // rows are items
  }
};

// Replaces each of the increasing head (head = true) or tail `rows` of a head/tail table by its
// entity: one walk of the rank directory and the head bits for all of them.
void RowsToEntities(const TableTensors& t, bool head, std::vector<uint64_t>* rows) {
  const uint64_t blocks = t.spec->n() / kHeadRankBlock + 1;  // BuildHeadRank's entries
  // The group's rows before block b.
  const auto before = [&](uint64_t b) -> uint64_t {
    return head ? t.head_rank[b] : b * kHeadRankBlock - t.head_rank[b];
  };
  uint64_t block = 0;
  for (uint64_t& row : *rows) {
    while (block + 1 < blocks && before(block + 1) <= row) ++block;
    uint64_t count = before(block);
    // The row's entity is below n, so the walk ends before the bits past n (set in ~bits).
    for (uint64_t word = block * (kHeadRankBlock / 64);; ++word) {
      uint64_t bits = head ? t.head_bits[word] : ~t.head_bits[word];
      const uint64_t in_word = static_cast<uint64_t>(std::popcount(bits));
      if (count + in_word <= row) {
        count += in_word;
        continue;
      }
      for (uint64_t skip = row - count; skip > 0; --skip) bits &= bits - 1;
      row = word * 64 + static_cast<uint64_t>(std::countr_zero(bits));
      break;
    }
  }
}

// A full table of head/tail pq codes: one lookup table per group, the head's first. A range is
// walked a 64-item word of head bits at a time: the word's head items (its set bits, in order)
// have consecutive head rows, and its tail items consecutive tail rows, so each group is a loop
// over set bits with no per-item branch on the group (popularity scatters the head over ids,
// and a branch per item mispredicted often).
struct FullHeadTail {
  static uint64_t PrepareRows(const TableSpec& spec) {
    return (uint64_t{1} << spec.pq_bits()) + (uint64_t{1} << spec.tail_pq_bits());
  }
  static void Prepare(const TableTensors& t, DotQuery* q) {
    const TableSpec& spec = *t.spec;
    const uint32_t head = PqCentroids(spec), tail = spec.tail_pq_subvectors()
                                                    << spec.tail_pq_bits();
    q->projected.resize(head + tail);
    BuildPqLut(t, 0, q->user, q->projected.data());
    const uint32_t centroids = 1u << spec.tail_pq_bits();
    const uint32_t sub = spec.d() / spec.tail_pq_subvectors();
    for (uint32_t j = 0; j < spec.tail_pq_subvectors(); ++j) {
      Gemv(t.tail_codebook + size_t{j} * centroids * sub, centroids, sub, q->user + j * sub,
           q->projected.data() + head + j * centroids);
    }
  }
  template <uint32_t kHeadBits, uint32_t kHeadSub, uint32_t kTailBits, uint32_t kTailSub>
  static void Range(const TableTensors& t, const float* lut, uint64_t first, size_t count,
                    float* scores) {
    const TableSpec& spec = *t.spec;
    const uint32_t head_subvectors = spec.pq_subvectors(),
                   tail_subvectors = spec.tail_pq_subvectors();
    const size_t head_bytes = head_subvectors * kHeadBits / 8,
                 tail_bytes = tail_subvectors * kTailBits / 8;
    const uint8_t* head_codes = t.codes(0);
    const float* tail_lut = lut + PqCentroids(spec);
    const uint64_t end = first + count;
    uint64_t head = HeadBefore(t, first);
    for (uint64_t i = first; i < end;) {
      const uint64_t word = i / 64, low = i % 64, high = std::min<uint64_t>(64, end - word * 64);
      const uint64_t span =
          (high == 64 ? ~uint64_t{0} : (uint64_t{1} << high) - 1) & ~((uint64_t{1} << low) - 1);
      const uint64_t heads = t.head_bits[word] & span, tails = ~t.head_bits[word] & span;
      // Item word * 64 + b scores into scores[word * 64 + b - first] (b >= low, so >= 0).
      const uint64_t base = word * 64 - first;  // wraps below zero; only base + b is used
      uint64_t row = head;
      for (uint64_t m = heads; m != 0; m &= m - 1) {
        scores[base + std::countr_zero(m)] =
            PqRowSum<kHeadBits, kHeadSub>(head_codes + row++ * head_bytes, head_subvectors, lut);
      }
      row = i - head;  // the span's first tail item's tail row
      for (uint64_t m = tails; m != 0; m &= m - 1) {
        scores[base + std::countr_zero(m)] = PqRowSum<kTailBits, kTailSub>(
            t.tail_codes + row++ * tail_bytes, tail_subvectors, tail_lut);
      }
      head += static_cast<uint64_t>(std::popcount(heads));
      i = word * 64 + high;
    }
  }
  // The recommended storages' shapes unrolled (32 head sub-vectors; 16, 8, 4 or 2 in the
  // tail), any other through the generic loop.
  template <uint32_t kHeadBits, uint32_t kTailBits>
  static void RangeFor(const TableTensors& t, const float* lut, uint64_t first, size_t count,
                       float* scores) {
    const TableSpec& spec = *t.spec;
    if (spec.pq_subvectors() == 32) {
      switch (spec.tail_pq_subvectors()) {
        case 16:
          return Range<kHeadBits, 32, kTailBits, 16>(t, lut, first, count, scores);
        case 8:
          return Range<kHeadBits, 32, kTailBits, 8>(t, lut, first, count, scores);
        case 4:
          return Range<kHeadBits, 32, kTailBits, 4>(t, lut, first, count, scores);
        case 2:
          return Range<kHeadBits, 32, kTailBits, 2>(t, lut, first, count, scores);
        default:
          break;
      }
    }
    Range<kHeadBits, 0, kTailBits, 0>(t, lut, first, count, scores);
  }
  static void ScoreRange(const TableTensors& t, const DotQuery& q, uint64_t first, size_t count,
                         float* scores) {
    const float* lut = q.projected.data();
    const bool head8 = t.spec->pq_bits() == 8, tail8 = t.spec->tail_pq_bits() == 8;
    if (head8 && tail8) return RangeFor<8, 8>(t, lut, first, count, scores);
    if (head8) return RangeFor<8, 4>(t, lut, first, count, scores);
    if (tail8) return RangeFor<4, 8>(t, lut, first, count, scores);
    RangeFor<4, 4>(t, lut, first, count, scores);
  }
  static float Score(const TableTensors& t, const DotQuery& q, uint64_t i) {
    float score;
    ScoreRange(t, q, i, 1, &score);
    return score;
  }
  static float ScoreUnknown(const TableTensors&, const DotQuery&, uint64_t) { return 0.0f; }
  // Both groups scanned with their bounds together (pq_scan.h), then each group's rows mapped to
  // their entities and merged in index order.
  static bool TopCandidates(const TableTensors& t, DotQuery* q, size_t keep,
                            std::vector<uint64_t>* items) {
    const TableSpec& spec = *t.spec;
    if (spec.pq_bits() != 8 || spec.tail_pq_bits() != 8 ||
        !PqScanHasSimdFor(spec.pq_subvectors()) || !PqScanHasSimdFor(spec.tail_pq_subvectors())) {
      return false;
    }
    const uint64_t head_rows = spec.head_rows();
    const PqScanGroup groups[2] = {
        {t.codes(0), head_rows, spec.pq_subvectors(), q->projected.data()},
        {t.tail_codes, spec.n() - head_rows, spec.tail_pq_subvectors(),
         q->projected.data() + PqCentroids(spec)}};
    std::vector<uint64_t>* rows = q->scan.rows;
    if (!PqScanCandidates(groups, 2, keep, &q->scan, rows)) return false;
    RowsToEntities(t, true, &rows[0]);
    RowsToEntities(t, false, &rows[1]);
    items->resize(rows[0].size() + rows[1].size());
    std::merge(rows[0].begin(), rows[0].end(), rows[1].begin(), rows[1].end(), items->begin());
    return true;
  }
};

// t = S u; hash: t[h(i)], memcom: w[i] * t[h(i)].
template <bool kWeighted, typename R>
struct SharedRows {
  static uint64_t PrepareRows(const TableSpec& spec) { return spec.m(); }
  static void Prepare(const TableTensors& t, DotQuery* q) {
    q->projected.resize(t.spec->m());
    RowsGemv<R>(t, 0, 0, t.spec->m(), q->user, q->projected.data());
  }
  static void ScoreRange(const TableTensors& t, const DotQuery& q, uint64_t first, size_t count,
                         float* scores) {
    const float* projected = q.projected.data();
    const float* w = kWeighted ? t.floats(1) + first : nullptr;
    if (const uint32_t* rows = t.rows[0]; rows != nullptr) {
      rows += first;
      for (size_t r = 0; r < count; ++r) {
        scores[r] = kWeighted ? w[r] * projected[rows[r]] : projected[rows[r]];
      }
      return;
    }
    ForEachRun(first, count, t.spec->m(), [&](size_t offset, uint64_t row, size_t length) {
      const float* run = projected + row;
      float* out = scores + offset;
      if (!kWeighted) {
        std::memcpy(out, run, length * sizeof(float));
        return;
      }
      const float* weights = w + offset;
      for (size_t j = 0; j < length; ++j) out[j] = weights[j] * run[j];
    });
  }
  static float Score(const TableTensors& t, const DotQuery& q, uint64_t i) {
    const float shared = q.projected[RowOf(t, 0, i)];
    return kWeighted ? t.floats(1)[i] * shared : shared;
  }
  static float ScoreUnknown(const TableTensors& t, const DotQuery& q, uint64_t id) {
    return q.projected[SharedRow(*t.spec, id)];
  }
};

// t = [S u; D u]; w[i] * t[slot(i)], the slot from the row index (always built).
template <typename R>
struct MemcomFreq {
  static uint64_t PrepareRows(const TableSpec& spec) { return spec.m() + spec.dedicated(); }
  static void Prepare(const TableTensors& t, DotQuery* q) {
    const uint64_t m = t.spec->m(), dedicated = t.spec->dedicated();
    q->projected.resize(m + dedicated);
    RowsGemv<R>(t, 0, 0, m, q->user, q->projected.data());
    RowsGemv<R>(t, 2, 0, dedicated, q->user, q->projected.data() + m);
  }
  static void ScoreRange(const TableTensors& t, const DotQuery& q, uint64_t first, size_t count,
                         float* scores) {
    const float* projected = q.projected.data();
    const float* w = t.floats(1) + first;
    const uint32_t* slots = t.rows[0] + first;
    for (size_t r = 0; r < count; ++r) scores[r] = w[r] * projected[slots[r]];
  }
  static float Score(const TableTensors& t, const DotQuery& q, uint64_t i) {
    return t.floats(1)[i] * q.projected[t.rows[0][i]];
  }
  static float ScoreUnknown(const TableTensors& t, const DotQuery& q, uint64_t id) {
    return q.projected[SharedRow(*t.spec, id)];
  }
};

// t = S u, t2 = S2 u; w[i] * t[h(i)] + w2[i] * t2[h2(i)].
template <typename R>
struct Memcom2 {
  static uint64_t PrepareRows(const TableSpec& spec) { return 2 * spec.m(); }
  static void Prepare(const TableTensors& t, DotQuery* q) {
    const uint64_t m = t.spec->m();
    q->projected.resize(2 * m);
    RowsGemv<R>(t, 0, 0, m, q->user, q->projected.data());
    RowsGemv<R>(t, 2, 0, m, q->user, q->projected.data() + m);
  }
  static void ScoreRange(const TableTensors& t, const DotQuery& q, uint64_t first, size_t count,
                         float* scores) {
    const uint64_t m = t.spec->m();
    const float* projected = q.projected.data();
    const float* projected2 = projected + m;
    const float* w = t.floats(1) + first;
    const float* w2 = t.floats(3) + first;
    if (t.rows[0] != nullptr) {
      const uint32_t* rows = t.rows[0] + first;
      const uint32_t* rows2 = t.rows[1] + first;
      for (size_t r = 0; r < count; ++r) {
        scores[r] = w[r] * projected[rows[r]] + w2[r] * projected2[rows2[r]];
      }
      return;
    }
    ForEachRun(first, count, m, [&](size_t offset, uint64_t row, size_t length) {
      const float second = projected2[SecondRow(*t.spec, first + offset)];
      const float* run = projected + row;
      for (size_t j = 0; j < length; ++j) {
        scores[offset + j] = w[offset + j] * run[j] + w2[offset + j] * second;
      }
    });
  }
  static float Score(const TableTensors& t, const DotQuery& q, uint64_t i) {
    const uint64_t m = t.spec->m();
    return t.floats(1)[i] * q.projected[RowOf(t, 0, i)] +
           t.floats(3)[i] * q.projected[m + RowOf(t, 1, i)];
  }
  static float ScoreUnknown(const TableTensors& t, const DotQuery& q, uint64_t id) {
    return q.projected[SharedRow(*t.spec, id)] + q.projected[t.spec->m() + SecondRow(*t.spec, id)];
  }
};

// v_q = u * Q[q] for every quotient row q; R[i mod m] . v_{i / m}: per run, a GEMV over the
// run's remainder rows.
template <typename R>
struct Qr {
  static uint64_t QuotientRows(const TableSpec& spec) {
    return ExtentOf(Extent::kQuotientRows, spec);
  }
  static uint64_t PrepareRows(const TableSpec& spec) { return QuotientRows(spec); }
  static void Prepare(const TableTensors& t, DotQuery* q) {
    const uint32_t d = t.spec->d();
    const uint64_t quotients = QuotientRows(*t.spec);
    q->projected.resize(quotients * d);
    for (uint64_t row = 0; row < quotients; ++row) {
      const auto quotient = R::At(t, 1, row);
      for (uint32_t k = 0; k < d; ++k) q->projected[row * d + k] = q->user[k] * quotient[k];
    }
  }
  static void ScoreRange(const TableTensors& t, const DotQuery& q, uint64_t first, size_t count,
                         float* scores) {
    const uint32_t d = t.spec->d();
    const uint64_t m = t.spec->m();
    ForEachRun(first, count, m, [&](size_t offset, uint64_t row, size_t length) {
      const uint64_t quotient = (first + offset) / m;
      RowsGemv<R>(t, 0, row, length, q.projected.data() + quotient * d, scores + offset);
    });
  }
  static float Score(const TableTensors& t, const DotQuery& q, uint64_t i) {
    const uint32_t d = t.spec->d();
    const uint64_t m = t.spec->m();
    return Dot(R::At(t, 0, i % m), q.projected.data() + (i / m) * d, d);
  }
  static float ScoreUnknown(const TableTensors& t, const DotQuery& q, uint64_t id) {
    const uint32_t d = t.spec->d();
    return Dot(R::At(t, 0, SharedRow(*t.spec, id)), q.user, d);
  }
};

template <typename Kind>
void Prepare(const TableTensors& t, DotQuery* q) {
  Kind::Prepare(t, q);
}

template <typename Kind>
void ScoreRange(const TableTensors& t, const DotQuery& q, uint64_t first, size_t count,
                float* scores) {
  Kind::ScoreRange(t, q, first, count, scores);
}

template <typename Kind>
void ScoreIndices(const TableTensors& t, const DotQuery& q, const uint64_t* indices,
                  const uint64_t* raw_ids, size_t count, float* scores) {
  for (size_t r = 0; r < count; ++r) {
    scores[r] = indices[r] == kUnknownIndex ? Kind::ScoreUnknown(t, q, raw_ids[r])
                                            : Kind::Score(t, q, indices[r]);
  }
}

template <typename Kind>
constexpr auto TopCandidatesOf() {
  using Fn = bool (*)(const TableTensors&, DotQuery*, size_t, std::vector<uint64_t>*);
  if constexpr (requires { &Kind::TopCandidates; }) {
    return static_cast<Fn>(&Kind::TopCandidates);
  } else {
    return static_cast<Fn>(nullptr);
  }
}

template <typename Kind, typename R>
constexpr TableDot DeclareFor(TableKind kind) {
  return {kind,
          R::kDType,
          Prepare<Kind>,
          Kind::PrepareRows,
          ScoreRange<Kind>,
          ScoreIndices<Kind>,
          TopCandidatesOf<Kind>()};
}

// Every row storage of a kind (table_rows.h).
template <template <typename> class Kind>
constexpr std::array<TableDot, 3> Declare(TableKind kind) {
  return {DeclareFor<Kind<FloatRows>, FloatRows>(kind), DeclareFor<Kind<Int8Rows>, Int8Rows>(kind),
          DeclareFor<Kind<PqRows>, PqRows>(kind)};
}

template <typename R>
using Hash = SharedRows<false, R>;
template <typename R>
using Memcom = SharedRows<true, R>;

constexpr std::array<TableDot, 3> kDots[] = {
    Declare<Full>(snapshot::FULL),
    Declare<Hash>(snapshot::HASH),
    Declare<Qr>(snapshot::QR),
    Declare<Memcom>(snapshot::MEMCOM),
    Declare<MemcomFreq>(snapshot::MEMCOM_FREQ),
    Declare<Memcom2>(snapshot::MEMCOM2),
};

// rows[i] = row(i) for every entity, as uint32.
template <typename RowFn>
absl::StatusOr<AlignedBuffer> BuildRows(uint64_t n, RowFn row) {
  absl::StatusOr<AlignedBuffer> buffer = AlignedBuffer::Allocate(n * sizeof(uint32_t));
  if (!buffer.ok()) return buffer.status();
  absl::Span<uint32_t> rows = buffer->as<uint32_t>();
  for (uint64_t i = 0; i < n; ++i) rows[i] = static_cast<uint32_t>(row(i));
  return buffer;
}

}  // namespace

absl::StatusOr<DotRowIndex> BuildDotRowIndex(const TableTensors& tensors) {
  const TableSpec& spec = *tensors.spec;
  DotRowIndex index;
  const bool mixed = spec.hash() == snapshot::MIX;
  const TableKind kind = spec.kind();
  const bool slots = kind == snapshot::MEMCOM_FREQ;
  const bool shared =
      mixed && (kind == snapshot::HASH || kind == snapshot::MEMCOM || kind == snapshot::MEMCOM2);
  if (!slots && !shared) return index;
  if (spec.m() + spec.dedicated() > std::numeric_limits<uint32_t>::max()) {
    return absl::FailedPreconditionError(absl::StrCat("table '", spec.feature(), "': ", spec.m(),
                                                      " rows do not fit the retrieval row index"));
  }
  absl::StatusOr<AlignedBuffer> rows;
  if (slots) {
    // Dedicated entity p (p-th of the sorted dedicated ids) reads slot m + p.
    const uint64_t* dedicated = tensors.ids(3);
    const uint64_t count = spec.dedicated();
    uint64_t next = 0;
    rows = BuildRows(spec.n(), [&](uint64_t i) {
      if (next < count && dedicated[next] == i) return spec.m() + next++;
      return SharedRow(spec, i);
    });
  } else {
    rows = BuildRows(spec.n(), [&](uint64_t i) { return SharedRow(spec, i); });
  }
  if (!rows.ok()) return rows.status();
  index.rows[0] = *std::move(rows);
  if (kind == snapshot::MEMCOM2) {
    rows = BuildRows(spec.n(), [&](uint64_t i) { return SecondRow(spec, i); });
    if (!rows.ok()) return rows.status();
    index.rows[1] = *std::move(rows);
  }
  return index;
}

const TableDot* FindTableDot(const TableSpec& spec) {
  static constexpr TableDot kHeadTailDot = DeclareFor<FullHeadTail, HeadTailPqRows>(snapshot::FULL);
  if (HasHeadTailRows(spec)) return spec.kind() == snapshot::FULL ? &kHeadTailDot : nullptr;
  return FindTableDot(spec.kind(), spec.row_dtype());
}

const TableDot* FindTableDot(TableKind kind, DType row_dtype) {
  if (row_dtype == snapshot::DTYPE_UNSPECIFIED) row_dtype = snapshot::FLOAT32;
  for (const std::array<TableDot, 3>& storages : kDots) {
    for (const TableDot& dot : storages) {
      if (dot.kind == kind && dot.row_dtype == row_dtype) return &dot;
    }
  }
  return nullptr;
}

}  // namespace ranker
