// Pieces of generated C shared by the model's code generator (codegen.cpp) and the firmware mains
// (firmware_image.cpp): comment-safe text, exact float literals and const integer arrays.
#pragma once

#include <cstdint>
#include <span>
#include <sstream>
#include <string>

namespace nas::deploy {

// Text safe inside a C block comment.
std::string comment_text(std::string s);

// A float literal that reads back as the same float. A whole number gets a ".0": "2f" is not a C literal.
std::string float_literal(double v);

// "static const <type> <name>[<n>] = {...};" with 16 values a line.
template <class T>
void print_array(std::ostringstream& out, const char* type, const std::string& name, std::span<const T> values) {
  out << "static const " << type << " " << name << "[" << values.size() << "] = {";
  for (size_t i = 0; i < values.size(); ++i) {
    out << (i % 16 == 0 ? "\n    " : " ") << static_cast<int64_t>(values[i]) << (i + 1 < values.size() ? "," : "");
  }
  out << "\n};\n";
}

}  // namespace nas::deploy
