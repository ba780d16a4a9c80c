#include "bench/db/disk_probe.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <vector>

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include "bench/db/bench_limits.h"

namespace spofless::bench {

Result<DiskProbe> probe_fsync(const std::string& dir) {
  constexpr std::size_t kBlockBytes = 4096;
  std::string path = dir + "/fsync-probe";
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return unavailable(fmt::format("open {}: {}", path, std::strerror(errno)));
  std::vector<char> block(kBlockBytes, 'p');
  std::vector<double> ms;
  Status failed;
  for (std::size_t i = 0; i < kDiskProbeWrites; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    if (write(fd, block.data(), block.size()) != static_cast<ssize_t>(block.size()) ||
        fdatasync(fd) != 0) {  // as a WAL append is synced: data and file size
      failed = unavailable(fmt::format("write and fsync {}: {}", path, std::strerror(errno)));
      break;
    }
    ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  close(fd);
  unlink(path.c_str());
  if (!failed.is_ok()) return failed;
  std::sort(ms.begin(), ms.end());
  return DiskProbe{ms[ms.size() / 2], ms.back()};
}

}  // namespace spofless::bench
