#include "bench/db/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

#include "bench/db/bench_limits.h"

namespace spofless::bench {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

Status transport_error(const beast::error_code& ec, std::string_view what,
                       const std::string& peer) {
  if (ec == beast::error::timeout) {
    return {StatusCode::kDeadlineExceeded, fmt::format("{} {}: timed out", what, peer)};
  }
  return unavailable(fmt::format("{} {}: {}", what, peer, ec.message()));
}

}  // namespace

struct HttpConnection::State {
  asio::io_context io{1};
  beast::tcp_stream stream{io};
  beast::flat_buffer buffer;
  std::string peer;  // "HOST:PORT", for messages and the Host header

  // Runs the operations started on `io` until they complete; the stream's expiry bounds them.
  void run() {
    io.restart();
    io.run();
  }
};

HttpConnection::HttpConnection(std::unique_ptr<State> state) : state_(std::move(state)) {}
HttpConnection::~HttpConnection() = default;

Result<std::unique_ptr<HttpConnection>> HttpConnection::connect(const client::HostPort& to,
                                                                std::chrono::milliseconds timeout) {
  boost::system::error_code parse_error;
  auto address = asio::ip::make_address_v4(to.host, parse_error);
  if (parse_error) {
    return unavailable(fmt::format("connect {}: expected an IPv4 literal", to.to_string()));
  }
  auto state = std::make_unique<State>();
  state->peer = to.to_string();
  beast::error_code ec;
  state->stream.expires_after(timeout);
  state->stream.async_connect(tcp::endpoint(address, to.port),
                              [&ec](beast::error_code e) { ec = e; });
  state->run();
  if (ec) return transport_error(ec, "connect", state->peer);
  state->stream.socket().set_option(tcp::no_delay(true), ec);
  return std::unique_ptr<HttpConnection>(new HttpConnection(std::move(state)));
}

Result<HttpReply> HttpConnection::post(std::string_view target, std::string body,
                                       std::chrono::milliseconds timeout) {
  return request(Method::kPost, target, std::move(body), timeout);
}

Result<HttpReply> HttpConnection::get(std::string_view target, std::chrono::milliseconds timeout) {
  return request(Method::kGet, target, {}, timeout);
}

Result<HttpReply> HttpConnection::request(Method method, std::string_view target, std::string body,
                                          std::chrono::milliseconds timeout) {
  SPOFLESS_CHECK(!broken_, "a broken connection is dropped, not reused");
  bool post = method == Method::kPost;
  http::request<http::string_body> req{post ? http::verb::post : http::verb::get,
                                       boost::beast::string_view(target.data(), target.size()), 11};
  req.set(http::field::host, state_->peer);
  req.keep_alive(true);
  if (post) {
    req.set(http::field::content_type, "application/json");
    req.body() = std::move(body);
    req.prepare_payload();
  }
  State& s = *state_;
  beast::error_code ec;
  s.stream.expires_after(timeout);  // one deadline for the write and the read together
  http::async_write(s.stream, req, [&ec](beast::error_code e, std::size_t) { ec = e; });
  s.run();
  if (ec) {
    broken_ = true;
    return transport_error(ec, "send to", s.peer);
  }
  http::response_parser<http::string_body> parser;
  parser.body_limit(kHttpReplyMaxBytes);
  http::async_read(s.stream, s.buffer, parser, [&ec](beast::error_code e, std::size_t) { ec = e; });
  s.run();
  if (ec) {
    broken_ = true;
    return transport_error(ec, "reply from", s.peer);
  }
  http::response<http::string_body> res = parser.release();
  if (!res.keep_alive()) broken_ = true;  // the server closes it after this reply
  return HttpReply{res.result_int(), std::move(res.body())};
}

}  // namespace spofless::bench
