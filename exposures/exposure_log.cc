#include "exposures/exposure_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "exposures/exposure_file.h"

namespace ranker {
namespace {

uint64_t ThresholdFor(double rate) {
  if (rate >= 1.0) return ~uint64_t{0};
  return static_cast<uint64_t>(std::ldexp(rate, 64));
}

// The number in exposures-<N>.log.
uint64_t FileNumber(const std::string& path) {
  const std::string name = std::filesystem::path(path).filename().string();
  uint64_t number = 0;
  (void)absl::SimpleAtoi(name.substr(10, 10), &number);
  return number;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ExposureLog>> ExposureLog::Open(ExposureLogOptions options) {
  if (options.dir.empty() && !options.publish) {
    return absl::InvalidArgumentError("exposure log: no directory");
  }
  if (!(options.sample_rate >= 0 && options.sample_rate <= 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("exposure log: sample rate ", options.sample_rate, " is not in [0, 1]"));
  }
  if (options.keep_files == 0 || options.queue_capacity == 0) {
    return absl::InvalidArgumentError("exposure log: keep_files and queue_capacity must be >= 1");
  }
  if (options.publish) {
    std::unique_ptr<ExposureLog> log(new ExposureLog(std::move(options)));
    log->writer_ = std::thread([raw = log.get()] { raw->Run(); });
    return log;
  }
  std::error_code error;
  std::filesystem::create_directories(options.dir, error);
  if (error) {
    return absl::UnavailableError(
        absl::StrCat("exposure log: cannot create ", options.dir, ": ", error.message()));
  }
  absl::StatusOr<std::vector<std::string>> files = ListExposureFiles(options.dir);
  if (!files.ok()) return files.status();
  const uint64_t next = files->empty() ? 1 : FileNumber(files->back()) + 1;
  std::unique_ptr<ExposureLog> log(new ExposureLog(std::move(options)));
  if (absl::Status opened = log->OpenFile(next); !opened.ok()) return opened;
  log->writer_ = std::thread([raw = log.get()] { raw->Run(); });
  return log;
}

ExposureLog::ExposureLog(ExposureLogOptions options)
    : options_(std::move(options)), sample_threshold_(ThresholdFor(options_.sample_rate)) {
  if (options_.seed == 0) {
    seed_sequence_ =
        static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  } else {
    seed_sequence_ = options_.seed;
  }
}

ExposureLog::~ExposureLog() {
  {
    MutexLock lock(&mu_);
    stop_ = true;
    wake_.Signal();
  }
  if (writer_.joinable()) writer_.join();
  if (fd_ >= 0) ::close(fd_);
}

bool ExposureLog::ShouldSample() {
  if (sample_threshold_ == 0) return false;
  // One splitmix64 sequence per thread and log (8 bytes of state, one multiply-xorshift per
  // call: the Rank path pays nothing measurable), seeded apart so threads do not sample in step.
  thread_local uint64_t state = 0;
  thread_local const ExposureLog* seeded_for = nullptr;
  if (seeded_for != this) {
    state = seed_sequence_.fetch_add(0x9E3779B97F4A7C15ULL, std::memory_order_relaxed) * 31 + 7;
    seeded_for = this;
  }
  uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  z ^= z >> 31;
  return sample_threshold_ == ~uint64_t{0} || z < sample_threshold_;
}

bool ExposureLog::Log(v1::Exposure exposure) {
  MutexLock lock(&mu_);
  if (queue_.size() >= options_.queue_capacity) {
    ++stats_.dropped;
    return false;
  }
  queue_.push_back(std::move(exposure));
  ++queued_total_;
  // The writer wakes on its own every flush_interval; waking it per record would cost Rank a
  // futex call and the writer a write(2) per exposure. Only a filling queue hurries it.
  if (queue_.size() == options_.queue_capacity / 2) wake_.Signal();
  return true;
}

void ExposureLog::Flush() {
  MutexLock lock(&mu_);
  const uint64_t target = queued_total_;
  wake_.Signal();
  while (written_total_ < target) written_.Wait();
}

ExposureLog::Stats ExposureLog::stats() const {
  MutexLock lock(&mu_);
  return stats_;
}

absl::Status ExposureLog::OpenFile(uint64_t number) {
  const std::string path =
      (std::filesystem::path(options_.dir) / ExposureFileName(number)).string();
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    return absl::UnavailableError(
        absl::StrCat("exposure log: cannot open ", path, ": ", std::strerror(errno)));
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
  file_number_ = number;
  file_bytes_ = 0;
  MutexLock lock(&mu_);
  ++stats_.files;
  return absl::OkStatus();
}

void ExposureLog::Run() {
  std::vector<v1::Exposure> batch;
  for (;;) {
    bool stop;
    {
      MutexLock lock(&mu_);
      if (queue_.empty() && !stop_) {
        wake_.WaitFor(
            std::chrono::microseconds(absl::ToInt64Microseconds(options_.flush_interval)));
      }
      batch.swap(queue_);
      stop = stop_;
    }
    if (!batch.empty()) Write(batch);
    {
      MutexLock lock(&mu_);
      written_total_ += batch.size();
      written_.SignalAll();
    }
    batch.clear();
    if (stop) {
      MutexLock lock(&mu_);
      if (queue_.empty()) return;
    }
  }
}

void ExposureLog::Write(const std::vector<v1::Exposure>& batch) {
  if (options_.publish) {
    const absl::Status published = options_.publish(batch);
    MutexLock lock(&mu_);
    if (published.ok()) {
      stats_.logged += batch.size();
    } else {
      ++stats_.write_errors;
      stats_.dropped += batch.size();
    }
    return;
  }
  buffer_.clear();
  for (const v1::Exposure& exposure : batch) AppendExposureRecord(exposure, &buffer_);
  const off_t before = static_cast<off_t>(file_bytes_);
  size_t done = 0;
  bool failed = false;
  while (done < buffer_.size()) {
    const ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      failed = true;
      break;
    }
    done += static_cast<size_t>(n);
  }
  if (failed) {
    // A batch written in part would leave a damaged record in the middle of the file, which
    // readers refuse: take it back, so the file stays a clean sequence of records.
    const int error = errno;
    if (::ftruncate(fd_, before) != 0) {
      LogError("exposure log: cannot undo a partial write, starting a new file");
      Rotate();
    } else {
      file_bytes_ = static_cast<uint64_t>(before);
    }
    LogError("exposure log: write failed, ", batch.size(),
             " exposures dropped: ", std::strerror(error));
  } else {
    file_bytes_ += done;
  }
  {
    MutexLock lock(&mu_);
    if (failed) {
      ++stats_.write_errors;
      stats_.dropped += batch.size();
    } else {
      stats_.logged += batch.size();
    }
  }
  if (file_bytes_ >= options_.max_file_bytes) Rotate();
}

void ExposureLog::Rotate() {
  if (absl::Status opened = OpenFile(file_number_ + 1); !opened.ok()) {
    LogError(opened.message());
    return;
  }
  absl::StatusOr<std::vector<std::string>> files = ListExposureFiles(options_.dir);
  if (!files.ok()) return;
  for (size_t f = 0; f + options_.keep_files < files->size(); ++f) {
    std::error_code error;
    std::filesystem::remove((*files)[f], error);
  }
}

}  // namespace ranker
