// Request and response messages for a callback unary method, reused across calls instead of
// built and freed per call: a cleared protobuf message keeps its repeated fields' capacity, so
// a warm server parses requests and fills responses without allocating. Holders are created on
// demand; at most `max_idle` are kept between calls, so a burst does not pin memory forever.
// Thread-safe (gRPC allocates and releases from any thread).
#ifndef RANKER_SERVER_MESSAGE_POOL_H_
#define RANKER_SERVER_MESSAGE_POOL_H_

#include <grpcpp/support/message_allocator.h>

#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "common/mutex.h"

namespace ranker {

template <typename Request, typename Response>
class MessagePool final : public grpc::MessageAllocator<Request, Response> {
 public:
  explicit MessagePool(size_t max_idle = 256) : max_idle_(max_idle) { idle_.reserve(max_idle); }

  grpc::MessageHolder<Request, Response>* AllocateMessages() override {
    {
      MutexLock lock(&mu_);
      if (!idle_.empty()) {
        Holder* holder = idle_.back().release();
        idle_.pop_back();
        return holder;
      }
    }
    return new Holder(this);
  }

 private:
  class Holder final : public grpc::MessageHolder<Request, Response> {
   public:
    explicit Holder(MessagePool* pool) : pool_(pool) {
      this->set_request(&request_);
      this->set_response(&response_);
    }
    void Release() override {
      request_.Clear();
      response_.Clear();
      pool_->Return(this);
    }

   private:
    MessagePool* const pool_;
    Request request_;
    Response response_;
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
