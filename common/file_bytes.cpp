#include "common/file_bytes.h"

#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <fstream>

#include "common/error.h"

namespace nas {
namespace {

bool ends_with_gz(const std::filesystem::path& path) { return path.extension() == ".gz"; }

// The gzip trailer ends with the uncompressed size mod 2^32 (RFC 1952, ISIZE). Reserving it up front saves the
// vector's regrowth copies; it is only a hint, capped at deflate's best ratio (~1032:1) in case the trailer is junk.
size_t gzip_size_hint(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  const auto compressed = static_cast<std::streamoff>(in.tellg());
  if (!in || compressed < 4) return 0;
  in.seekg(compressed - 4);
  unsigned char trailer[4] = {};
  if (!in.read(reinterpret_cast<char*>(trailer), 4)) return 0;
  const uint32_t size =
      uint32_t{trailer[0]} | uint32_t{trailer[1]} << 8 | uint32_t{trailer[2]} << 16 | uint32_t{trailer[3]} << 24;
  return std::min<size_t>(size + size_t{1}, static_cast<size_t>(compressed) * 1032);
}

// Closes `file` and throws with zlib's description, minus the "path: " zlib puts in front (ours has the path).
[[noreturn]] void fail_gzip(gzFile file, const std::string& where) {
  int code = 0;
  std::string message = gzerror(file, &code);
  const std::string prefix = where + ": ";
  if (message.starts_with(prefix)) message.erase(0, prefix.size());
  gzclose(file);
  throw Error(where, "corrupt gzip data: " + message);
}

// gzread takes an unsigned count, so large files are read in chunks.
std::vector<uint8_t> read_gzip(const std::filesystem::path& path) {
  const std::string where = path.string();
  gzFile file = gzopen(where.c_str(), "rb");
  if (!file) throw Error(where, "cannot open for reading");
  // zlib's default 8 KiB input buffer makes gunzipping Fashion-MNIST about three times slower than zcat.
  constexpr size_t kChunk = size_t{1} << 20;
  gzbuffer(file, static_cast<unsigned>(kChunk));
  std::vector<uint8_t> bytes;
  bytes.reserve(gzip_size_hint(path));
  for (;;) {
    // Fill the reserved room first; grow only past it.
    const size_t old_size = bytes.size();
    const size_t chunk = bytes.capacity() > old_size ? std::min(bytes.capacity() - old_size, kChunk) : kChunk;
    bytes.resize(old_size + chunk);
    const int got = gzread(file, bytes.data() + old_size, static_cast<unsigned>(chunk));
    if (got < 0) fail_gzip(file, where);
    bytes.resize(old_size + static_cast<size_t>(got));
    if (got == 0) break;
  }
  // zlib passes non-gzip input through unchanged; a ".gz" that is not gzip is more likely a mistake than intent.
  const bool raw = gzdirect(file) != 0;
  // A stream cut short ends with Z_BUF_ERROR ("unexpected end of file") rather than a failed gzread.
  int code = Z_OK;
  gzerror(file, &code);
  if (code != Z_OK) fail_gzip(file, where);
  gzclose(file);
  if (raw && !bytes.empty()) throw Error(where, "name ends in .gz but the file is not gzip-compressed");
  return bytes;
}

std::vector<uint8_t> read_raw(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw Error(path.string(), "cannot open for reading");
  const auto size = static_cast<std::streamsize>(in.tellg());
  std::vector<uint8_t> bytes(static_cast<size_t>(std::max<std::streamsize>(size, 0)));
  in.seekg(0);
  if (!in.read(reinterpret_cast<char*>(bytes.data()), size)) throw Error(path.string(), "read failed");
  return bytes;
}

}  // namespace

std::vector<uint8_t> read_file_bytes(const std::filesystem::path& path, const std::string& expected) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw Error(path.string(), "file not found");
  if (std::filesystem::is_directory(path, ec)) throw Error(path.string(), "is a directory, expected " + expected);
  return ends_with_gz(path) ? read_gzip(path) : read_raw(path);
}

bool can_create_in(const std::filesystem::path& folder) {
  std::error_code ec;
  return std::filesystem::is_directory(folder, ec) && access(folder.c_str(), W_OK) == 0;
}

bool can_write_file(const std::filesystem::path& file) {
  std::error_code ec;
  if (std::filesystem::exists(file, ec)) return access(file.c_str(), W_OK) == 0;
  std::filesystem::path folder = std::filesystem::absolute(file, ec).parent_path();
  while (!std::filesystem::exists(folder, ec) && folder.has_relative_path()) folder = folder.parent_path();
  return can_create_in(folder);
}

void write_file_atomically(const std::filesystem::path& path, const std::string& text) {
  const auto temporary = path.string() + ".tmp" + std::to_string(getpid());
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << text;
    out.flush();
    if (!out) throw Error(temporary, "cannot write (disk full or directory not writable?)", Error::Kind::failure);
  }
  std::error_code ec;
  std::filesystem::rename(temporary, path, ec);
  if (ec) {
    const std::string why = ec.message();
    std::filesystem::remove(temporary, ec);  // leave nothing half-done behind
    throw Error(path.string(), "cannot rename " + temporary + " into place: " + why, Error::Kind::failure);
  }
}

}  // namespace nas
