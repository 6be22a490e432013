#include "deploy/zip_writer.h"

#include <zlib.h>

#include <cstdint>
#include <limits>

#include "common/error.h"

namespace nas::deploy {

namespace {

// Signatures and constants of APPNOTE 6.3 (sections 4.3.7, 4.3.12, 4.3.16, 4.4).
constexpr uint32_t kLocalHeader = 0x04034b50, kCentralHeader = 0x02014b50, kEndOfCentralDirectory = 0x06054b50;
constexpr uint16_t kStored = 0, kDeflated = 8;
constexpr uint16_t kVersionNeeded = 20;                     // 2.0: deflate and directories
constexpr uint16_t kVersionMadeBy = (3 << 8) | 20;          // made on Unix, so unzip honours the modes below
constexpr uint16_t kUtf8Names = 1 << 11;                    // general purpose flag bit 11
constexpr uint16_t kDosTime = 0, kDosDate = (0 << 9) | (1 << 5) | 1;  // 1980-01-01 00:00:00
constexpr uint32_t kFileAttributes = 0100644u << 16;        // Unix mode in the high half: rw-r--r--
constexpr uint32_t kDirectoryAttributes = (040755u << 16) | 0x10;  // drwxr-xr-x, and the MS-DOS directory bit
constexpr uint64_t kMaxField32 = std::numeric_limits<uint32_t>::max();

void put16(std::string& out, uint16_t v) {
  out += static_cast<char>(v & 0xff);
  out += static_cast<char>(v >> 8);
}
void put32(std::string& out, uint32_t v) {
  put16(out, static_cast<uint16_t>(v & 0xffff));
  put16(out, static_cast<uint16_t>(v >> 16));
}

[[noreturn]] void refuse(const std::string& where, const std::string& what) {
  throw Error(where, what, Error::Kind::failure);
}

void check_name(const ZipEntry& entry) {
  const std::string& name = entry.name;
  if (name.empty() || name.front() == '/' || name.find('\\') != std::string::npos)
    refuse("zip entry '" + name + "'", "not a relative path with '/' separators");
  if (("/" + name + "/").find("/../") != std::string::npos) refuse("zip entry '" + name + "'", "contains '..'");
  if (name.back() == '/' && !entry.contents.empty()) refuse("zip entry '" + name + "'", "a directory with contents");
  if (name.size() > std::numeric_limits<uint16_t>::max()) refuse("zip entry", "name longer than 65535 bytes");
}

// Raw deflate (no zlib header: zip stores the method itself), at the best compression: generated C with long
// constant arrays shrinks several times over.
std::string deflate_raw(const std::string& data) {
  z_stream stream{};
  if (deflateInit2(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    refuse("zlib", "deflateInit2 failed");
  std::string out(deflateBound(&stream, static_cast<uLong>(data.size())), '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  const int result = deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  if (result != Z_STREAM_END) refuse("zlib", "deflate did not finish (" + std::to_string(result) + ")");
  return out;
}

bool has_non_ascii(const std::string& s) {
  for (const char ch : s)
    if (static_cast<unsigned char>(ch) >= 0x80) return true;
  return false;
}

}  // namespace

std::string zip_archive(const std::vector<ZipEntry>& entries) {
  if (entries.size() > std::numeric_limits<uint16_t>::max()) refuse("zip archive", "more than 65535 entries");
  std::string archive, central;
  for (const ZipEntry& entry : entries) {
    check_name(entry);
    if (entry.contents.size() > kMaxField32) refuse("zip entry '" + entry.name + "'", "larger than 4 GiB");
    const bool directory = entry.name.back() == '/';
    std::string deflated = directory ? std::string() : deflate_raw(entry.contents);
    const bool stored = directory || deflated.size() >= entry.contents.size();
    const std::string& data = stored ? entry.contents : deflated;
    const uint16_t method = stored ? kStored : kDeflated;
    const uint16_t flags = has_non_ascii(entry.name) ? kUtf8Names : 0;
    const auto crc = static_cast<uint32_t>(
        crc32(0L, reinterpret_cast<const Bytef*>(entry.contents.data()), static_cast<uInt>(entry.contents.size())));
    if (archive.size() > kMaxField32) refuse("zip archive", "larger than 4 GiB");
    const auto offset = static_cast<uint32_t>(archive.size());
    const auto name_bytes = static_cast<uint16_t>(entry.name.size());

    // The fields local and central headers share, in the same order (APPNOTE 4.3.7 and 4.3.12).
    auto common = [&](std::string& out) {
      put16(out, kVersionNeeded);
      put16(out, flags);
      put16(out, method);
      put16(out, kDosTime);
      put16(out, kDosDate);
      put32(out, crc);
      put32(out, static_cast<uint32_t>(data.size()));
      put32(out, static_cast<uint32_t>(entry.contents.size()));
      put16(out, name_bytes);
      put16(out, 0);  // extra field length
    };
    put32(archive, kLocalHeader);
    common(archive);
    archive += entry.name;
    archive += data;

    put32(central, kCentralHeader);
    put16(central, kVersionMadeBy);
    common(central);
    put16(central, 0);  // comment length
    put16(central, 0);  // disk number start
    put16(central, 0);  // internal attributes
    put32(central, directory ? kDirectoryAttributes : kFileAttributes);
    put32(central, offset);
    central += entry.name;
  }
  if (archive.size() + central.size() > kMaxField32) refuse("zip archive", "larger than 4 GiB");
  const auto central_offset = static_cast<uint32_t>(archive.size());
  archive += central;
  put32(archive, kEndOfCentralDirectory);
  put16(archive, 0);  // this disk
  put16(archive, 0);  // disk holding the central directory
  put16(archive, static_cast<uint16_t>(entries.size()));
  put16(archive, static_cast<uint16_t>(entries.size()));
  put32(archive, static_cast<uint32_t>(central.size()));
  put32(archive, central_offset);
  put16(archive, 0);  // comment length
  return archive;
}

}  // namespace nas::deploy
