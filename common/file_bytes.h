// Reads a whole data file into memory, gunzipping it when its name ends in ".gz". Both the idx and the .npy
// loaders parse from the byte vector this returns, so either format may be stored compressed.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace nas {

// Throws nas::Error naming the file: missing, a directory (`expected` says what was wanted, e.g. "an idx file"),
// unreadable, corrupt gzip data, or a ".gz" name on a file that is not gzip-compressed.
std::vector<uint8_t> read_file_bytes(const std::filesystem::path& path, const std::string& expected);

// Writes `text` to a temporary file beside `path` and renames it into place, so a reader never sees half a file
// and an interrupted write leaves the old one. Throws nas::Error (failure) naming the path.
void write_file_atomically(const std::filesystem::path& path, const std::string& text);

// Whether this process may create entries in `folder`, an existing directory (access(2), so a read-only filesystem
// says no and root says yes to a folder of mode 555): checked before long work, so it is refused at once.
bool can_create_in(const std::filesystem::path& folder);

// Whether `file` could be written: an existing file that is writable, or a new one whose nearest existing folder
// above it takes new entries (the folders between are created on writing).
bool can_write_file(const std::filesystem::path& file);

}  // namespace nas
