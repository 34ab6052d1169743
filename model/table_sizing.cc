#include "model/table_sizing.h"

#include <cmath>

#include "absl/strings/str_cat.h"

namespace ranker {

absl::StatusOr<TableKind> ParseTableKind(absl::string_view name) {
  if (name == "full") return snapshot::FULL;
  if (name == "hash") return snapshot::HASH;
  if (name == "qr") return snapshot::QR;
  if (name == "memcom") return snapshot::MEMCOM;
  if (name == "memcom_freq") return snapshot::MEMCOM_FREQ;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown table kind '", name, "' (expected full, hash, qr, memcom or memcom_freq)"));
}

std::string TableKindName(TableKind kind) {
  switch (kind) {
    case snapshot::FULL:
      return "full";
    case snapshot::HASH:
      return "hash";
    case snapshot::QR:
      return "qr";
    case snapshot::MEMCOM:
      return "memcom";
    case snapshot::MEMCOM_FREQ:
      return "memcom_freq";
    default:
      return absl::StrCat("kind", static_cast<int>(kind));
  }
}

std::string HashName(const TableSpec& spec) {
  if (spec.hash() == snapshot::MIX) return absl::StrCat("mix:", spec.hash_seed());
  return "identity";
}

uint64_t TableParameters(const TableSpec& spec) {
  const uint64_t n = spec.n(), m = spec.m(), d = spec.d();
  switch (spec.kind()) {
    case snapshot::FULL:
      return n * d;
    case snapshot::HASH:
      return m * d;
    case snapshot::MEMCOM:
      return m * d + n;
    case snapshot::MEMCOM_FREQ:  // each dedicated id costs 8 bytes: counted as 2 floats
      return m * d + n + spec.dedicated() * (d + 2);
    case snapshot::QR:
      return m == 0 ? 0 : ((n + m - 1) / m + m) * d;
    default:
      return 0;
  }
}

absl::StatusOr<TableSpec> SizeTable(const std::string& feature, TableKind kind, uint64_t n,
                                    uint32_t d, double ratio, bool clamp) {
  if (n == 0 || d == 0) return absl::InvalidArgumentError("tables need n >= 1 and d >= 1");
  if (kind != snapshot::FULL && !(ratio >= 1.0)) {
    return absl::InvalidArgumentError(absl::StrCat("compression ratio must be >= 1, got ", ratio));
  }
  TableSpec spec;
  spec.set_feature(feature);
  spec.set_kind(kind);
  spec.set_n(n);
  spec.set_d(d);
  spec.set_hash(snapshot::IDENTITY);
  const double budget = static_cast<double>(n) * d / ratio;  // parameters allowed
  double m = 0;
  switch (kind) {
    case snapshot::FULL:
      m = static_cast<double>(n);
      break;
    case snapshot::HASH:
      m = budget / d;
      break;
    case snapshot::MEMCOM:
      m = (budget - static_cast<double>(n)) / d;
      if (m < 0.5 && clamp) m = 1;
      if (m < 0.5) {
        return absl::InvalidArgumentError(
            absl::StrCat("memcom cannot reach ratio ", ratio, " with d=", d,
                         ": its per-entity weights alone cap the ratio below d"));
      }
      break;
    case snapshot::MEMCOM_FREQ: {
      // Half the row budget goes to dedicated rows for the most frequent entities.
      const double rows_budget = budget - static_cast<double>(n);
      if (rows_budget < d && clamp) {
        spec.set_dedicated(0);
        m = 1;
        break;
      }
      if (rows_budget < d) {
        return absl::InvalidArgumentError(
            absl::StrCat("memcom_freq cannot reach ratio ", ratio, " with d=", d,
                         ": its per-entity weights alone cap the ratio below d"));
      }
      const uint64_t dedicated =
          std::min<uint64_t>(n, static_cast<uint64_t>(0.5 * rows_budget / (d + 2.0)));
      spec.set_dedicated(dedicated);
      m = (rows_budget - static_cast<double>(dedicated) * (d + 2.0)) / d;
      break;
    }
    case snapshot::QR: {
      // rows = ceil(n/m) + m, smallest at m = sqrt(n); take the larger root of m + n/m = rows.
      const double rows = budget / d;
      const double disc = rows * rows - 4.0 * static_cast<double>(n);
      if (disc < 0 && clamp) {
        m = std::sqrt(static_cast<double>(n));
        break;
      }
      if (disc < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("qr cannot reach ratio ", ratio, " for n=", n, ": its limit is about ",
                         static_cast<double>(n) / (2 * std::sqrt(static_cast<double>(n)))));
      }
      m = (rows + std::sqrt(disc)) / 2;
      break;
    }
    default:
      return absl::InvalidArgumentError("unknown table kind");
  }
  spec.set_m(std::max<uint64_t>(1, std::min<uint64_t>(n, std::llround(m))));
  return spec;
}

}  // namespace ranker
