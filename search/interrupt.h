// Ctrl-C and SIGTERM during long work: the first signal asks the driver to stop after the current step and record
// the run as interrupted (every finished epoch is already stored); a second one exits at once.
#pragma once

#include <stdexcept>

namespace nas::search {

void install_interrupt_handler();
bool interrupt_requested();

// Thrown by the driver's step callback when an interrupt was requested.
struct Interrupted : std::runtime_error {
  Interrupted() : std::runtime_error("interrupted") {}
};

}  // namespace nas::search
