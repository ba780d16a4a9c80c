#pragma once

// A blocking HTTP/1.1 client connection with keep-alive, for etcd's JSON gateway and the
// spofless admin endpoint. Every call is bounded by a timeout: Beast's synchronous calls have
// none, so each call runs Beast's asynchronous operations to completion on a private
// io_context, which to the caller is the same blocking call with a deadline.
//
// Thread model: owned by one thread; not safe to share.
// A connection on which any call failed is broken(): the caller drops it.

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "client/host_port.h"
#include "core/result.h"

namespace spofless::bench {

struct HttpReply {
  unsigned status = 0;  // 200, 503, ...
  std::string body;
};

class HttpConnection {
 public:
  // Connects to an IPv4 literal and port within `timeout`. Fails with unavailable (refused,
  // not an IPv4 literal) or deadline_exceeded; the message names the address.
  static Result<std::unique_ptr<HttpConnection>> connect(const client::HostPort& to,
                                                         std::chrono::milliseconds timeout);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // POST `body` (JSON) to `target`; the reply whatever its status. Fails with unavailable
  // (closed, reset, a reply body over kHttpReplyMaxBytes) or deadline_exceeded.
  // REQUIRES: !broken().
  Result<HttpReply> post(std::string_view target, std::string body,
                         std::chrono::milliseconds timeout);
  // GET `target`; otherwise as post().
  Result<HttpReply> get(std::string_view target, std::chrono::milliseconds timeout);

  bool broken() const { return broken_; }

 private:
  struct State;
  explicit HttpConnection(std::unique_ptr<State> state);
  enum class Method { kGet, kPost };
  Result<HttpReply> request(Method method, std::string_view target, std::string body,
                            std::chrono::milliseconds timeout);

  std::unique_ptr<State> state_;
  bool broken_ = false;
};

}  // namespace spofless::bench
