#pragma once

// A follower's path for writes: it sends them to the leader's client port as
// `SPOFLESS.PROPOSE <encoded command>` over one pipelined RESP connection per leader, and
// passes each answer back as it came. The leader stamps and proposes the command; the answer
// arrives once it is applied there.
//
// A connection that fails fails every write in flight on it with -TRYAGAIN saying the outcome
// is unknown (the leader may have applied it); writes sent through a session (SPOFLESS.SEQ)
// are safe to retry, plain ones are the client's to judge, as with Redis.
//
// Thread model: single-threaded, on the io_context thread.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "obs/metrics.h"

namespace spofless::db {

class Forwarder {
 public:
  using Done = std::function<void(std::string resp)>;

  Forwarder(boost::asio::io_context& io, obs::Registry& registry,
            std::chrono::milliseconds timeout);
  ~Forwarder();
  Forwarder(const Forwarder&) = delete;
  Forwarder& operator=(const Forwarder&) = delete;

  // Sent as AUTH before the first write on each connection, when set (`--requirepass`).
  void set_password(std::string password);
  // `done` is called exactly once: with the leader's answer, or -BUSY / -TRYAGAIN.
  void forward(const boost::asio::ip::tcp::endpoint& leader, std::string command, Done done);
  void stop();

 private:
  class Link;
  boost::asio::io_context& io_;
  std::chrono::milliseconds timeout_;
  std::string password_;
  std::map<boost::asio::ip::tcp::endpoint, std::shared_ptr<Link>> links_;
  obs::Counter& failures_;
};

}  // namespace spofless::db
