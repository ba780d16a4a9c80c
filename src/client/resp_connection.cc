#include "client/resp_connection.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <fmt/format.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/check.h"
#include "core/limits.h"

namespace spofless::client {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<long long>(left, 0, 1'000'000));
}

Status timed_out(std::string what) {
  return Status(StatusCode::kDeadlineExceeded, std::move(what));
}

// Waits until `fd` is ready for `events` or the deadline passes. True when ready.
bool wait_ready(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    pollfd pfd{fd, events, 0};
    int ready = poll(&pfd, 1, remaining_ms(deadline));
    if (ready > 0) return true;
    if (ready == 0 || errno != EINTR) return false;
  }
}

// Connects a non-blocking socket to one resolved address before `deadline`; returns the fd
// or the failure.
Result<int> connect_one(const addrinfo& ai, const HostPort& to, Clock::time_point deadline) {
  int fd = socket(ai.ai_family, ai.ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai.ai_protocol);
  if (fd < 0) return unavailable(fmt::format("socket: {}", std::strerror(errno)));
  if (connect(fd, ai.ai_addr, ai.ai_addrlen) != 0 && errno != EINPROGRESS) {
    Status failed =
        unavailable(fmt::format("connect {}: {}", to.to_string(), std::strerror(errno)));
    close(fd);
    return failed;
  }
  if (!wait_ready(fd, POLLOUT, deadline)) {
    close(fd);
    return timed_out(fmt::format("connect {}: timed out", to.to_string()));
  }
  int error = 0;
  socklen_t length = sizeof error;
  getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
  if (error != 0) {
    close(fd);
    return unavailable(fmt::format("connect {}: {}", to.to_string(), std::strerror(error)));
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

// A command as RESP2: an array of bulk strings, as every Redis client sends it.
std::string encode_command(const std::vector<std::string>& argv) {
  std::string bytes;
  proto::RespWriter(bytes).request(argv);
  return bytes;
}

}  // namespace

Result<std::unique_ptr<RespConnection>> RespConnection::connect(const HostPort& to,
                                                                milliseconds timeout) {
  Clock::time_point deadline = Clock::now() + timeout;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  std::string port = std::to_string(to.port);
  if (int error = getaddrinfo(to.host.c_str(), port.c_str(), &hints, &found); error != 0) {
    return unavailable(fmt::format("resolve {}: {}", to.to_string(), gai_strerror(error)));
  }
  Status last = unavailable(fmt::format("resolve {}: no address", to.to_string()));
  std::size_t tried = 0;
  for (addrinfo* ai = found; ai != nullptr && tried < limits::kDbClientMaxAddressesPerHost;
       ai = ai->ai_next, ++tried) {
    Result<int> fd = connect_one(*ai, to, deadline);
    if (fd.is_ok()) {
      freeaddrinfo(found);
      return std::unique_ptr<RespConnection>(new RespConnection(*fd, to));
    }
    last = fd.status();
  }
  freeaddrinfo(found);
  return last;
}

RespConnection::~RespConnection() { close(fd_); }

Result<proto::RespValue> RespConnection::call(const std::vector<std::string>& argv,
                                              milliseconds timeout) {
  SPOFLESS_CHECK(!broken_, "a broken connection is dropped, not reused");
  SPOFLESS_CHECK(!argv.empty(), "a command has a name");
  Clock::time_point deadline = Clock::now() + timeout;
  if (Status sent = send_all(encode_command(argv), deadline); !sent.is_ok()) return sent;
  return read_reply(deadline);
}

Status RespConnection::fail(Status status) {
  broken_ = true;
  return status;
}

Status RespConnection::send_all(const std::string& bytes, Clock::time_point deadline) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (!wait_ready(fd_, POLLOUT, deadline)) {
        return fail(timed_out(fmt::format("send to {}: timed out", peer_.to_string())));
      }
    } else if (errno != EINTR) {
      return fail(
          unavailable(fmt::format("send to {}: {}", peer_.to_string(), std::strerror(errno))));
    }
  }
  return Status::ok();
}

Result<proto::RespValue> RespConnection::read_reply(Clock::time_point deadline) {
  std::size_t received = 0;
  char chunk[16 * 1024];
  // Each pass reads at least one byte or ends the call, and the bytes are bounded.
  while (replies_.empty()) {
    if (!wait_ready(fd_, POLLIN, deadline)) {
      return fail(timed_out(fmt::format("no reply from {} in time", peer_.to_string())));
    }
    ssize_t n = recv(fd_, chunk, sizeof chunk, 0);
    if (n == 0)
      return fail(unavailable(fmt::format("{} closed the connection", peer_.to_string())));
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
      return fail(
          unavailable(fmt::format("recv from {}: {}", peer_.to_string(), std::strerror(errno))));
    }
    received += static_cast<std::size_t>(n);
    if (received > limits::kDbClientReplyMaxBytes) {
      return fail(unavailable(fmt::format("reply from {} exceeds {} bytes", peer_.to_string(),
                                          limits::kDbClientReplyMaxBytes)));
    }
    std::vector<proto::RespValue> parsed;
    Status fed = parser_.feed(std::string_view(chunk, static_cast<std::size_t>(n)), parsed);
    if (!fed.is_ok()) {
      return fail(
          unavailable(fmt::format("garbled reply from {}: {}", peer_.to_string(), fed.message())));
    }
    for (proto::RespValue& value : parsed) replies_.push_back(std::move(value));
  }
  proto::RespValue reply = std::move(replies_.front());
  replies_.pop_front();
  if (!replies_.empty()) {
    return fail(unavailable(
        fmt::format("{} sent {} replies to one command", peer_.to_string(), replies_.size() + 1)));
  }
  return reply;
}

}  // namespace spofless::client
