#pragma once

// The Redis command table of `spofless db`: turns a client's argv into a read to serve
// locally or a Command to propose through Raft, checking arity and syntax as Redis 7 does
// and answering with its exact error texts.
//
// Commands: GET MGET EXISTS DBSIZE SCAN TYPE STRLEN (reads); SET DEL INCR INCRBY DECR DECRBY
// MSET (writes); SPOFLESS.REGISTER and SPOFLESS.SEQ <client-id> <seq> <command...> (sessions).
// MULTI, EXEC, DISCARD, WATCH, UNWATCH and connection commands belong to the server, which
// builds an EXEC's Command with make_exec().

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "kv/command.h"
#include "kv/reply.h"

namespace spofless::kv {

enum class Access : std::uint8_t {
  kRead,   // serve `read` from the local state machine after a ReadIndex
  kWrite,  // propose `command` (with now_ms and session_ttl_ms stamped) and reply what
           // StateMachine::apply returns for it
};

struct Classified {
  Access access = Access::kRead;
  Command command;  // kWrite
  ReadOp read;      // kRead
};

// The command `argv` names (argv[0], any case), or a Reply of kind kError for a known command
// used wrongly ("ERR wrong number of arguments for 'get' command", "ERR syntax error",
// "ERR value is not an integer or out of range", ...), or nothing for a command not in the
// table: the server answers those (see unknown_command()).
// SPOFLESS.SEQ wraps a read or a write; a wrapped read is served as a plain read.
std::optional<std::variant<Classified, Reply>> classify(const std::vector<std::string>& argv);

// True when argv[0] names a read or a write of the table (not a SPOFLESS.* command): what the
// server may queue between MULTI and EXEC. Queue-time errors still come from classify(); as
// in Redis, one of them makes the EXEC fail with "EXECABORT Transaction discarded because of
// previous errors." (the server's reply, nothing is proposed).
bool is_queueable(const std::vector<std::string>& argv);

// The Command of an EXEC: `queued` are classify() results of the commands queued since MULTI
// (a wrapped session is ignored), `watched` the keys under WATCH with their watch indexes.
// REQUIRES: queued.size() <= kKvMaxTransactionOps, watched.size() <= kKvMaxWatchedKeys.
Command make_exec(const std::vector<Classified>& queued, std::vector<WatchedKey> watched);

// Redis's reply to a command it does not know: "ERR unknown command 'x', with args beginning
// with: 'a' 'b' ". REQUIRES: !argv.empty().
Reply unknown_command(const std::vector<std::string>& argv);

}  // namespace spofless::kv
