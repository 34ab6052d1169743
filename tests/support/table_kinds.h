// Every table kind snapshot.proto defines, read from the enum itself: tests parametrised over
// this list fail for a kind that someone added to the proto without a layout, forward or
// gradient.
#ifndef RANKER_TESTS_SUPPORT_TABLE_KINDS_H_
#define RANKER_TESTS_SUPPORT_TABLE_KINDS_H_

#include <gtest/gtest.h>

#include <string>
#include <tuple>
#include <vector>

#include "model/table_layout.h"
#include "proto/snapshot.pb.h"

namespace ranker::testing {

inline std::vector<snapshot::TableKind> AllTableKindsInProto() {
  std::vector<snapshot::TableKind> kinds;
  const google::protobuf::EnumDescriptor* descriptor = snapshot::TableKind_descriptor();
  for (int i = 0; i < descriptor->value_count(); ++i) {
    const int number = descriptor->value(i)->number();
    if (number != snapshot::TABLE_KIND_UNSPECIFIED) {
      kinds.push_back(static_cast<snapshot::TableKind>(number));
    }
  }
  return kinds;
}

// Every kind x both user modes x both hashes: the parameters of the model-wide tests.
using KindModeHash = std::tuple<snapshot::TableKind, snapshot::UserMode, snapshot::HashKind>;

inline auto AllKindsModesAndHashes() {
  return ::testing::Combine(::testing::ValuesIn(AllTableKindsInProto()),
                            ::testing::Values(snapshot::USER_MODE_ID, snapshot::USER_MODE_HISTORY),
                            ::testing::Values(snapshot::IDENTITY, snapshot::MIX));
}

// "memcom_history_mix": test names for KindModeHash parameters.
inline std::string KindModeHashName(const ::testing::TestParamInfo<KindModeHash>& param) {
  return TableKindName(std::get<0>(param.param)) +
         (std::get<1>(param.param) == snapshot::USER_MODE_HISTORY ? "_history" : "_id") +
         (std::get<2>(param.param) == snapshot::MIX ? "_mix" : "_identity");
}

}  // namespace ranker::testing

#endif  // RANKER_TESTS_SUPPORT_TABLE_KINDS_H_
