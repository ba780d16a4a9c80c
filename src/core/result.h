#pragma once

// Result<T>: a value or the Status saying why there is none. g++ 12 has no std::expected.

#include <utility>
#include <variant>

#include "core/check.h"
#include "core/status.h"

namespace spofless {

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}        // NOLINT: implicit by design.
  Result(Status status) : state_(std::move(status)) {  // NOLINT: implicit by design.
    SPOFLESS_CHECK(!std::get<Status>(state_).is_ok(), "a Result holds a value or an error");
  }

  bool is_ok() const { return std::holds_alternative<T>(state_); }
  explicit operator bool() const { return is_ok(); }

  // REQUIRES: is_ok().
  T& value() & {
    SPOFLESS_CHECK(is_ok(), "value() of an error Result");
    return std::get<T>(state_);
  }
  const T& value() const& {
    SPOFLESS_CHECK(is_ok(), "value() of an error Result");
    return std::get<T>(state_);
  }
  T&& value() && {
    SPOFLESS_CHECK(is_ok(), "value() of an error Result");
    return std::get<T>(std::move(state_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  // The error, or an ok Status when there is a value.
  Status status() const { return is_ok() ? Status::ok() : std::get<Status>(state_); }

 private:
  std::variant<T, Status> state_;
};

}  // namespace spofless
