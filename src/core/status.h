#pragma once

// Errors as values. A StatusCode tells the caller what to do next, not what went wrong
// inside: retry this call, retry the whole operation, or give up and fix the input.
// No exceptions cross a module boundary; libraries that throw are wrapped where called.

#include <string>
#include <string_view>
#include <utility>

namespace spofless {

enum class StatusCode {
  kOk,
  kInvalidArgument,     // Bad input. Do not retry: fix the request, file or flag.
  kNotFound,            // The thing named does not exist. Do not retry as is.
  kFailedPrecondition,  // The system is not in a state to do this. Retry after changing it.
  kUnavailable,         // Transient. Retry this call, possibly elsewhere, with backoff.
  kResourceExhausted,   // Overloaded or over a limit. Retry later, after backing off.
  kAborted,             // A conflict (e.g. a transaction). Retry the whole operation.
  kDeadlineExceeded,    // Timed out; the outcome may be unknown.
  kDataLoss,            // Corruption detected. Do not retry; repair or re-sync.
  kInternal,            // A bug. Do not retry.
};

std::string_view to_string(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() { return {}; }

  bool is_ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // True when the same call may succeed if tried again later.
  bool retryable() const {
    return code_ == StatusCode::kUnavailable || code_ == StatusCode::kResourceExhausted ||
           code_ == StatusCode::kDeadlineExceeded;
  }

  // "invalid_argument: <message>", for logs and command-line errors.
  std::string to_string() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status invalid_argument(std::string message) {
  return {StatusCode::kInvalidArgument, std::move(message)};
}
inline Status not_found(std::string message) { return {StatusCode::kNotFound, std::move(message)}; }
inline Status unavailable(std::string message) {
  return {StatusCode::kUnavailable, std::move(message)};
}
inline Status resource_exhausted(std::string message) {
  return {StatusCode::kResourceExhausted, std::move(message)};
}
inline Status internal_error(std::string message) {
  return {StatusCode::kInternal, std::move(message)};
}

}  // namespace spofless
