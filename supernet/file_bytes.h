// Reads a whole data file into memory, gunzipping it when its name ends in ".gz". Both the idx and the .npy
// loaders parse from the byte vector this returns, so either format may be stored compressed.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace nas::supernet {

// Throws nas::Error naming the file: missing, a directory (`expected` says what was wanted, e.g. "an idx file"),
// unreadable, corrupt gzip data, or a ".gz" name on a file that is not gzip-compressed.
std::vector<uint8_t> read_file_bytes(const std::filesystem::path& path, const std::string& expected);

}  // namespace nas::supernet
