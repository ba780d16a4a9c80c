#pragma once

// One client connection's commands: the Redis connection state (AUTH, READONLY, MULTI and its
// queue, WATCHed keys) and the dispatch of every command to a reply, now or later.
//
// A command's answer goes to its callback exactly once, possibly after execute() returned (a
// write waits for its commit). The connection keeps answers in request order.
//
// Thread model: single-threaded, on the io_context thread.

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "kv/classify.h"
#include "roles/db/client_server.h"

namespace spofless::db {

class Node;

class ClientSession {
 public:
  using Reply = std::function<void(std::string resp)>;

  ClientSession(Node& node, const ClientServerOptions& options);

  void execute(std::vector<std::string> argv, Reply reply);
  // QUIT was received: close once its +OK is written.
  bool wants_close() const { return quit_; }

 private:
  void execute_connection_command(const std::string& name, std::vector<std::string>& argv,
                                  Reply& reply);
  void queue_in_multi(std::vector<std::string> argv, Reply reply);
  void exec(std::optional<kv::Session> session, Reply reply);
  void watch(const std::vector<std::string>& argv, Reply reply);
  void reset_transaction();
  void admin(const std::string& name, const std::vector<std::string>& argv, Reply reply);
  std::string info(const std::vector<std::string>& argv) const;

  Node& node_;
  const ClientServerOptions& options_;
  bool authenticated_;
  bool readonly_ = false;
  bool in_multi_ = false;
  bool multi_failed_ = false;  // a command queued in MULTI was refused: EXEC aborts
  bool quit_ = false;
  std::vector<kv::Classified> queued_;
  std::map<std::string, std::uint64_t> watched_;  // key -> applied index when WATCHed
  std::string name_;
};

}  // namespace spofless::db
