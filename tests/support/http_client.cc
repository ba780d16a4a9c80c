#include "support/http_client.h"

#include <algorithm>
#include <cctype>

#include <boost/asio/buffer.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

namespace spofless::test_support {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

Status failed(std::string_view what, const beast::error_code& ec) {
  return unavailable(fmt::format("{}: {}", what, ec.message()));
}

// Runs one asynchronous operation to completion on `io`; the stream's expiry bounds it.
template <typename Start>
beast::error_code run(asio::io_context& io, Start start) {
  beast::error_code result;
  start([&result](const beast::error_code& ec, auto&&...) { result = ec; });
  io.restart();
  io.run();
  return result;
}

}  // namespace

std::string HttpResponse::header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

Result<std::unique_ptr<HttpClient>> HttpClient::connect(const tcp::endpoint& to,
                                                        std::chrono::milliseconds timeout) {
  std::unique_ptr<HttpClient> client(new HttpClient(timeout));
  client->stream_.expires_after(timeout);
  beast::error_code ec = run(
      client->io_, [&](auto handler) { client->stream_.async_connect(to, std::move(handler)); });
  if (ec) return failed(fmt::format("connect {}:{}", to.address().to_string(), to.port()), ec);
  return client;
}

Result<HttpResponse> HttpClient::request(std::string_view method, std::string_view target) {
  http::request<http::empty_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, "spofless-test");
  req.keep_alive(true);
  stream_.expires_after(timeout_);
  beast::error_code ec =
      run(io_, [&](auto handler) { http::async_write(stream_, req, std::move(handler)); });
  if (ec) return failed("write request", ec);

  http::response_parser<http::string_body> parser;
  parser.skip(req.method() == http::verb::head);
  parser.body_limit(64 * 1024 * 1024);
  stream_.expires_after(timeout_);
  ec = run(io_,
           [&](auto handler) { http::async_read(stream_, buffer_, parser, std::move(handler)); });
  if (ec) return failed("read response", ec);

  const auto& res = parser.get();
  HttpResponse out;
  out.status = res.result_int();
  out.body = res.body();
  out.keep_alive = res.keep_alive();
  for (const auto& field : res) out.headers[lower(field.name_string())] = field.value();
  return out;
}

Status HttpClient::send_raw(std::string_view bytes) {
  stream_.expires_after(timeout_);
  beast::error_code ec = run(io_, [&](auto handler) {
    asio::async_write(stream_, asio::buffer(bytes.data(), bytes.size()), std::move(handler));
  });
  return ec ? failed("write", ec) : Status::ok();
}

Result<std::string> HttpClient::read_until_closed() {
  std::string received = beast::buffers_to_string(buffer_.data());
  buffer_.consume(buffer_.size());
  stream_.expires_after(timeout_);
  beast::error_code ec = run(io_, [&](auto handler) {
    asio::async_read(stream_, asio::dynamic_buffer(received), std::move(handler));
  });
  if (ec != asio::error::eof && ec != asio::error::connection_reset) {
    return failed("read until closed", ec);
  }
  return received;
}

Result<HttpResponse> http_request(const tcp::endpoint& to, std::string_view method,
                                  std::string_view target, std::chrono::milliseconds timeout) {
  auto client = HttpClient::connect(to, timeout);
  if (!client) return client.status();
  return (*client)->request(method, target);
}

}  // namespace spofless::test_support
