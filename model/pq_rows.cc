#include "model/pq_rows.h"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "model/table_layout.h"

namespace ranker {
namespace {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Points are assigned in blocks: a block's distances to every centroid fit in a few MiB.
constexpr Eigen::Index kAssignBlock = 4096;

// For each point (row of `points`), the index of its nearest centroid (the lowest on a tie);
// distances as |c|^2 - 2 p . c, which orders centroids as |p - c|^2 does. Adds each point's
// squared distance to *error when given.
void Assign(const RowMatrix& points, const RowMatrix& centroids, std::vector<uint32_t>* nearest,
            std::vector<float>* distances = nullptr) {
  const Eigen::VectorXf norms = centroids.rowwise().squaredNorm();
  nearest->resize(points.rows());
  if (distances != nullptr) distances->resize(points.rows());
  RowMatrix products;
  for (Eigen::Index start = 0; start < points.rows(); start += kAssignBlock) {
    const Eigen::Index rows = std::min(kAssignBlock, points.rows() - start);
    products.noalias() = points.middleRows(start, rows) * centroids.transpose();
    for (Eigen::Index r = 0; r < rows; ++r) {
      float best = std::numeric_limits<float>::infinity();
      uint32_t best_c = 0;
      for (Eigen::Index c = 0; c < centroids.rows(); ++c) {
        const float distance = norms[c] - 2.0f * products(r, c);
        if (distance < best) {
          best = distance;
          best_c = static_cast<uint32_t>(c);
        }
      }
      (*nearest)[start + r] = best_c;
      if (distances != nullptr) {
        (*distances)[start + r] = best + points.row(start + r).squaredNorm();
      }
    }
  }
}

// Lloyd's k-means of `points` into centroids->rows() clusters, from distinct sample points (or
// every point, repeated, when there are fewer points than clusters). An emptied cluster takes
// the point farthest from its centroid, so no centroid is wasted.
void KMeans(const RowMatrix& points, int iterations, std::mt19937_64& random,
            RowMatrix* centroids) {
  const Eigen::Index k = centroids->rows(), count = points.rows();
  std::vector<Eigen::Index> order(count);
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), random);
  for (Eigen::Index c = 0; c < k; ++c) centroids->row(c) = points.row(order[c % count]);
  if (count <= k) return;  // every point is a centroid: exact
  std::vector<uint32_t> nearest;
  std::vector<float> distances;
  RowMatrix sums(k, points.cols());
  std::vector<Eigen::Index> members(k);
  for (int iteration = 0; iteration < iterations; ++iteration) {
    Assign(points, *centroids, &nearest, &distances);
    sums.setZero();
    std::fill(members.begin(), members.end(), 0);
    for (Eigen::Index p = 0; p < count; ++p) {
      sums.row(nearest[p]) += points.row(p);
      ++members[nearest[p]];
    }
    for (Eigen::Index c = 0; c < k; ++c) {
      if (members[c] > 0) {
        centroids->row(c) = sums.row(c) / static_cast<float>(members[c]);
        continue;
      }
      const auto farthest = std::max_element(distances.begin(), distances.end());
      const Eigen::Index p = farthest - distances.begin();
      centroids->row(c) = points.row(p);
      *farthest = 0;  // not taken twice
    }
  }
}

}  // namespace

PqEncoding EncodePq(const float* rows, uint64_t count, uint32_t d, const PqOptions& options) {
  const uint32_t subvectors = options.subvectors, bits = options.bits;
  const uint32_t sub = d / subvectors, centroids = 1u << bits;
  const size_t row_bytes = subvectors * bits / 8;
  PqEncoding encoding;
  encoding.codebook.assign(size_t{subvectors} * centroids * sub, 0.0f);
  encoding.codes.assign(count * row_bytes, 0);
  if (count == 0) return encoding;
  std::mt19937_64 random(options.seed);
  // The training sample: every row, or a seeded subset for large tables.
  std::vector<uint64_t> sample(count);
  std::iota(sample.begin(), sample.end(), 0);
  if (count > options.max_training_rows) {
    std::shuffle(sample.begin(), sample.end(), random);
    sample.resize(options.max_training_rows);
    std::sort(sample.begin(), sample.end());
  }
  RowMatrix points(static_cast<Eigen::Index>(count), sub);
  RowMatrix training(static_cast<Eigen::Index>(sample.size()), sub);
  RowMatrix codebook(centroids, sub);
  std::vector<uint32_t> nearest;
  for (uint32_t j = 0; j < subvectors; ++j) {
    for (uint64_t r = 0; r < count; ++r) {
      std::copy_n(rows + r * d + j * sub, sub, points.row(static_cast<Eigen::Index>(r)).data());
    }
    for (size_t s = 0; s < sample.size(); ++s) {
      training.row(static_cast<Eigen::Index>(s)) = points.row(static_cast<Eigen::Index>(sample[s]));
    }
    KMeans(training, options.iterations, random, &codebook);
    Assign(points, codebook, &nearest);
    std::copy_n(codebook.data(), size_t{centroids} * sub,
                encoding.codebook.data() + size_t{j} * centroids * sub);
    for (uint64_t r = 0; r < count; ++r) {
      uint8_t* code = encoding.codes.data() + r * row_bytes;
      if (bits == 8) {
        code[j] = static_cast<uint8_t>(nearest[r]);
      } else {
        code[j >> 1] |= static_cast<uint8_t>(nearest[r] << ((j & 1) * 4));
      }
    }
  }
  return encoding;
}

absl::Status ConvertTableToPq(const PqOptions& options, TableSpec* spec, TensorMap* tensors) {
  const TableLayout* layout = FindTableLayout(spec->kind());
  if (layout == nullptr) return absl::FailedPreconditionError("unknown table kind");
  if (spec->row_dtype() != snapshot::DTYPE_UNSPECIFIED && spec->row_dtype() != snapshot::FLOAT32) {
    return absl::FailedPreconditionError(absl::StrCat(
        "table '", spec->feature(), "' has ", RowDTypeName(spec->row_dtype()), " rows already"));
  }
  TableSpec converted = *spec;
  SetRowStorage({snapshot::UINT8, options.subvectors, options.bits}, &converted);
  RETURN_IF_ERROR(CheckTableSpec(converted));
  // Everything is checked before anything changes, so a refused table is left as it was.
  RETURN_IF_ERROR(CheckRowsToEncode(*spec, *tensors, "_codebook", "pq"));
  for (const TensorLayout& tensor : layout->tensors) {
    if (!IsRowTensor(tensor)) continue;
    auto it = tensors->find(TensorNameOf(tensor, *spec));
    const uint64_t rows = ExtentOf(tensor.rows, *spec);
    PqEncoding encoding = EncodePq(it->second.bytes.as<float>().data(), rows, spec->d(), options);
    ASSIGN_OR_RETURN(Tensor codes, MakeUint8Tensor(StoredShape(tensor, converted)));
    ASSIGN_OR_RETURN(Tensor codebook, MakeFloatTensor(CodebookShape(converted)));
    std::copy(encoding.codes.begin(), encoding.codes.end(), codes.bytes.as<uint8_t>().begin());
    std::copy(encoding.codebook.begin(), encoding.codebook.end(),
              codebook.bytes.as<float>().begin());
    it->second = std::move(codes);
    (*tensors)[CodebookTensorNameOf(tensor, *spec)] = std::move(codebook);
  }
  *spec = converted;
  return absl::OkStatus();
}

namespace {

struct PqView {
  const uint8_t* codes;
  const float* codebook;
  uint64_t rows;
};

absl::StatusOr<PqView> ViewPq(const TableSpec& spec, const TensorMap& tensors,
                              const TensorLayout& tensor) {
  RETURN_IF_ERROR(CheckTableSpec(spec));  // pq fields that fit d, before any division by them
  if (!HasPqRows(spec) || !IsRowTensor(tensor)) {
    return absl::FailedPreconditionError(
        absl::StrCat("table '", spec.feature(), "' has no pq tensor ", tensor.part));
  }
  if (HasHeadTailRows(spec)) {  // its codes cover the head only (head_tail_rows.h decodes it)
    return absl::FailedPreconditionError(
        absl::StrCat("table '", spec.feature(), "' has head/tail rows, not one pq code"));
  }
  const std::string name = TensorNameOf(tensor, spec);
  const std::string codebook_name = CodebookTensorNameOf(tensor, spec);
  auto codes = tensors.find(name);
  auto codebook = tensors.find(codebook_name);
  if (codes == tensors.end() || codes->second.dtype != snapshot::UINT8 ||
      codes->second.shape != StoredShape(tensor, spec) || codebook == tensors.end() ||
      codebook->second.dtype != snapshot::FLOAT32 ||
      codebook->second.shape != CodebookShape(spec)) {
    return absl::FailedPreconditionError(absl::StrCat("no pq codes ", name, " and codebook ",
                                                      codebook_name, " of the table's shape"));
  }
  return PqView{codes->second.bytes.as<uint8_t>().data(), codebook->second.bytes.as<float>().data(),
                ExtentOf(tensor.rows, spec)};
}

uint32_t CodeOf(const uint8_t* row, uint32_t j, uint32_t bits) {
  return bits == 8 ? row[j] : (row[j >> 1] >> ((j & 1) * 4)) & 0xF;
}

}  // namespace

absl::StatusOr<std::vector<float>> DecodePqTensor(const TableSpec& spec, const TensorMap& tensors,
                                                  const TensorLayout& tensor) {
  ASSIGN_OR_RETURN(PqView view, ViewPq(spec, tensors, tensor));
  const uint32_t d = spec.d(), subvectors = spec.pq_subvectors(), bits = spec.pq_bits();
  const uint32_t sub = d / subvectors, row_bytes = subvectors * bits / 8;
  std::vector<float> rows(view.rows * d);
  for (uint64_t r = 0; r < view.rows; ++r) {
    const uint8_t* code = view.codes + r * row_bytes;
    for (uint32_t j = 0; j < subvectors; ++j) {
      const float* centroid = view.codebook + ((size_t{j} << bits) + CodeOf(code, j, bits)) * sub;
      std::copy_n(centroid, sub, rows.data() + r * d + j * sub);
    }
  }
  return rows;
}

absl::Status RefitPqTable(const TableSpec& pq_spec, const TensorMap& pq_tensors,
                          TableSpec* float_spec, TensorMap* float_tensors) {
  RETURN_IF_ERROR(CheckTableSpec(pq_spec));
  if (!HasPqRows(pq_spec)) {
    return absl::FailedPreconditionError(
        absl::StrCat("table '", pq_spec.feature(), "' has no pq rows to refit"));
  }
  const TableLayout* layout = FindTableLayout(pq_spec.kind());
  const uint32_t d = pq_spec.d(), subvectors = pq_spec.pq_subvectors(), bits = pq_spec.pq_bits();
  const uint32_t sub = d / subvectors, row_bytes = subvectors * bits / 8;
  for (const TensorLayout& tensor : layout->tensors) {
    if (!IsRowTensor(tensor)) continue;
    ASSIGN_OR_RETURN(PqView view, ViewPq(pq_spec, pq_tensors, tensor));
    const std::string name = TensorNameOf(tensor, pq_spec);
    auto trained = float_tensors->find(name);
    if (trained == float_tensors->end() || trained->second.dtype != snapshot::FLOAT32 ||
        trained->second.shape != TensorShape(tensor, pq_spec)) {
      return absl::FailedPreconditionError(
          absl::StrCat("no float32 tensor ", name, " of the table's shape to refit"));
    }
    const float* rows = trained->second.bytes.as<float>().data();
    const std::vector<uint64_t> codebook_shape = CodebookShape(pq_spec);
    ASSIGN_OR_RETURN(Tensor codebook, MakeFloatTensor(codebook_shape));
    auto centroids = codebook.bytes.as<float>();
    std::copy_n(view.codebook, centroids.size(), centroids.begin());
    std::vector<double> sums(centroids.size(), 0.0);
    std::vector<uint64_t> members(codebook_shape[0], 0);
    for (uint64_t r = 0; r < view.rows; ++r) {
      const uint8_t* code = view.codes + r * row_bytes;
      for (uint32_t j = 0; j < subvectors; ++j) {
        const size_t c = (size_t{j} << bits) + CodeOf(code, j, bits);
        ++members[c];
        for (uint32_t k = 0; k < sub; ++k) sums[c * sub + k] += rows[r * d + j * sub + k];
      }
    }
    for (size_t c = 0; c < members.size(); ++c) {
      if (members[c] == 0) continue;
      for (uint32_t k = 0; k < sub; ++k) {
        centroids[c * sub + k] = static_cast<float>(sums[c * sub + k] / members[c]);
      }
    }
    ASSIGN_OR_RETURN(Tensor codes, MakeUint8Tensor(StoredShape(tensor, pq_spec)));
    std::copy_n(view.codes, codes.bytes.size(), codes.bytes.as<uint8_t>().begin());
    trained->second = std::move(codes);
    (*float_tensors)[CodebookTensorNameOf(tensor, pq_spec)] = std::move(codebook);
  }
  SetRowStorage(RowStorageOf(pq_spec), float_spec);
  return absl::OkStatus();
}

}  // namespace ranker
