#pragma once

// One blocking TCP connection to one node, speaking RESP2: a command out as an array of bulk
// strings, one reply back. Every call is bounded by a timeout. An error reply (-ERR ...) is a
// value, not a failure: failures are the transport's (refused, reset, timed out, garbled).
//
// Thread model: owned by one thread; not safe to share.
// A connection on which any call failed is broken: the caller drops it (its reply may still
// arrive later and must not be mistaken for the next command's).

#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "client/host_port.h"
#include "core/result.h"
#include "proto/resp.h"

namespace spofless::client {

class RespConnection {
 public:
  // Resolves `to` and connects within `timeout`. Fails with unavailable (refused, no route,
  // unknown host) or deadline_exceeded; the message names the address.
  static Result<std::unique_ptr<RespConnection>> connect(const HostPort& to,
                                                         std::chrono::milliseconds timeout);

  ~RespConnection();
  RespConnection(const RespConnection&) = delete;
  RespConnection& operator=(const RespConnection&) = delete;

  // Sends `argv` and reads its one reply, both within `timeout`. Fails with
  // deadline_exceeded (no whole reply in time), unavailable (closed, reset, a reply that is
  // not RESP2 or larger than kDbClientReplyMaxBytes). REQUIRES: !broken(), argv not empty.
  Result<proto::RespValue> call(const std::vector<std::string>& argv,
                                std::chrono::milliseconds timeout);

  bool broken() const { return broken_; }
  const HostPort& peer() const { return peer_; }

 private:
  RespConnection(int fd, HostPort peer) : fd_(fd), peer_(std::move(peer)) {}

  Status send_all(const std::string& bytes, std::chrono::steady_clock::time_point deadline);
  Result<proto::RespValue> read_reply(std::chrono::steady_clock::time_point deadline);
  Status fail(Status status);

  int fd_;
  HostPort peer_;
  bool broken_ = false;
  proto::RespReplyParser parser_;
  std::deque<proto::RespValue> replies_;  // parsed, not yet returned
};

}  // namespace spofless::client
