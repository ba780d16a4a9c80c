#pragma once

// A bare TCP connection to one `spofless db` node, for tests that need what a client library
// hides: malformed requests, the exact bytes of a reply (`*-1` versus `$-1`), the server
// closing the connection, and pipelines of many requests sent before any reply is read.
//
// Only IPv4 literals (the cluster binds 127.0.0.1). Every read is bounded by the timeout
// given to connect(); a read that times out fails rather than blocking the test.
// Thread model: one thread uses a RawConnection at a time.

#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "client/host_port.h"
#include "core/result.h"
#include "proto/resp.h"

namespace spofless::db_test {

class RawConnection {
 public:
  static Result<std::unique_ptr<RawConnection>> connect(const client::HostPort& to,
                                                        std::chrono::milliseconds timeout);
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  // Writes `bytes` as they are.
  Status send(std::string_view bytes);
  // Half-closes the connection: the server reads the end of the stream, and may still answer.
  Status shutdown_sending();
  // Sends each command as a RESP array of bulks, all at once, then reads one reply per
  // command, in order.
  Result<std::vector<proto::RespValue>> pipeline(const std::vector<proto::RespArgs>& commands);
  // One command and its reply.
  Result<proto::RespValue> call(const proto::RespArgs& argv);
  // Reads the next `count` replies (to requests sent with send()).
  Result<std::vector<proto::RespValue>> read_replies(std::size_t count);
  // Reads exactly `count` bytes. REQUIRES: no reply read so far left bytes unparsed, so that
  // these are the bytes of the next reply.
  Result<std::string> read_bytes(std::size_t count);
  // Reads until the server closes the connection and returns every byte it sent meanwhile.
  // Fails when the connection is still open after the timeout.
  Result<std::string> read_until_closed();

 private:
  RawConnection(int fd, std::string peer, std::chrono::milliseconds timeout)
      : fd_(fd), peer_(std::move(peer)), timeout_(timeout) {}

  // Appends what arrives next to `out`: false when the server closed the connection.
  Result<bool> receive(std::string& out, std::chrono::steady_clock::time_point deadline);

  int fd_;
  std::string peer_;
  std::chrono::milliseconds timeout_;
  proto::RespReplyParser parser_;
  std::deque<proto::RespValue> parsed_;  // replies received, not yet returned
};

}  // namespace spofless::db_test
