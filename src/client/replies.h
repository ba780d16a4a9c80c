#pragma once

// How the client reads a node's reply, and the Status it turns one into. Internal to
// src/client; pure.

#include <string_view>

#include "client/host_port.h"
#include "core/status.h"
#include "proto/resp.h"

namespace spofless::client {

enum class ReplyClass {
  kAnswer,          // a value, or an error the caller gets back (-ERR, -WRONGTYPE, ...)
  kRetry,           // -TRYAGAIN, -BUSY, -LOADING: the node cannot serve now; try again
  kSessionExpired,  // -SESSIONEXPIRED: the cluster forgot the session
};

// Reads the error code, the first word of an error reply. Not an error reply: kAnswer.
ReplyClass classify(const proto::RespValue& reply);

// invalid_argument "<node> refused <command>: <the error reply>".
Status refused(const HostPort& node, std::string_view command, const proto::RespValue& reply);

// internal "<command>: unexpected reply <kind> ...": the node broke the protocol.
Status unexpected_reply(std::string_view command, const proto::RespValue& reply);

// The Status of a write that was given up on: deadline_exceeded "outcome unknown: ..." once
// any try may have reached a node (`sent`), else unavailable; a refusal stays as it is.
Status give_up(bool sent, const Status& last);

}  // namespace spofless::client
