#pragma once

// A command's answer, independent of the wire: the db server writes it as RESP2.

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace spofless::kv {

struct Reply {
  enum class Kind : std::uint8_t {
    kStatus,    // +OK, +string
    kError,     // -ERR syntax error: `str` is the whole line after '-', code word first
    kInteger,   // :3
    kBulk,      // $5 hello
    kNil,       // $-1 (a missing value)
    kNilArray,  // *-1 (an aborted EXEC)
    kArray,     // *2 ...
  };

  Kind kind = Kind::kNil;
  std::string str;              // kStatus, kError, kBulk
  long long integer = 0;        // kInteger
  std::vector<Reply> elements;  // kArray

  static Reply ok() { return status("OK"); }
  static Reply status(std::string text);
  // REQUIRES: `message` starts with an upper-case code word ("ERR", "SESSIONEXPIRED", ...).
  static Reply error(std::string message);
  static Reply number(long long value);
  static Reply bulk(std::string value);
  static Reply nil() { return Reply{}; }
  static Reply nil_array();
  static Reply array(std::vector<Reply> elements);

  bool is_error() const { return kind == Kind::kError; }
  bool operator==(const Reply&) const = default;
};

// redis-cli's rendering on one line: OK, (error) ERR ..., (integer) 3, "bulk", (nil),
// (nil array), [ "a", (integer) 1 ]. For tests and logs, not for the wire.
std::string to_string(const Reply& reply);
void PrintTo(const Reply& reply, std::ostream* os);  // GoogleTest's printer

}  // namespace spofless::kv
