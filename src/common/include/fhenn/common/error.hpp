// Checked errors for anything that comes from outside (files, arguments, models, keys, ciphertexts).
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace fhenn {

// An error the user can act on: the message says what is wrong and what to do.
// The CLI prints it and exits non-zero; the library never crashes on bad input.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// Concatenates streamable parts into one message.
template <typename... Parts>
std::string concat(Parts&&... parts) {
  std::ostringstream out;
  (out << ... << std::forward<Parts>(parts));
  return out.str();
}

// Throws fhenn::Error with the concatenated message parts.
template <typename... Parts>
[[noreturn]] void fail(Parts&&... parts) {
  throw Error(concat(std::forward<Parts>(parts)...));
}

}  // namespace fhenn

// Checks a condition on external input; throws fhenn::Error built from the message parts when false.
#define FHENN_CHECK(condition, ...)   \
  do {                                \
    if (!(condition)) {               \
      ::fhenn::fail(__VA_ARGS__);     \
    }                                 \
  } while (false)
