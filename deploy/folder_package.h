// A folder of generated files and the same folder as a zip, side by side: <out>/<name>/ and <out>/<name>.zip (whose
// entries all sit under <name>/). Used by nas export --format arduino (arduino_library.h). Both are built under
// hidden temporary names in <out> and renamed into place, replacing an earlier export, so a reader never finds a
// half-written folder or zip under the final names.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace nas::deploy {

struct PackageFile {
  std::string path;  // relative to the folder, '/' separators
  std::string text;  // the bytes
};

// Writes the folder and the zip and returns what now exists, relative to `out`: the folder's files, then
// "<name>.zip". On any failure it removes what it started and puts back an earlier folder it had moved aside, then
// throws nas::Error (bad_input) naming the path it could not write.
std::vector<std::string> write_folder_and_zip(const std::vector<PackageFile>& files, const std::string& name,
                                              const std::filesystem::path& out);

}  // namespace nas::deploy
