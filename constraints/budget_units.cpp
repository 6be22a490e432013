#include "constraints/budget_units.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <utility>
#include <vector>

#include "common/error.h"

namespace nas::constraints {

namespace {

struct Unit {
  const char* suffix;  // matched case-insensitively
  double scale;
};

// Splits "1.5MiB" into 1.5 and "MiB"; the number must be finite and positive.
std::pair<double, std::string> split(std::string_view text, std::string_view what, const std::string& forms) {
  const auto fail = [&](const std::string& why) -> Error {
    return Error(what, why + " (got '" + std::string(text) + "', expected " + forms + ")");
  };
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + i, value);
  if (i == 0 || ec != std::errc() || end != text.data() + i) throw fail("not a number with a unit");
  if (!(value > 0) || !std::isfinite(value)) throw fail("must be positive");
  std::string unit(text.substr(i));
  if (!unit.empty() && unit.front() == ' ') unit.erase(0, 1);
  return {value, unit};
}

double scaled(std::string_view text, std::string_view what, const std::vector<Unit>& units, const std::string& forms,
              bool unit_required) {
  const auto [value, unit] = split(text, what, forms);
  if (unit.empty() && !unit_required) return value;
  for (const Unit& u : units) {
    const std::string_view suffix = u.suffix;
    if (unit.size() != suffix.size()) continue;
    bool same = true;
    for (size_t i = 0; i < unit.size(); ++i)
      same = same && std::tolower(static_cast<unsigned char>(unit[i])) == std::tolower(static_cast<unsigned char>(suffix[i]));
    if (same) return value * u.scale;
  }
  throw Error(what, (unit.empty() ? std::string("needs a unit") : "unknown unit '" + unit + "'") + " (got '" +
                        std::string(text) + "', expected " + forms + ")");
}

}  // namespace

int64_t parse_bytes(std::string_view text, std::string_view what) {
  static const std::vector<Unit> units = {{"B", 1},          {"K", 1024},          {"KB", 1024},
                                          {"KiB", 1024},     {"M", 1024.0 * 1024}, {"MB", 1024.0 * 1024},
                                          {"MiB", 1024.0 * 1024}};
  const double bytes = scaled(text, what, units, "a size such as 256K, 1.5M or 65536 (B, K/KB/KiB, M/MB/MiB)", false);
  if (bytes != std::floor(bytes))
    throw Error(what, "is not a whole number of bytes (got '" + std::string(text) + "')");
  return static_cast<int64_t>(bytes);
}

double parse_seconds(std::string_view text, std::string_view what) {
  static const std::vector<Unit> units = {{"us", 1e-6}, {"ms", 1e-3}, {"s", 1.0}};
  return scaled(text, what, units, "a time such as 50ms, 800us or 1.5s (us, ms, s)", true);
}

double parse_joules(std::string_view text, std::string_view what) {
  static const std::vector<Unit> units = {{"uJ", 1e-6}, {"mJ", 1e-3}, {"J", 1.0}};
  return scaled(text, what, units, "an energy such as 2mJ, 500uJ or 1J (uJ, mJ, J)", true);
}

double parse_count(std::string_view text, std::string_view what) {
  static const std::vector<Unit> units = {{"K", 1e3}, {"M", 1e6}, {"G", 1e9}};
  return scaled(text, what, units, "a count such as 500K, 2.5M or 120000 (K, M, G: powers of 1000)", false);
}

std::string format_bytes(int64_t bytes) {
  char text[32];
  if (bytes >= 1024 * 1024) {
    std::snprintf(text, sizeof text, "%.4g MiB", static_cast<double>(bytes) / (1024.0 * 1024));
  } else if (bytes >= 1024) {
    std::snprintf(text, sizeof text, "%.4g KiB", static_cast<double>(bytes) / 1024.0);
  } else {
    std::snprintf(text, sizeof text, "%lld B", static_cast<long long>(bytes));
  }
  return text;
}

std::string format_seconds(double seconds) {
  char text[32];
  if (seconds >= 1.0) {
    std::snprintf(text, sizeof text, "%.4g s", seconds);
  } else if (seconds >= 1e-3) {
    std::snprintf(text, sizeof text, "%.4g ms", seconds * 1e3);
  } else {
    std::snprintf(text, sizeof text, "%.4g us", seconds * 1e6);
  }
  return text;
}

std::string format_count(double count) {
  char text[32];
  if (count >= 1e6) {
    std::snprintf(text, sizeof text, "%.4g M", count / 1e6);
  } else if (count >= 1e3) {
    std::snprintf(text, sizeof text, "%.4g K", count / 1e3);
  } else {
    std::snprintf(text, sizeof text, "%.0f", count);
  }
  return text;
}

}  // namespace nas::constraints
