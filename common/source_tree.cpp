#include "common/source_tree.h"

#include <cstdlib>
#include <string>

#include "common/error.h"

namespace nas {

std::filesystem::path source_tree() {
  const char* dir = std::getenv("MCUNAS_SOURCE_DIR");
  if (dir == nullptr || *dir == '\0') return MCUNAS_BUILT_SOURCE_DIR;
  std::error_code ec;
  if (!std::filesystem::is_directory(std::filesystem::path(dir) / "deploy" / "kernels", ec))
    throw Error("MCUNAS_SOURCE_DIR",
                "'" + std::string(dir) + "' is not an mcunas source tree (it has no deploy/kernels): point it at a "
                "checkout of the commit this nas was built from, or unset it");
  return dir;
}

}  // namespace nas
