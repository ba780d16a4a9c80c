#pragma once

// A small synchronous HTTP/1.1 client for tests, over Beast. Each call is bounded by the
// client's timeout; a call that fails leaves the connection unusable.
//
// Thread model: one thread uses a client at a time. It runs its own io_context, so it can
// talk to a server whose io_context runs on another thread or in another process.

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "core/result.h"

namespace spofless::test_support {

struct HttpResponse {
  unsigned status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // names in lower case
  bool keep_alive = false;

  // The header's value, or "" when absent. `name` in lower case.
  std::string header(const std::string& name) const;
};

class HttpClient {
 public:
  static Result<std::unique_ptr<HttpClient>> connect(const boost::asio::ip::tcp::endpoint& to,
                                                     std::chrono::milliseconds timeout);

  // Sends one request (HTTP/1.1, keep-alive, no body) and reads its response; a HEAD
  // response is read without a body.
  Result<HttpResponse> request(std::string_view method, std::string_view target);

  // Writes `bytes` as they are: for requests a well-behaved client would not send.
  Status send_raw(std::string_view bytes);

  // Reads until the server closes the connection, and returns everything it sent.
  Result<std::string> read_until_closed();

 private:
  HttpClient(std::chrono::milliseconds timeout) : stream_(io_), timeout_(timeout) {}

  boost::asio::io_context io_;
  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  std::chrono::milliseconds timeout_;
};

// One GET or HEAD on a new connection.
Result<HttpResponse> http_request(const boost::asio::ip::tcp::endpoint& to, std::string_view method,
                                  std::string_view target, std::chrono::milliseconds timeout);
inline Result<HttpResponse> http_get(const boost::asio::ip::tcp::endpoint& to,
                                     std::string_view target, std::chrono::milliseconds timeout) {
  return http_request(to, "GET", target, timeout);
}

}  // namespace spofless::test_support
