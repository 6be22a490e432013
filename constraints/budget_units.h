// Budgets as users type them: sizes in B, K/KB/KiB, M/MB/MiB (all powers of 1024, as microcontroller datasheets
// count SRAM and flash), times in us, ms, s, energies in uJ, mJ, J, counts (MACs, parameters) with K, M, G (powers
// of 1000). A time or energy without a unit is refused (is "50" 50 ms or 50 s?); a size or count without one is
// taken as it is.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace nas::constraints {

// Each throws nas::Error (bad input) naming `what` (e.g. "--max-ram"), the text, and the accepted forms.
int64_t parse_bytes(std::string_view text, std::string_view what);
double parse_seconds(std::string_view text, std::string_view what);
double parse_joules(std::string_view text, std::string_view what);
// A count (MACs, parameters): a plain number or one with K, M, G (powers of 1000, as MAC and parameter counts are
// quoted in papers), e.g. 2.5M.
double parse_count(std::string_view text, std::string_view what);

// For reports: "256 KiB", "1.5 MiB", "50 ms", "800 us".
std::string format_bytes(int64_t bytes);
std::string format_seconds(double seconds);
std::string format_count(double count);  // "812", "43.2 K", "2.51 M"

}  // namespace nas::constraints
