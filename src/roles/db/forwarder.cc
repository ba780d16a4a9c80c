#include "roles/db/forwarder.h"

#include <deque>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>

#include "core/limits.h"
#include "io/address.h"
#include "obs/log.h"
#include "proto/resp.h"
#include "roles/db/replies.h"

namespace spofless::db {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
constexpr auto kAwaitTuple = asio::as_tuple(asio::use_awaitable);

std::string propose_request(std::string_view command) {
  std::string out;
  proto::RespWriter w(out);
  w.array(2);
  w.bulk("SPOFLESS.PROPOSE");
  w.bulk(command);
  return out;
}

}  // namespace

// One pipelined connection to one leader. Requests are written in order and their answers
// come back in that order (RESP has no request ids), so `in_flight_` is a FIFO.
class Forwarder::Link : public std::enable_shared_from_this<Link> {
 public:
  Link(asio::io_context& io, tcp::endpoint to, std::chrono::milliseconds timeout,
       std::string password, obs::Counter& failures)
      : socket_(io),
        wake_(io),
        to_(to),
        timeout_(timeout),
        password_(std::move(password)),
        failures_(failures) {
    wake_.expires_at(asio::steady_timer::time_point::max());
  }

  void send(std::string command, Done done) {
    if (closed_) return done(error_reply("TRYAGAIN forwarding stopped"));
    if (queued_.size() + in_flight_.size() >= limits::kDbMaxForwardQueue) {
      return done(error_reply("BUSY too many writes in flight to the leader; retry later"));
    }
    queued_.push_back({propose_request(command), std::move(done)});
    if (!running_) {
      running_ = true;
      asio::co_spawn(socket_.get_executor(), run(shared_from_this()), asio::detached);
    } else {
      wake_.cancel_one();
    }
  }

  void close() {
    closed_ = true;
    boost::system::error_code ignored;
    socket_.close(ignored);
    wake_.cancel();
    fail_all("forwarding stopped");
  }

 private:
  struct Request {
    std::string bytes;
    Done done;
  };

  static asio::awaitable<void> run(std::shared_ptr<Link> self) {
    std::string reason = co_await self->connect();
    if (reason.empty()) {
      asio::co_spawn(self->socket_.get_executor(), read_loop(self, ++self->generation_),
                     asio::detached);
      reason = co_await write_loop(self);
    }
    self->running_ = false;
    boost::system::error_code ignored;
    self->socket_.close(ignored);
    self->failures_.inc();
    obs::warn("forward.failed", {{"leader", io::to_string(self->to_)}, {"reason", reason}});
    self->fail_all(reason);
  }

  asio::awaitable<std::string> connect() {
    using namespace asio::experimental::awaitable_operators;
    socket_ = tcp::socket(socket_.get_executor());
    asio::steady_timer deadline(socket_.get_executor(), timeout_);
    auto result = co_await (socket_.async_connect(to_, kAwaitTuple) ||
                            deadline.async_wait(kAwaitTuple));
    if (result.index() == 1) co_return "connect timed out";
    auto [ec] = std::get<0>(result);
    if (ec) co_return fmt::format("connect: {}", ec.message());
    socket_.set_option(tcp::no_delay(true));
    if (!password_.empty()) {
      std::string auth;
      proto::RespWriter w(auth);
      w.array(2);
      w.bulk("AUTH");
      w.bulk(password_);
      // Its +OK is the first answer: a placeholder in the FIFO swallows it.
      queued_.push_front({std::move(auth), [](std::string) {}});
    }
    co_return "";
  }

  static asio::awaitable<std::string> write_loop(std::shared_ptr<Link> self) {
    while (!self->closed_ && self->socket_.is_open()) {
      if (self->queued_.empty()) {
        co_await self->wake_.async_wait(kAwaitTuple);
        continue;
      }
      std::string batch;
      while (!self->queued_.empty()) {
        batch += self->queued_.front().bytes;
        self->in_flight_.push_back(std::move(self->queued_.front().done));
        self->queued_.pop_front();
      }
      auto [ec, n] = co_await asio::async_write(self->socket_, asio::buffer(batch), kAwaitTuple);
      if (ec) co_return fmt::format("write: {}", ec.message());
    }
    co_return self->closed_ ? "forwarding stopped" : "connection closed";
  }

  // `generation` names the connection this loop reads; a later connection is not its to close.
  static asio::awaitable<void> read_loop(std::shared_ptr<Link> self, std::uint64_t generation) {
    proto::RespReplyParser parser;
    std::vector<proto::RespValue> replies;
    std::array<char, 16 * 1024> buf;
    for (;;) {
      auto [ec, n] = co_await self->socket_.async_read_some(asio::buffer(buf), kAwaitTuple);
      if (ec) break;
      replies.clear();
      if (!parser.feed(std::string_view(buf.data(), n), replies).is_ok()) break;
      if (generation != self->generation_) co_return;
      for (const proto::RespValue& v : replies) {
        if (self->in_flight_.empty()) break;  // an answer nobody asked for: a broken leader
        Done done = std::move(self->in_flight_.front());
        self->in_flight_.pop_front();
        done(encode_value(v));
      }
    }
    if (generation != self->generation_) co_return;
    boost::system::error_code ignored;
    self->socket_.close(ignored);
    self->wake_.cancel();
  }

  void fail_all(std::string_view reason) {
    std::string reply = error_reply(fmt::format(
        "TRYAGAIN forwarding to the leader failed ({}); the write's outcome is unknown", reason));
    std::deque<Done> in_flight = std::move(in_flight_);
    std::deque<Request> queued = std::move(queued_);
    in_flight_.clear();
    queued_.clear();
    for (Done& d : in_flight) d(reply);
    for (Request& r : queued) r.done(reply);
  }

  tcp::socket socket_;
  asio::steady_timer wake_;  // cancelled to wake the writer; never expires by itself
  tcp::endpoint to_;
  std::chrono::milliseconds timeout_;
  std::string password_;
  obs::Counter& failures_;
  std::deque<Request> queued_;
  std::deque<Done> in_flight_;
  std::uint64_t generation_ = 0;
  bool running_ = false;
  bool closed_ = false;
};

Forwarder::Forwarder(asio::io_context& io, obs::Registry& registry,
                     std::chrono::milliseconds timeout)
    : io_(io),
      timeout_(timeout),
      failures_(registry.counter("spofless_db_forward_failures_total",
                                 "Connections to the leader that failed with writes in flight.")) {}

Forwarder::~Forwarder() { stop(); }

void Forwarder::set_password(std::string password) { password_ = std::move(password); }

void Forwarder::forward(const tcp::endpoint& leader, std::string command, Done done) {
  auto& link = links_[leader];
  if (!link) link = std::make_shared<Link>(io_, leader, timeout_, password_, failures_);
  link->send(std::move(command), std::move(done));
}

void Forwarder::stop() {
  for (auto& [endpoint, link] : links_) link->close();
  links_.clear();
}

}  // namespace spofless::db
