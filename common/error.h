// The one error type of mcunas. Its message reads "where: what (got X, expected Y)"; the CLI prints it on one
// line and exits 2 for bad input, 1 for failures.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace nas {

class Error : public std::runtime_error {
 public:
  enum class Kind { bad_input, failure };

  Error(std::string_view where, std::string_view what, Kind kind = Kind::bad_input)
      : std::runtime_error(std::string(where) + ": " + std::string(what)), kind_(kind) {}

  Kind kind() const noexcept { return kind_; }
  int exit_code() const noexcept { return kind_ == Kind::bad_input ? 2 : 1; }

 private:
  Kind kind_;
};

}  // namespace nas
