// Messages for a callback unary method that parses its own request (wire_messages.h): the
// request's bytes as received, and the response on a protobuf arena per holder whose first
// block is part of the holder. The method parses the request onto the same arena
// (Arena::CreateMessage on response->GetArena()), so a call whose messages fit in kInlineBytes
// parses its request and builds its response without touching the heap, and releasing it is an
// arena reset. (Reusing cleared messages instead would free and rebuild every sub-message,
// which protobuf's Clear() deletes.) Holders are created on demand; at most `max_idle` are kept
// between calls, so a burst does not pin memory forever. The received bytes stay with the
// holder until the call ends (gRPC's own parsing would free them at once): at most the
// server's largest request. Thread-safe (gRPC allocates and
// releases from any thread).
#ifndef RANKER_SERVER_MESSAGE_POOL_H_
#define RANKER_SERVER_MESSAGE_POOL_H_

#include <google/protobuf/arena.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/message_allocator.h>

#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "common/mutex.h"

namespace ranker {

template <typename Response>
class MessagePool final : public grpc::MessageAllocator<grpc::ByteBuffer, Response> {
 public:
  // A Rank request of 1,000 candidates and its response take ~9 KiB.
  static constexpr size_t kInlineBytes = 16 << 10;

  explicit MessagePool(size_t max_idle = 256) : max_idle_(max_idle) { idle_.reserve(max_idle); }

  grpc::MessageHolder<grpc::ByteBuffer, Response>* AllocateMessages() override {
    Holder* holder = nullptr;
    {
      MutexLock lock(&mu_);
      if (!idle_.empty()) {
        holder = idle_.back().release();
        idle_.pop_back();
      }
    }
    if (holder == nullptr) holder = new Holder(this);
    holder->Prepare();
    return holder;
  }

 private:
  class Holder final : public grpc::MessageHolder<grpc::ByteBuffer, Response> {
   public:
    explicit Holder(MessagePool* pool) : pool_(pool), arena_(ArenaOptionsFor(inline_block_)) {}

    // Fresh messages, on the calling thread's terms: protobuf arenas give the inline block to
    // the thread that last reset them, and any other thread allocating on the arena gets a
    // heap block of its own. gRPC hands over the request on the thread that asks for messages,
    // and the method parses it there.
    void Prepare() {
      arena_.Reset();
      this->set_request(&request_bytes_);
      this->set_response(google::protobuf::Arena::CreateMessage<Response>(&arena_));
    }
    void Release() override {
      request_bytes_.Clear();  // gRPC handed the received buffer over to this holder
      arena_.Reset();  // frees any heap block a large call added, so idle holders stay small
      pool_->Return(this);
    }

   private:
    static google::protobuf::ArenaOptions ArenaOptionsFor(char* block) {
      google::protobuf::ArenaOptions options;
      options.initial_block = block;
      options.initial_block_size = kInlineBytes;
      return options;
    }

    MessagePool* const pool_;
    grpc::ByteBuffer request_bytes_;
    alignas(8) char inline_block_[kInlineBytes];
    google::protobuf::Arena arena_;
  };

  void Return(Holder* holder) {
    std::unique_ptr<Holder> owned(holder);
    MutexLock lock(&mu_);
    if (idle_.size() < max_idle_) idle_.push_back(std::move(owned));
  }

  const size_t max_idle_;
  Mutex mu_;
  std::vector<std::unique_ptr<Holder>> idle_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ranker

#endif  // RANKER_SERVER_MESSAGE_POOL_H_
