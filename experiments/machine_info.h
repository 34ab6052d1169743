// The machine a measurement ran on, as reports print it: read from /proc and /etc/os-release
// at run time, so a report says where its numbers came from.
#ifndef RANKER_EXPERIMENTS_MACHINE_INFO_H_
#define RANKER_EXPERIMENTS_MACHINE_INFO_H_

#include <cstdint>
#include <string>

namespace ranker {

struct MachineInfo {
  std::string cpu;            // /proc/cpuinfo "model name" ("unknown CPU" if absent)
  unsigned threads = 0;       // std::thread::hardware_concurrency()
  uint64_t memory_bytes = 0;  // /proc/meminfo MemTotal (0 if unknown)
  std::string os;             // /etc/os-release PRETTY_NAME ("unknown OS" if absent)
  std::string date;           // UTC, YYYY-MM-DD
};

MachineInfo ThisMachine();
// e.g. "AMD EPYC 7B13, 2 hardware threads, 7.8 GiB memory, Debian GNU/Linux 12 (bookworm)".
std::string DescribeMachine(const MachineInfo& machine);

}  // namespace ranker

#endif  // RANKER_EXPERIMENTS_MACHINE_INFO_H_
