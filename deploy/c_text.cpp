#include "deploy/c_text.h"

#include <fmt/format.h>

namespace nas::deploy {

std::string comment_text(std::string s) {
  for (auto& ch : s)
    if (ch == '\n' || ch == '\r' || static_cast<unsigned char>(ch) < 0x20) ch = ' ';
  for (size_t at = s.find("*/"); at != std::string::npos; at = s.find("*/")) s.replace(at, 2, "* /");
  for (size_t at = s.find("/*"); at != std::string::npos; at = s.find("/*")) s.replace(at, 2, "/ *");
  return s;
}

std::string float_literal(double v) {
  std::string s = fmt::format("{:.9g}", static_cast<float>(v));
  if (s.find_first_of(".eE") == std::string::npos) s += ".0";
  return s + "f";
}

}  // namespace nas::deploy
