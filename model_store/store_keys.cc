#include "model_store/store_keys.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace ranker::store_keys {
namespace {

void AppendBigEndian(uint64_t value, int bytes, std::string* out) {
  for (int i = bytes - 1; i >= 0; --i) out->push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
}

}  // namespace

std::string EncodeVersion(uint64_t version) {
  std::string out;
  AppendBigEndian(version, 8, &out);
  return out;
}

std::optional<uint64_t> DecodeVersion(absl::string_view bytes) {
  if (bytes.size() != 8) return std::nullopt;
  uint64_t value = 0;
  for (char c : bytes) value = (value << 8) | static_cast<unsigned char>(c);
  return value;
}

std::string ManifestKey(uint64_t version) {
  return absl::StrCat(kManifestPrefix, EncodeVersion(version));
}

std::optional<uint64_t> ParseManifestKey(absl::string_view key) {
  if (!absl::ConsumePrefix(&key, kManifestPrefix)) return std::nullopt;
  return DecodeVersion(key);
}

std::string HistoryKey(uint64_t user_id) { return EncodeVersion(user_id); }

std::optional<uint64_t> ParseHistoryKey(absl::string_view key) { return DecodeVersion(key); }

std::string RequestKey(absl::string_view request_id) {
  return absl::StrCat(kRequestPrefix, request_id);
}

std::string TensorChunkKey(uint64_t version, absl::string_view name, uint32_t chunk) {
  std::string key = absl::StrCat(kTensorPrefix, EncodeVersion(version), "/", name, "/");
  AppendBigEndian(chunk, 4, &key);
  return key;
}

std::string TensorRangeBegin(uint64_t version) {
  return absl::StrCat(kTensorPrefix, EncodeVersion(version));
}

std::string TensorRangeEnd(uint64_t version) {
  // Versions are never UINT64_MAX (Publish refuses it), so version + 1 does not wrap.
  return absl::StrCat(kTensorPrefix, EncodeVersion(version + 1));
}

}  // namespace ranker::store_keys
