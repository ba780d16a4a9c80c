#pragma once

// RESP2 encodings of the server's answers: a state-machine Reply, a Redis-style error, and a
// reply parsed from another server (a forwarded write's answer, passed back as it came).

#include <string>
#include <string_view>

#include "kv/reply.h"
#include "proto/resp.h"

namespace spofless::db {

std::string encode_reply(const kv::Reply& reply);
// `message` starts with the error code: "TRYAGAIN no leader", "BUSY queue full", "ERR ...".
std::string error_reply(std::string_view message);
std::string status_reply(std::string_view status);
std::string encode_value(const proto::RespValue& value);

}  // namespace spofless::db
