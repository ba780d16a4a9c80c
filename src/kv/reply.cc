#include "kv/reply.h"

#include <utility>

#include "core/check.h"

namespace spofless::kv {

Reply Reply::status(std::string text) {
  Reply r;
  r.kind = Kind::kStatus;
  r.str = std::move(text);
  return r;
}

Reply Reply::error(std::string message) {
  SPOFLESS_CHECK(!message.empty() && message[0] >= 'A' && message[0] <= 'Z',
                 "an error reply starts with its code word");
  Reply r;
  r.kind = Kind::kError;
  r.str = std::move(message);
  return r;
}

Reply Reply::number(long long value) {
  Reply r;
  r.kind = Kind::kInteger;
  r.integer = value;
  return r;
}

Reply Reply::bulk(std::string value) {
  Reply r;
  r.kind = Kind::kBulk;
  r.str = std::move(value);
  return r;
}

Reply Reply::nil_array() {
  Reply r;
  r.kind = Kind::kNilArray;
  return r;
}

Reply Reply::array(std::vector<Reply> elements) {
  Reply r;
  r.kind = Kind::kArray;
  r.elements = std::move(elements);
  return r;
}

namespace {

// Replies nest a few levels at most (EXEC > SCAN > keys), so recursion is shallow.
void render(const Reply& reply, std::string& out) {
  switch (reply.kind) {
    case Reply::Kind::kStatus:
      out += reply.str;
      return;
    case Reply::Kind::kError:
      out += "(error) " + reply.str;
      return;
    case Reply::Kind::kInteger:
      out += "(integer) " + std::to_string(reply.integer);
      return;
    case Reply::Kind::kBulk:
      out += '"' + reply.str + '"';
      return;
    case Reply::Kind::kNil:
      out += "(nil)";
      return;
    case Reply::Kind::kNilArray:
      out += "(nil array)";
      return;
    case Reply::Kind::kArray:
      out += '[';
      for (std::size_t i = 0; i < reply.elements.size(); ++i) {
        out += i == 0 ? " " : ", ";
        render(reply.elements[i], out);
      }
      out += " ]";
      return;
  }
  SPOFLESS_UNREACHABLE("every reply kind is rendered");
}

}  // namespace

std::string to_string(const Reply& reply) {
  std::string out;
  render(reply, out);
  return out;
}

void PrintTo(const Reply& reply, std::ostream* os) { *os << to_string(reply); }

}  // namespace spofless::kv
