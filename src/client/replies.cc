#include "client/replies.h"

#include <fmt/format.h>

namespace spofless::client {
namespace {

using proto::RespValue;

// Bytes of a reply quoted in an error message.
constexpr std::size_t kReplyShownMaxBytes = 80;

std::string_view error_code(const RespValue& reply) {
  std::string_view text = reply.str;
  return text.substr(0, text.find(' '));
}

}  // namespace

ReplyClass classify(const RespValue& reply) {
  if (reply.kind != RespValue::Kind::kError) return ReplyClass::kAnswer;
  std::string_view code = error_code(reply);
  if (code == "TRYAGAIN" || code == "BUSY" || code == "LOADING") return ReplyClass::kRetry;
  if (code == "SESSIONEXPIRED") return ReplyClass::kSessionExpired;
  return ReplyClass::kAnswer;
}

Status refused(const HostPort& node, std::string_view command, const RespValue& reply) {
  return invalid_argument(fmt::format("{} refused {}: {}", node.to_string(), command, reply.str));
}

Status unexpected_reply(std::string_view command, const RespValue& reply) {
  std::string shown = reply.to_string();
  if (shown.size() > kReplyShownMaxBytes) shown = shown.substr(0, kReplyShownMaxBytes) + "...";
  return internal_error(fmt::format("{}: unexpected reply {}", command, shown));
}

Status give_up(bool sent, const Status& last) {
  if (!last.retryable()) return last;
  if (sent) {
    return Status(StatusCode::kDeadlineExceeded,
                  fmt::format("outcome unknown: {}", last.message()));
  }
  return unavailable(fmt::format("not applied: {}", last.message()));
}

}  // namespace spofless::client
