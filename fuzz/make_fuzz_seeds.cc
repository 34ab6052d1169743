// Writes the seed corpus for the fuzz targets into fuzz/corpus/<target>/ (run by hand when the
// formats change; the output is committed): manifests and snapshots of small demo models of
// every table kind, a range of Rank requests, and .npy files.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "model/demo_model.h"
#include "model/table_layout.h"
#include "model_store/npy.h"
#include "model_store/tensor_specs.h"
#include "proto/ranker.pb.h"

namespace {

void Write(const std::string& dir, const std::string& name, const std::string& bytes) {
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/" + name, std::ios::binary) << bytes;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_fuzz_seeds CORPUS_DIR\n");
    return 2;
  }
  const std::string corpus = argv[1];
  for (const ranker::TableLayout& kind : ranker::AllTableLayouts()) {
    // Dense ids, sparse ids with an id map, and dense ids with int8 rows, with pq codes, and
    // (full tables of a history model) with head/tail pq codes.
    for (const char* variant : {"", "_sparse", "_int8", "_pq", "_headtail"}) {
      const bool sparse = std::string(variant) == "_sparse";
      const bool int8 = std::string(variant) == "_int8";
      const bool head_tail = std::string(variant) == "_headtail";
      const bool pq = std::string(variant) == "_pq" || head_tail;
      if (head_tail && kind.kind != ranker::snapshot::FULL) continue;
      ranker::DemoModelOptions options;
      options.users = 40;
      options.items = 24;
      options.d = 4;
      options.hidden = {4};
      options.kind = kind.kind;
      options.ratio = 4;  // clamped where a kind cannot reach it on 24 items
      options.clamp_ratio = true;
      options.sparse_item_ids = sparse;
      if (int8) options.rows.dtype = ranker::snapshot::INT8;
      if (pq) options.rows = *ranker::ParseRowStorage("pq2x4");  // two 4-bit codes per row
      if (head_tail) {
        options.user_mode = ranker::snapshot::USER_MODE_HISTORY;
        options.rows = *ranker::ParseRowStorage("head25:pq4x4+pq2x4");
      }
      auto snapshot = ranker::MakeDemoSnapshot(options);
      if (!snapshot.ok()) {
        std::fprintf(stderr, "%s: %s\n", kind.name, snapshot.status().ToString().c_str());
        return 1;
      }
      ranker::DescribeTensors(snapshot->tensors, &snapshot->manifest);
      const std::string name = std::string(kind.name) + variant;
      const std::string manifest = snapshot->manifest.SerializeAsString();
      Write(corpus + "/manifest_fuzzer", name, manifest);
      // Snapshot input: 4-byte manifest length, manifest, then the tensors in manifest order.
      std::string framed(4, '\0');
      const uint32_t length = static_cast<uint32_t>(manifest.size());
      std::memcpy(framed.data(), &length, 4);
      framed += manifest;
      for (const auto& spec : snapshot->manifest.tensors()) {
        const ranker::Tensor& tensor = snapshot->tensors.at(spec.name());
        framed.append(reinterpret_cast<const char*>(tensor.bytes.data()), tensor.bytes.size());
      }
      Write(corpus + "/snapshot_fuzzer", name, framed);
      if (kind.kind == ranker::snapshot::FULL && !sparse) {
        for (const auto& [tensor_name, tensor] : snapshot->tensors) {
          // The float ones are there already.
          if ((int8 || pq) && tensor.dtype == ranker::snapshot::FLOAT32) continue;
          std::string flat = tensor_name + variant;  // libFuzzer reads one directory level
          std::replace(flat.begin(), flat.end(), '/', '_');
          const std::string path = absl::StrCat(corpus, "/npy_fuzzer/", flat, ".npy");
          std::filesystem::create_directories(corpus + "/npy_fuzzer");
          if (!ranker::WriteNpy(path, tensor).ok()) return 1;
        }
      }
    }
  }
  int index = 0;
  const auto request = [&](uint64_t user, const std::vector<uint64_t>& candidates, uint32_t k,
                           uint64_t version) {
    ranker::v1::RankRequest r;
    r.set_user_id(user);
    for (uint64_t c : candidates) r.add_candidate_ids(c);
    r.set_k(k);
    r.set_model_version(version);
    Write(corpus + "/rank_request_fuzzer", "request_" + std::to_string(index++),
          r.SerializeAsString());
  };
  request(1, {}, 10, 0);
  request(299, {3, 10, 17, 10, 2000}, 3, 0);
  request(12345, {3, 10}, 50, 1);
  request(0, {}, 0, 0);
  request(5, {7, 7, 7}, 1, 2);
  request(UINT64_MAX, {UINT64_MAX, 0}, 51, 0);
  // History requests (the demo's sparse item ids are 7i + 3): seen items, exclusions, unknowns.
  ranker::v1::RankRequest history;
  history.set_user_id(7);
  history.set_k(10);
  for (uint64_t id : {3, 10, 17, 24, 999, 10}) history.add_history_ids(id);
  for (uint64_t id : {31, 38}) history.add_exclude_ids(id);
  Write(corpus + "/rank_request_fuzzer", "history_request_0", history.SerializeAsString());
  history.set_include_seen(true);
  history.add_candidate_ids(3);
  history.add_candidate_ids(45);
  Write(corpus + "/rank_request_fuzzer", "history_request_1", history.SerializeAsString());
  // Two stages: a request's own retrieve_n, below k, above the fuzzer's max_retrieve_n.
  for (uint32_t n : {20u, 3u, 5000u}) {
    ranker::v1::RankRequest two_stages;
    two_stages.set_user_id(11);
    two_stages.set_k(10);
    two_stages.set_retrieve_n(n);
    for (uint64_t id : {3, 10, 17}) two_stages.add_exclude_ids(id);
    Write(corpus + "/rank_request_fuzzer", "two_stages_" + std::to_string(n),
          two_stages.SerializeAsString());
  }
  std::printf("seeds written to %s\n", corpus.c_str());
  return 0;
}
