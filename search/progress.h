// Progress of long work on stderr: a live bar on a terminal, one line per epoch otherwise (logs and CI), nothing
// when quiet (--json keeps stdout clean either way).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace nas::search {

class Progress {
 public:
  enum class Mode { bar, lines, quiet };
  static Mode detect(bool quiet);  // bar when stderr is a terminal

  explicit Progress(Mode mode) : mode_(mode) {}

  void begin_epoch(int32_t epoch, int32_t epochs, int32_t steps);
  // Called after each step; redraws at most ten times a second.
  void step(int32_t step, double loss, double accuracy, int64_t images_done);
  // Ends the epoch's line with its summary.
  void end_epoch(const std::string& summary);
  void message(const std::string& text);
  // A label printed before "epoch i/n" (e.g. "search"), for commands with several phases.
  void set_phase(std::string phase) { phase_ = std::move(phase); }

 private:
  std::string prefix() const { return phase_.empty() ? "" : phase_ + " "; }

  Mode mode_;
  std::string phase_;
  int32_t epoch_ = 0, epochs_ = 0, steps_ = 0;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace nas::search
