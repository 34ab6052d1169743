#include "tests/support/nats_fixture.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "tests/support/server_fixture.h"

namespace ranker::testing {
namespace {

bool Accepts(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool connected = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return connected;
}

}  // namespace

std::string RunningNats::SkipReason() {
  if (access(kNatsServerPath, X_OK) != 0) {
    return std::string(kNatsServerPath) + " is not installed (Debian package nats-server)";
  }
  return "";
}

RunningNats::RunningNats(const std::string& dir) : dir_(dir), port_(FreePort()) {
  std::filesystem::create_directories(dir_);
  if (!Start()) process_.reset();
}

RunningNats::~RunningNats() { Kill(); }

bool RunningNats::Start() {
  process_ = std::make_unique<Subprocess>(std::vector<std::string>{
      kNatsServerPath, "-js", "-sd", dir_, "-a", "127.0.0.1", "-p", std::to_string(port_)});
  for (int i = 0; i < 250; ++i) {
    if (Accepts(port_)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

void RunningNats::Kill() {
  if (process_ == nullptr) return;
  process_->Signal(SIGKILL);
  process_->Wait(absl::Seconds(10));
  process_.reset();
}

bool RunningNats::Restart() {
  Kill();
  return Start();
}

}  // namespace ranker::testing
