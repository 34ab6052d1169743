// A real nats-server with JetStream (Debian's package), started by a test on a free loopback
// port with its file storage in a directory of the test's, and restartable on the same port
// and storage (a broker restart).
#ifndef RANKER_TESTS_SUPPORT_NATS_FIXTURE_H_
#define RANKER_TESTS_SUPPORT_NATS_FIXTURE_H_

#include <memory>
#include <string>

#include "tests/support/test_util.h"

namespace ranker::testing {

// Where Debian installs it (not on a normal user's PATH).
inline constexpr char kNatsServerPath[] = "/usr/sbin/nats-server";

class RunningNats {
 public:
  // Starts nats-server -js with storage under `dir`. Check ok(); tests skip when the binary is
  // missing (SkipReason()).
  explicit RunningNats(const std::string& dir);
  ~RunningNats();

  bool ok() const { return process_ != nullptr; }
  std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }
  // Empty when nats-server can run here; else why not.
  static std::string SkipReason();

  void Kill();     // SIGKILL: what a crash leaves on disk
  bool Restart();  // the same port and storage; true once it accepts connections

 private:
  bool Start();
  std::string dir_;
  int port_ = 0;
  std::unique_ptr<Subprocess> process_;
};

}  // namespace ranker::testing

#endif  // RANKER_TESTS_SUPPORT_NATS_FIXTURE_H_
