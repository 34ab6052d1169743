// Every table kind snapshot.proto defines, read from the enum itself: tests parametrised over
// this list fail for a kind that someone added to the proto without a layout, forward or
// gradient.
#ifndef RANKER_TESTS_SUPPORT_TABLE_KINDS_H_
#define RANKER_TESTS_SUPPORT_TABLE_KINDS_H_

#include <vector>

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

}  // namespace ranker::testing

#endif  // RANKER_TESTS_SUPPORT_TABLE_KINDS_H_
