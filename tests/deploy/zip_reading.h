// Reads a zip archive back for the tests of deploy/zip_writer.h and deploy/folder_package.h, by the central
// directory as unzip programs do, and checks what a reader relies on: the end record points at the central
// directory, every central entry at a local header with the same name, sizes and CRC-32 that match the data, which is
// stored or raw deflate. Written from APPNOTE 6.3 separately from the writer, so the two do not share a mistake. A
// header with inline functions, not a helper .cpp, so it adds nothing to the other deploy tests' link.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace nas::deploy::testing {

struct ZipItem {
  std::string name;
  std::string contents;
  uint16_t method = 0;               // 0 stored, 8 deflated
  uint32_t external_attributes = 0;  // Unix mode in the high half
};

inline uint32_t zip_u16(const std::string& z, size_t at) {
  if (at + 2 > z.size()) throw std::runtime_error("zip: truncated at " + std::to_string(at));
  return static_cast<uint32_t>(static_cast<uint8_t>(z[at]) | static_cast<uint8_t>(z[at + 1]) << 8);
}
inline uint32_t zip_u32(const std::string& z, size_t at) { return zip_u16(z, at) | zip_u16(z, at + 2) << 16; }

inline std::string zip_inflate(const std::string& deflated, size_t size) {
  std::string out(size, '\0');
  z_stream stream{};
  if (inflateInit2(&stream, -MAX_WBITS) != Z_OK) throw std::runtime_error("zip: inflateInit2 failed");
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(deflated.data()));
  stream.avail_in = static_cast<uInt>(deflated.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  const int result = inflate(&stream, Z_FINISH);
  const uLong produced = stream.total_out, consumed = stream.total_in;
  inflateEnd(&stream);
  if (result != Z_STREAM_END || produced != size || consumed != deflated.size())
    throw std::runtime_error("zip: deflate data does not inflate to the recorded size");
  return out;
}

// Every entry in central-directory order. Throws std::runtime_error saying what does not hold.
inline std::vector<ZipItem> read_zip(const std::string& z) {
  if (z.size() < 22 || zip_u32(z, z.size() - 22) != 0x06054b50)
    throw std::runtime_error("zip: no end of central directory record (the writer adds no comment)");
  const size_t end = z.size() - 22;
  const uint32_t count = zip_u16(z, end + 10), central_size = zip_u32(z, end + 12);
  const uint32_t central_offset = zip_u32(z, end + 16);
  if (zip_u16(z, end + 8) != count || static_cast<size_t>(central_offset) + central_size != end)
    throw std::runtime_error("zip: the end record does not describe the central directory before it");
  std::vector<ZipItem> items;
  size_t at = central_offset;
  for (uint32_t i = 0; i < count; ++i) {
    if (zip_u32(z, at) != 0x02014b50) throw std::runtime_error("zip: bad central header " + std::to_string(i));
    ZipItem item;
    item.method = static_cast<uint16_t>(zip_u16(z, at + 10));
    const uint32_t crc = zip_u32(z, at + 16), stored_size = zip_u32(z, at + 20), size = zip_u32(z, at + 24);
    const uint32_t name_length = zip_u16(z, at + 28);
    const uint32_t skip = zip_u16(z, at + 30) + zip_u16(z, at + 32);  // extra field and comment
    item.external_attributes = zip_u32(z, at + 38);
    const uint32_t local = zip_u32(z, at + 42);
    item.name = z.substr(at + 46, name_length);
    at += 46 + name_length + skip;

    if (zip_u32(z, local) != 0x04034b50 || z.compare(local + 30, zip_u16(z, local + 26), item.name) != 0)
      throw std::runtime_error("zip: the local header of " + item.name + " does not match its central entry");
    if (zip_u32(z, local + 14) != crc || zip_u32(z, local + 18) != stored_size || zip_u32(z, local + 22) != size)
      throw std::runtime_error("zip: local and central sizes or CRC of " + item.name + " differ");
    const size_t data = local + 30 + zip_u16(z, local + 26) + zip_u16(z, local + 28);
    if (data + stored_size > central_offset) throw std::runtime_error("zip: data of " + item.name + " overruns");
    const std::string raw = z.substr(data, stored_size);
    if (item.method == 0) {
      item.contents = raw;
    } else if (item.method == 8) {
      item.contents = zip_inflate(raw, size);
    } else {
      throw std::runtime_error("zip: method " + std::to_string(item.method) + " of " + item.name);
    }
    if (item.contents.size() != size ||
        crc32(0L, reinterpret_cast<const Bytef*>(item.contents.data()), static_cast<uInt>(size)) != crc)
      throw std::runtime_error("zip: size or CRC-32 of " + item.name + " does not match its data");
    items.push_back(std::move(item));
  }
  if (at != end) throw std::runtime_error("zip: central directory entries do not fill its recorded size");
  return items;
}

}  // namespace nas::deploy::testing
