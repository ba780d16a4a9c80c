#pragma once

// The Redis-protocol (RESP2) front of `spofless db`: accepts client connections, parses
// pipelined requests, and answers them in order. Connection-level commands (PING, AUTH,
// MULTI/EXEC/WATCH, READONLY, INFO, COMMAND, CONFIG GET, CLIENT, SPOFLESS.*) are handled
// here; key-value commands are classified by src/kv and go to the Node as writes (through
// the log) or reads (ReadIndex, or stale under READONLY). docs/db.md lists every command.
//
// Bounded: at most limits::kDbMaxClients connections; a client that stops reading its
// replies is disconnected once limits::kDbMaxReplyBacklogBytes are waiting for it; a
// protocol error is answered with -ERR and closes that connection only.
//
// Thread model: single-threaded, on the io_context thread the Node runs on.

#include <chrono>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "core/status.h"
#include "obs/metrics.h"

namespace spofless::db {

class Node;

struct ClientServerOptions {
  std::string requirepass;  // empty: no AUTH needed
  std::chrono::milliseconds max_stale{1'000};  // READONLY reads refused beyond this lag
};

class ClientServer {
 public:
  ClientServer(boost::asio::io_context& io, obs::Registry& registry, Node& node,
               ClientServerOptions options);
  ~ClientServer();
  ClientServer(const ClientServer&) = delete;
  ClientServer& operator=(const ClientServer&) = delete;

  Status listen(const boost::asio::ip::tcp::endpoint& endpoint);
  boost::asio::ip::tcp::endpoint local_endpoint() const;
  std::size_t connections() const;
  // Stops accepting and closes every connection.
  void stop();

 private:
  class State;
  std::shared_ptr<State> state_;
};

}  // namespace spofless::db
