// Shared by the libFuzzer targets of this folder. Each target feeds one parser the fuzzer's bytes; rejecting them
// with nas::Error (the one-line "bad input" every command prints) is the expected outcome. Anything else — a crash,
// a sanitizer report, or another exception escaping — is a finding: libFuzzer stops and saves the input.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

namespace nas::fuzz {

// A file of this process's own under the temp folder, rewritten for every input (the loaders read paths).
inline std::filesystem::path scratch_file(const std::string& name) {
  static const std::filesystem::path dir = [] {
    auto d = std::filesystem::temp_directory_path() / ("mcunas-fuzz-" + std::to_string(getpid()));
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir / name;
}

inline std::filesystem::path write_file(const std::string& name, const uint8_t* data, size_t size) {
  const auto path = scratch_file(name);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  return path;
}

inline std::string text_of(const uint8_t* data, size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

}  // namespace nas::fuzz
