#include "server/model_description.h"

#include "model/table_layout.h"
#include "model/table_sizing.h"

namespace ranker {

void DescribeModel(const Model& model, const LoadedVersion* loaded, v1::ModelInfo* info) {
  const Manifest& manifest = model.manifest();
  info->set_version(model.version());
  info->set_created_unix_seconds(manifest.created_unix_seconds());
  info->set_user_mode(model.history_mode() ? "history" : "id");
  if (model.history_mode() && manifest.users() > 0) {
    // The user-ID model of the same data: full fp32 user and item tables, the same MLP.
    const double id_model_bytes =
        static_cast<double>(manifest.users() + model.item().table.size()) *
            model.item().table.dim() * sizeof(float) +
        static_cast<double>(model.scorer().resident_bytes());
    info->set_ratio_vs_full_id_model(id_model_bytes / static_cast<double>(model.resident_bytes()));
  }
  for (const Feature& feature : model.features()) {
    const TableSpec& spec = feature.table.spec();
    v1::TableInfo* table = info->add_tables();
    table->set_feature(spec.feature());
    table->set_kind(TableKindName(spec.kind()));
    table->set_row_dtype(RowStorageName(RowStorageOf(spec)));
    table->set_n(spec.n());
    table->set_m(spec.m());
    table->set_d(spec.d());
    table->set_hash(HashName(spec));
    table->set_parameters(feature.table.parameters());
    table->set_resident_bytes(model.table_resident_bytes(feature));
    table->set_uncompressed_bytes(spec.n() * spec.d() * sizeof(float));
    table->set_has_id_map(!feature.ids.dense());
  }
  for (uint32_t width : model.scorer().widths()) info->add_mlp_widths(width);
  info->set_dot_weight(model.scorer().dot_weight());
  info->set_resident_bytes(model.resident_bytes());
  info->set_uncompressed_bytes(model.uncompressed_bytes());
  info->set_compression_ratio(model.compression_ratio());
  info->mutable_producer()->insert(manifest.producer().begin(), manifest.producer().end());
  if (loaded != nullptr) {
    info->set_loaded_unix_seconds(loaded->loaded_unix_seconds);
    info->set_load_seconds(loaded->load_seconds);
  }
}

}  // namespace ranker
