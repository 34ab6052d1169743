// What the client commands share: opening a channel, deadlines, and printing errors and JSON.
#ifndef RANKER_CLIENT_COMMAND_OUTPUT_H_
#define RANKER_CLIENT_COMMAND_OUTPUT_H_

#include <google/protobuf/message.h>
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "client/commands.h"

namespace ranker {

// REQUIRES: the TLS files were checked with MakeChannelCredentials (main does).
std::shared_ptr<grpc::Channel> Connect(const CallOptions& call, const std::string& target);
void SetDeadline(const CallOptions& call, grpc::ClientContext* context);
// Prints the failed call's status to stderr; returns exit code 1.
int Fail(const grpc::Status& status);
// Prints `message` as JSON (proto field names, defaults included), indented or as one line
// ending in a newline (for streams of reports); returns exit code 0, or 1 if it cannot be
// converted.
int PrintJson(const google::protobuf::Message& message, bool one_line = false);
// "2026-11-26T11:09:32Z".
std::string FormatUnixSeconds(int64_t unix_seconds);

}  // namespace ranker

#endif  // RANKER_CLIENT_COMMAND_OUTPUT_H_
