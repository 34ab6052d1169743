#include "model/pq_rotation.h"

#include <Eigen/Core>
#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "model/finite_check.h"
#include "model/table_layout.h"

namespace ranker {
namespace {

using RowMajorFloats = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

bool HasFloatRows(const TableSpec& spec) {
  return spec.row_dtype() == snapshot::DTYPE_UNSPECIFIED || spec.row_dtype() == snapshot::FLOAT32;
}

// The names of the full float tables' row tensors, checked: [rows, d] float32 and finite.
absl::StatusOr<std::vector<std::string>> FullRowTensors(const Snapshot& snapshot, uint32_t* d) {
  std::vector<std::string> found;
  *d = 0;
  for (const TableSpec& spec : snapshot.manifest.tables()) {
    if (spec.kind() != snapshot::FULL || !HasFloatRows(spec)) continue;
    if (*d != 0 && spec.d() != *d) return absl::FailedPreconditionError("tables of different d");
    *d = spec.d();
    for (const TensorLayout& tensor : FindTableLayout(spec.kind())->tensors) {
      if (!IsRowTensor(tensor)) continue;
      const std::string name = TensorNameOf(tensor, spec);
      auto it = snapshot.tensors.find(name);
      if (it == snapshot.tensors.end() || it->second.dtype != snapshot::FLOAT32 ||
          it->second.shape.size() != 2 || it->second.shape[1] != spec.d() ||
          !AllFinite(it->second.bytes.as<float>())) {
        return absl::FailedPreconditionError(
            absl::StrCat("tensor ", name, ": missing, not float32 [rows, d] or not finite"));
      }
      found.push_back(name);
    }
  }
  if (found.empty()) return absl::FailedPreconditionError("no full float32 table to rotate");
  return found;
}

Eigen::Map<const RowMajorFloats> RowsOf(const Tensor& tensor) {
  return {tensor.bytes.as<float>().data(), static_cast<Eigen::Index>(tensor.shape[0]),
          static_cast<Eigen::Index>(tensor.shape[1])};
}

}  // namespace

absl::StatusOr<std::vector<float>> BalancedPqRotation(const Snapshot& snapshot,
                                                      uint32_t subvectors) {
  uint32_t d = 0;
  absl::StatusOr<std::vector<std::string>> tensors = FullRowTensors(snapshot, &d);
  if (!tensors.ok()) return tensors.status();
  if (subvectors == 0 || d % subvectors != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(subvectors, " sub-vectors do not divide d = ", d));
  }
  // Each table's second moment (rows are not centred: pq codes the rows themselves), averaged.
  Eigen::MatrixXd moment = Eigen::MatrixXd::Zero(d, d);
  for (const std::string& name : *tensors) {
    const Eigen::Map<const RowMajorFloats> rows = RowsOf(snapshot.tensors.at(name));
    if (rows.rows() == 0) continue;
    const Eigen::MatrixXd x = rows.cast<double>();
    moment.noalias() += x.transpose() * x / static_cast<double>(rows.rows());
  }
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(moment);
  if (solver.info() != Eigen::Success) {
    return absl::InternalError("eigen-decomposition of the rows' second moment failed");
  }
  // Greedy allocation: the largest remaining variance goes to the group (with room left) whose
  // product of variances is smallest so far.
  const uint32_t group_size = d / subvectors;
  std::vector<double> log_product(subvectors, 0.0);
  std::vector<uint32_t> filled(subvectors, 0);
  std::vector<float> rotation(static_cast<size_t>(d) * d);
  for (int axis = static_cast<int>(d) - 1; axis >= 0; --axis) {  // eigenvalues ascend
    uint32_t best = subvectors;
    for (uint32_t g = 0; g < subvectors; ++g) {
      if (filled[g] < group_size && (best == subvectors || log_product[g] < log_product[best])) {
        best = g;
      }
    }
    log_product[best] += std::log(std::max(solver.eigenvalues()[axis], 1e-12));
    const size_t row = static_cast<size_t>(best) * group_size + filled[best]++;
    for (uint32_t k = 0; k < d; ++k) {
      rotation[row * d + k] = static_cast<float>(solver.eigenvectors()(k, axis));
    }
  }
  return rotation;
}

absl::Status RotateItemTables(const std::vector<float>& rotation, Snapshot* snapshot) {
  if (snapshot->manifest.user_mode() != snapshot::USER_MODE_HISTORY) {
    return absl::FailedPreconditionError("rotating tables needs a history model");
  }
  for (const TableSpec& spec : snapshot->manifest.tables()) {
    if (spec.kind() != snapshot::FULL || !HasFloatRows(spec)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "table ", spec.feature(), ": only full float32 tables can be rotated before encoding"));
    }
  }
  auto first_layer = snapshot->tensors.find(MlpTensorName(0, "weight"));
  if (first_layer != snapshot->tensors.end()) {
    const auto weights = first_layer->second.bytes.as<float>();
    if (std::any_of(weights.begin(), weights.end(), [](float w) { return w != 0.0f; })) {
      return absl::FailedPreconditionError(
          "the scorer's MLP reads the embeddings: only a dot-product scorer keeps its scores "
          "under a rotation");
    }
  }
  uint32_t d = 0;
  absl::StatusOr<std::vector<std::string>> tensors = FullRowTensors(*snapshot, &d);
  if (!tensors.ok()) return tensors.status();
  if (rotation.size() != static_cast<size_t>(d) * d) {
    return absl::FailedPreconditionError(absl::StrCat("rotation is not ", d, " x ", d));
  }
  const Eigen::Map<const RowMajorFloats> r(rotation.data(), d, d);
  for (const std::string& name : *tensors) {
    Tensor& tensor = snapshot->tensors.at(name);
    const RowMajorFloats rotated = RowsOf(tensor) * r.transpose();
    std::copy(rotated.data(), rotated.data() + rotated.size(), tensor.bytes.as<float>().begin());
  }
  return absl::OkStatus();
}

}  // namespace ranker
