#include "experiments/machine_info.h"

#include <ctime>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/files.h"

namespace ranker {
namespace {

// The value of the first "key<separator>value" line of `path` ("" if none): /proc and
// /etc/os-release all use this shape.
std::string ReadField(const std::string& path, absl::string_view key, char separator) {
  absl::StatusOr<std::string> text = ReadFileToString(path, "system file");
  if (!text.ok()) return "";
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    const size_t at = line.find(separator);
    if (at == std::string::npos) continue;
    if (absl::StripAsciiWhitespace(line.substr(0, at)) != key) continue;
    absl::string_view value = absl::StripAsciiWhitespace(line.substr(at + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    return std::string(value);
  }
  return "";
}

}  // namespace

MachineInfo ThisMachine() {
  MachineInfo machine;
  machine.cpu = ReadField("/proc/cpuinfo", "model name", ':');
  if (machine.cpu.empty()) machine.cpu = "unknown CPU";
  machine.threads = std::thread::hardware_concurrency();
  uint64_t kib = 0;  // "16318480 kB"
  if (absl::SimpleAtoi(absl::StripSuffix(ReadField("/proc/meminfo", "MemTotal", ':'), " kB"),
                       &kib)) {
    machine.memory_bytes = kib * 1024;
  }
  machine.os = ReadField("/etc/os-release", "PRETTY_NAME", '=');
  if (machine.os.empty()) machine.os = "unknown OS";
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  char date[16] = "";
  if (gmtime_r(&now, &utc) != nullptr) std::strftime(date, sizeof(date), "%Y-%m-%d", &utc);
  machine.date = date;
  return machine;
}

std::string DescribeMachine(const MachineInfo& machine) {
  return absl::StrFormat("%s, %u hardware threads, %.1f GiB memory, %s", machine.cpu,
                         machine.threads, static_cast<double>(machine.memory_bytes) / (1 << 30),
                         machine.os);
}

}  // namespace ranker
