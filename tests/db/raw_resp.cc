#include "db/raw_resp.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/check.h"

namespace spofless::db_test {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Bytes asked of the kernel per read.
constexpr std::size_t kReadChunkBytes = 16 * 1024;
// What read_until_closed() accepts before it gives up: a test expects a short error line.
constexpr std::size_t kMaxBytesBeforeClose = 1 << 20;

int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<long long>(left, 0, 1'000'000));
}

}  // namespace

Result<std::unique_ptr<RawConnection>> RawConnection::connect(const client::HostPort& to,
                                                              milliseconds timeout) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(to.port);
  if (inet_pton(AF_INET, to.host.c_str(), &addr.sin_addr) != 1) {
    return invalid_argument(fmt::format("'{}': expected an IPv4 literal", to.host));
  }
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return unavailable(fmt::format("socket: {}", std::strerror(errno)));
  // The node listens on loopback: a connect either succeeds or is refused at once.
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    Status failed =
        unavailable(fmt::format("connect {}: {}", to.to_string(), std::strerror(errno)));
    close(fd);
    return failed;
  }
  return std::unique_ptr<RawConnection>(new RawConnection(fd, to.to_string(), timeout));
}

RawConnection::~RawConnection() { close(fd_); }

Status RawConnection::send(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return unavailable(fmt::format("send to {}: {}", peer_, std::strerror(errno)));
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return Status::ok();
}

Status RawConnection::shutdown_sending() {
  if (shutdown(fd_, SHUT_WR) != 0) {
    return unavailable(fmt::format("shutdown to {}: {}", peer_, std::strerror(errno)));
  }
  return Status::ok();
}

Result<bool> RawConnection::receive(std::string& out, Clock::time_point deadline) {
  for (;;) {
    pollfd pfd{fd_, POLLIN, 0};
    int ready = poll(&pfd, 1, remaining_ms(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) {
      return Status(StatusCode::kDeadlineExceeded,
                    fmt::format("{} sent nothing within {} ms (received so far: '{}')", peer_,
                                timeout_.count(), out));
    }
    std::array<char, kReadChunkBytes> buf;
    ssize_t n = recv(fd_, buf.data(), buf.size(), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == ECONNRESET) return false;
    if (n < 0) return unavailable(fmt::format("recv from {}: {}", peer_, std::strerror(errno)));
    out.append(buf.data(), static_cast<std::size_t>(n));
    return n > 0;
  }
}

Result<std::vector<proto::RespValue>> RawConnection::read_replies(std::size_t count) {
  Clock::time_point deadline = Clock::now() + timeout_;
  while (parsed_.size() < count) {
    std::string bytes;
    auto open = receive(bytes, deadline);
    if (!open.is_ok()) return open.status();
    if (!*open) {
      return unavailable(fmt::format("{} closed the connection after {} of {} replies", peer_,
                                     parsed_.size(), count));
    }
    std::vector<proto::RespValue> replies;
    Status s = parser_.feed(bytes, replies);
    if (!s.is_ok()) return s;
    parsed_.insert(parsed_.end(), replies.begin(), replies.end());
  }
  std::vector<proto::RespValue> out(parsed_.begin(),
                                    parsed_.begin() + static_cast<std::ptrdiff_t>(count));
  parsed_.erase(parsed_.begin(), parsed_.begin() + static_cast<std::ptrdiff_t>(count));
  return out;
}

Result<std::vector<proto::RespValue>> RawConnection::pipeline(
    const std::vector<proto::RespArgs>& commands) {
  std::string bytes;
  proto::RespWriter writer(bytes);
  for (const proto::RespArgs& argv : commands) writer.request(argv);
  if (Status s = send(bytes); !s.is_ok()) return s;
  return read_replies(commands.size());
}

Result<proto::RespValue> RawConnection::call(const proto::RespArgs& argv) {
  auto replies = pipeline({argv});
  if (!replies.is_ok()) return replies.status();
  return replies->front();
}

Result<std::string> RawConnection::read_bytes(std::size_t count) {
  SPOFLESS_CHECK(parsed_.empty() && parser_.buffered_bytes() == 0,
                 "read_bytes() follows whole replies only");
  Clock::time_point deadline = Clock::now() + timeout_;
  std::string out;
  while (out.size() < count) {
    auto open = receive(out, deadline);
    if (!open.is_ok()) return open.status();
    if (!*open) break;
  }
  if (out.size() != count) {
    return unavailable(
        fmt::format("{} sent {} bytes, not {}, then closed: '{}'", peer_, out.size(), count, out));
  }
  return out;
}

Result<std::string> RawConnection::read_until_closed() {
  Clock::time_point deadline = Clock::now() + timeout_;
  std::string out;
  for (;;) {
    auto open = receive(out, deadline);
    if (!open.is_ok()) return open.status();
    if (!*open) return out;
    if (out.size() > kMaxBytesBeforeClose) {
      return unavailable(fmt::format("{} sent over {} bytes without closing the connection", peer_,
                                     kMaxBytesBeforeClose));
    }
  }
}

}  // namespace spofless::db_test
