// A zip archive built in memory (PKWARE APPNOTE 6.3, no zip64, no encryption), so nas export can hand out an Arduino
// library as one .zip without an external zip program on the user's machine. Each file is deflated with zlib when
// that makes it smaller and stored otherwise. Every entry carries the same fixed time stamp (1980-01-01 00:00, the
// earliest zip can record), so the same files give the same bytes.
#pragma once

#include <string>
#include <vector>

namespace nas::deploy {

struct ZipEntry {
  std::string name;      // path inside the archive with '/' separators; ending in '/' makes it a directory
  std::string contents;  // bytes of a file; empty for a directory
};

// The whole archive, entries in the order given. Throws nas::Error (failure) for a name that is empty, absolute or
// contains "..", a directory with contents, or an archive too large for zip without zip64 (4 GiB, 65535 entries).
std::string zip_archive(const std::vector<ZipEntry>& entries);

}  // namespace nas::deploy
