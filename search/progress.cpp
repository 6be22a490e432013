#include "search/progress.h"

#include <unistd.h>

#include <cstdio>

#include <fmt/core.h>

namespace nas::search {

Progress::Mode Progress::detect(bool quiet) {
  if (quiet) return Mode::quiet;
  return isatty(STDERR_FILENO) ? Mode::bar : Mode::lines;
}

void Progress::begin_epoch(int32_t epoch, int32_t epochs, int32_t steps) {
  epoch_ = epoch;
  epochs_ = epochs;
  steps_ = steps;
  start_ = last_draw_ = std::chrono::steady_clock::now();
}

void Progress::step(int32_t step, double loss, double accuracy, int64_t images_done) {
  if (mode_ != Mode::bar) return;
  const auto now = std::chrono::steady_clock::now();
  if (step != steps_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double rate = elapsed > 0 ? static_cast<double>(images_done) / elapsed : 0;
  const double eta = step > 0 ? elapsed * (steps_ - step) / step : 0;
  constexpr int kWidth = 24;
  const int filled = steps_ > 0 ? kWidth * step / steps_ : 0;
  fmt::print(stderr, "\r{}epoch {}/{} [{}{}] {}/{} loss {:.4f} acc {:.2f}% {:.0f} img/s ETA {:.0f}s \x1b[K", prefix(), epoch_,
             epochs_, std::string(static_cast<size_t>(filled), '#'), std::string(static_cast<size_t>(kWidth - filled), '.'),
             step, steps_, loss, 100 * accuracy, rate, eta);
  std::fflush(stderr);
}

void Progress::end_epoch(const std::string& summary) {
  if (mode_ == Mode::quiet) return;
  if (mode_ == Mode::bar) fmt::print(stderr, "\r\x1b[K");
  fmt::print(stderr, "{}epoch {}/{} {}\n", prefix(), epoch_, epochs_, summary);
}

void Progress::message(const std::string& text) {
  if (mode_ != Mode::quiet) fmt::print(stderr, "{}\n", text);
}

}  // namespace nas::search
