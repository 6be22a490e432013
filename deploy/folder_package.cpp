#include "deploy/folder_package.h"

#include <fstream>
#include <set>

#include "common/error.h"
#include "deploy/codegen.h"
#include "deploy/zip_writer.h"

namespace nas::deploy {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void cannot_write(const fs::path& path, const std::string& why) {
  throw Error(path.string(), "cannot write it (" + why + "); pass --out a writable directory");
}

void write_file(const fs::path& path, const std::string& bytes) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec) cannot_write(path.parent_path(), ec.message());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.flush();
  if (!out) cannot_write(path, "directory not writable or disk full");
}

void move(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::rename(from, to, ec);
  if (ec) cannot_write(to, "moving " + from.filename().string() + " there failed: " + ec.message());
}

bool occupied(const fs::path& path) {
  std::error_code ec;
  return fs::exists(fs::symlink_status(path, ec));
}

// Every directory of the folder before the first file in it, as unzip programs and the Arduino IDE expect to
// find them: "<name>/", "<name>/src/", ...
std::vector<ZipEntry> zip_entries(const std::vector<PackageFile>& files, const std::string& name) {
  std::vector<ZipEntry> entries = {{name + "/", ""}};
  std::set<std::string> directories;
  for (const auto& file : files) {
    for (size_t slash = file.path.find('/'); slash != std::string::npos; slash = file.path.find('/', slash + 1)) {
      const std::string directory = name + "/" + file.path.substr(0, slash + 1);
      if (directories.insert(directory).second) entries.push_back({directory, ""});
    }
    entries.push_back({name + "/" + file.path, file.text});
  }
  return entries;
}

}  // namespace

std::vector<std::string> write_folder_and_zip(const std::vector<PackageFile>& files, const std::string& name,
                                              const fs::path& out) {
  make_output_dir(out);
  const fs::path folder = out / name, zip = out / (name + ".zip");
  // Hidden names beside the final ones: the same file system, so the renames below are atomic.
  const fs::path staging = out / ("." + name + ".partial"), staged_zip = out / ("." + name + ".zip.partial");
  const fs::path earlier = out / ("." + name + ".earlier");
  std::error_code ec;
  for (const auto& leftover : {staging, staged_zip, earlier}) fs::remove_all(leftover, ec);  // an interrupted run's

  bool moved_earlier = false, placed = false;
  try {
    for (const auto& file : files) write_file(staging / file.path, file.text);
    write_file(staged_zip, zip_archive(zip_entries(files, name)));
    if (occupied(folder)) {
      move(folder, earlier);
      moved_earlier = true;
    }
    move(staging, folder);
    placed = true;
    move(staged_zip, zip);
  } catch (...) {
    if (placed) fs::remove_all(folder, ec);
    if (moved_earlier) fs::rename(earlier, folder, ec);
    fs::remove_all(staging, ec);
    fs::remove(staged_zip, ec);
    throw;
  }
  fs::remove_all(earlier, ec);

  std::vector<std::string> written;
  for (const auto& file : files) written.push_back(name + "/" + file.path);
  written.push_back(name + ".zip");
  return written;
}

}  // namespace nas::deploy
