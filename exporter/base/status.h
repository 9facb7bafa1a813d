// Status and Result: errors as values between layers, never exceptions.
#ifndef PGREPL_EXPORTER_BASE_STATUS_H_
#define PGREPL_EXPORTER_BASE_STATUS_H_

#include <optional>
#include <string>
#include <utility>

namespace pgrepl {

// The outcome of an operation. A default Status is OK; an error carries a
// kind (used as a metric label) and a one-line message that never contains
// a secret.
class Status {
 public:
  enum class Kind { kOk, kInvalid, kConnect, kQuery, kTimeout, kIo };

  Status() = default;
  static Status Ok() { return Status(); }
  static Status Invalid(std::string m) {
    return {Kind::kInvalid, std::move(m)};
  }
  static Status Connect(std::string m) {
    return {Kind::kConnect, std::move(m)};
  }
  static Status Query(std::string m) { return {Kind::kQuery, std::move(m)}; }
  static Status Timeout(std::string m) {
    return {Kind::kTimeout, std::move(m)};
  }
  static Status Io(std::string m) { return {Kind::kIo, std::move(m)}; }

  bool ok() const { return kind_ == Kind::kOk; }
  Kind kind() const { return kind_; }
  const std::string& message() const { return message_; }

  // "connect", "query", "timeout", ...: stable names for metric labels.
  static const char* KindName(Kind kind);

 private:
  Status(Kind kind, std::string message)
      : kind_(kind), message_(std::move(message)) {}

  Kind kind_ = Kind::kOk;
  std::string message_;
};

inline const char* Status::KindName(Kind kind) {
  switch (kind) {
    case Kind::kOk:
      return "ok";
    case Kind::kInvalid:
      return "invalid";
    case Kind::kConnect:
      return "connect";
    case Kind::kQuery:
      return "query";
    case Kind::kTimeout:
      return "timeout";
    case Kind::kIo:
      return "io";
  }
  return "unknown";
}

// Either a value or an error Status.
template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}  // NOLINT

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  const T& value() const& { return *value_; }
  T& value() & { return *value_; }
  T&& value() && { return std::move(*value_); }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace pgrepl

#endif  // PGREPL_EXPORTER_BASE_STATUS_H_
