#include "client/fake_resp_server.h"

#include <cerrno>
#include <cstring>
#include <map>

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace spofless::client::fake {
namespace {

// Connections the fake serves at once; a client test opens a few at most.
constexpr std::size_t kMaxConnections = 16;

// A TCP socket bound to 127.0.0.1 on an ephemeral port; returns the fd and sets `port`.
Result<int> bind_loopback(std::uint16_t& port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return unavailable(fmt::format("socket: {}", std::strerror(errno)));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof addr;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) != 0) {
    Status failed = unavailable(fmt::format("bind 127.0.0.1:0: {}", std::strerror(errno)));
    close(fd);
    return failed;
  }
  port = ntohs(addr.sin_port);
  return fd;
}

void send_all(int fd, const std::string& bytes) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0 && errno != EINTR) return;  // the client went away; its read will say so
    if (n > 0) sent += static_cast<std::size_t>(n);
  }
}

}  // namespace

Reply Reply::value(const proto::RespValue& v) {
  Reply reply;
  proto::RespWriter(reply.bytes).value(v);
  return reply;
}

Result<std::unique_ptr<RespServer>> RespServer::start(Script script) {
  std::uint16_t port = 0;
  Result<int> fd = bind_loopback(port);
  if (!fd.is_ok()) return fd.status();
  int wake[2];
  if (listen(*fd, SOMAXCONN) != 0 || pipe2(wake, O_CLOEXEC) != 0) {
    Status failed = unavailable(fmt::format("listen: {}", std::strerror(errno)));
    close(*fd);
    return failed;
  }
  return std::unique_ptr<RespServer>(
      new RespServer(*fd, wake[0], wake[1], port, std::move(script)));
}

RespServer::RespServer(int listen_fd, int wake_read, int wake_write, std::uint16_t port,
                       Script script)
    : listen_fd_(listen_fd),
      wake_read_(wake_read),
      wake_write_(wake_write),
      port_(port),
      script_(std::move(script)),
      thread_([this] { serve(); }) {}

RespServer::~RespServer() {
  char byte = 0;
  while (write(wake_write_, &byte, 1) < 0 && errno == EINTR) {
  }
  thread_.join();
  close(listen_fd_);
  close(wake_read_);
  close(wake_write_);
}

std::vector<std::vector<std::string>> RespServer::received() const {
  std::lock_guard lock(mutex_);
  return received_;
}

void RespServer::serve() {
  std::map<int, proto::RespRequestParser> open;
  for (;;) {
    std::vector<pollfd> fds = {{wake_read_, POLLIN, 0}, {listen_fd_, POLLIN, 0}};
    for (const auto& [fd, parser] : open) fds.push_back({fd, POLLIN, 0});
    if (poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) break;
    if (fds[0].revents != 0) break;
    if (fds[1].revents != 0) {
      int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd >= 0 && open.size() >= kMaxConnections) {
        close(fd);
      } else if (fd >= 0) {
        open.emplace(fd, proto::RespRequestParser());
        ++connections_;
      }
    }
    for (std::size_t i = 2; i < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      if (!serve_connection(fds[i].fd, open.at(fds[i].fd))) {
        close(fds[i].fd);
        open.erase(fds[i].fd);
      }
    }
  }
  for (const auto& [fd, parser] : open) close(fd);
}

bool RespServer::serve_connection(int fd, proto::RespRequestParser& parser) {
  char chunk[4096];
  ssize_t n = recv(fd, chunk, sizeof chunk, 0);
  if (n < 0 && errno == EINTR) return true;
  if (n <= 0) return false;
  std::vector<proto::RespArgs> requests;
  if (!parser.feed(std::string_view(chunk, static_cast<std::size_t>(n)), requests).is_ok()) {
    return false;
  }
  for (const proto::RespArgs& argv : requests) {
    {
      std::lock_guard lock(mutex_);
      received_.push_back(argv);
    }
    Reply reply = script_(argv);
    if (reply.action == Reply::Action::kClose) return false;
    if (reply.action == Reply::Action::kSend) send_all(fd, reply.bytes);
  }
  return true;
}

Result<std::unique_ptr<RefusingPort>> RefusingPort::open() {
  std::uint16_t port = 0;
  Result<int> fd = bind_loopback(port);
  if (!fd.is_ok()) return fd.status();
  return std::unique_ptr<RefusingPort>(new RefusingPort(*fd, port));
}

RefusingPort::~RefusingPort() { close(fd_); }

}  // namespace spofless::client::fake
