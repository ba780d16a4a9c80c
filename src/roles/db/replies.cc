#include "roles/db/replies.h"

namespace spofless::db {
namespace {

void write_reply(proto::RespWriter& w, const kv::Reply& r) {
  using Kind = kv::Reply::Kind;
  switch (r.kind) {
    case Kind::kStatus: return w.simple(r.str);
    case Kind::kError: return w.error(r.str);
    case Kind::kInteger: return w.integer(r.integer);
    case Kind::kBulk: return w.bulk(r.str);
    case Kind::kNil: return w.null();
    case Kind::kNilArray: return w.null_array();
    case Kind::kArray:
      w.array(r.elements.size());
      for (const kv::Reply& e : r.elements) write_reply(w, e);
      return;
  }
}

}  // namespace

std::string encode_reply(const kv::Reply& reply) {
  std::string out;
  proto::RespWriter w(out);
  write_reply(w, reply);
  return out;
}

std::string error_reply(std::string_view message) {
  std::string out;
  proto::RespWriter(out).error(message);
  return out;
}

std::string status_reply(std::string_view status) {
  std::string out;
  proto::RespWriter(out).simple(status);
  return out;
}

std::string encode_value(const proto::RespValue& value) {
  std::string out;
  proto::RespWriter(out).value(value);
  return out;
}

}  // namespace spofless::db
