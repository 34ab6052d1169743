// Requests and responses parsed and serialized by the services themselves (raw callback
// methods), so that bytes which are not a valid request get INVALID_ARGUMENT saying so. Left
// to gRPC, a request that fails to parse is answered UNIMPLEMENTED with an empty message, which
// tells a backend with a mismatched proto that the method does not exist.
#ifndef RANKER_SERVER_WIRE_MESSAGES_H_
#define RANKER_SERVER_WIRE_MESSAGES_H_

#include <grpcpp/impl/codegen/proto_utils.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/proto_buffer_reader.h>
#include <grpcpp/support/status.h>

#include <string>

#include "absl/strings/str_cat.h"

namespace ranker {

// Parses `bytes` into `message` (fresh or cleared). INVALID_ARGUMENT "request could not be
// parsed as <full message name>" when they are not one, or when the call carried no message;
// `bytes` is left as it was.
template <typename Message>
grpc::Status ParseRequest(const grpc::ByteBuffer& bytes, Message* message) {
  if (!bytes.Valid()) {  // no message at all (an empty message is valid bytes of length 0)
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        absl::StrCat("the call carried no ", Message::descriptor()->full_name()));
  }
  // The reader only reads the slices; it takes a non-const buffer for its own API's sake.
  grpc::ProtoBufferReader reader(const_cast<grpc::ByteBuffer*>(&bytes));
  if (!reader.status().ok() || !message->ParseFromZeroCopyStream(&reader)) {
    return grpc::Status(
        grpc::StatusCode::INVALID_ARGUMENT,
        absl::StrCat("request could not be parsed as ", Message::descriptor()->full_name()));
  }
  return grpc::Status::OK;
}

// Serializes `message` into `bytes`; INTERNAL if that fails (it cannot for a message this
// process built, short of running out of memory).
template <typename Message>
grpc::Status SerializeResponse(const Message& message, grpc::ByteBuffer* bytes) {
  bool own_buffer = false;
  grpc::Status status = grpc::SerializationTraits<Message>::Serialize(message, bytes, &own_buffer);
  if (!status.ok())
    return grpc::Status(grpc::StatusCode::INTERNAL, "response serialization failed");
  return grpc::Status::OK;
}

}  // namespace ranker

#endif  // RANKER_SERVER_WIRE_MESSAGES_H_
