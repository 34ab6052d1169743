// Sampled Rank responses, kept for training and analysis in a rotating local log
// (exposure_file.h). A Rank call that is sampled hands its exposure over and returns; one writer
// thread appends them, so a slow disk never slows Rank: with the queue full an exposure is
// dropped and counted, never waited for. Files rotate at max_file_bytes and the oldest beyond
// keep_files are deleted. Records reach the file (write(2)) within flush_interval and on close;
// they are not fsynced: an exposure log is analytics, not state, and a crash may tear the last
// record (readers stop there). In a fleet the writer hands each batch to `publish` instead (the
// server publishes to the exposure stream on NATS JetStream, server/ranker_server.cc), and a
// batch it fails is counted, not retried: exposures are a sample. Thread-safe.
#ifndef RANKER_EXPOSURES_EXPOSURE_LOG_H_
#define RANKER_EXPOSURES_EXPOSURE_LOG_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/mutex.h"
#include "proto/exposure.pb.h"

namespace ranker {

struct ExposureLogOptions {
  std::string dir;
  double sample_rate = 0.01;  // of Rank responses, in [0, 1]
  uint64_t max_file_bytes = uint64_t{64} << 20;
  size_t keep_files = 10;  // >= 1
  size_t queue_capacity = 8192;
  absl::Duration flush_interval = absl::Seconds(1);
  uint64_t seed = 0;  // of the sampling generators (0: from the clock)
  // Set: batches go here (on the writer thread) instead of to files in `dir`.
  std::function<absl::Status(const std::vector<v1::Exposure>&)> publish;
};

class ExposureLog {
 public:
  // Creates `dir` if needed and starts a new file numbered after the newest one there (not
  // with `publish`). INVALID_ARGUMENT for a sample rate outside [0, 1], keep_files 0, or
  // neither a dir nor `publish`;
  // UNAVAILABLE if the directory or file cannot be created.
  static absl::StatusOr<std::unique_ptr<ExposureLog>> Open(ExposureLogOptions options);
  ~ExposureLog();  // writes what is queued, then closes

  ExposureLog(const ExposureLog&) = delete;
  ExposureLog& operator=(const ExposureLog&) = delete;

  // True for a Bernoulli(sample_rate) sample of calls (a generator per thread).
  bool ShouldSample();
  // Queues `exposure` for the writer; false (and counted) if the queue is full.
  bool Log(v1::Exposure exposure);
  // Returns once everything queued before the call is written to the file.
  void Flush();

  struct Stats {
    uint64_t logged = 0;   // written to a file, or published
    uint64_t dropped = 0;  // the queue was full, or (publish) its batch failed
    uint64_t write_errors = 0;
    uint64_t files = 0;  // opened by this log
  };
  Stats stats() const;
  const ExposureLogOptions& options() const { return options_; }

 private:
  explicit ExposureLog(ExposureLogOptions options);
  absl::Status OpenFile(uint64_t number);  // writer thread, or Open before it starts
  void Run();                              // the writer thread
  void Write(const std::vector<v1::Exposure>& batch);
  void Rotate();

  const ExposureLogOptions options_;
  const uint64_t sample_threshold_;  // ShouldSample: a 64-bit draw below it
  std::atomic<uint64_t> seed_sequence_{0};

  mutable Mutex mu_;
  CondVar wake_{&mu_};
  CondVar written_{&mu_};
  std::vector<v1::Exposure> queue_ ABSL_GUARDED_BY(mu_);
  uint64_t queued_total_ ABSL_GUARDED_BY(mu_) = 0;   // ever queued
  uint64_t written_total_ ABSL_GUARDED_BY(mu_) = 0;  // of those, handled by the writer
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  Stats stats_ ABSL_GUARDED_BY(mu_);

  // Writer thread only (and Open before the thread starts).
  int fd_ = -1;
  uint64_t file_number_ = 0;
  uint64_t file_bytes_ = 0;
  std::string buffer_;
  std::thread writer_;
};

}  // namespace ranker

#endif  // RANKER_EXPOSURES_EXPOSURE_LOG_H_
