// Ctrl-C and SIGTERM during long work: the first signal asks the driver to stop after the current step and record
// the run as interrupted (every finished epoch is already stored); a second one exits at once.
#pragma once

#include <functional>
#include <stdexcept>
#include <string>

namespace nas {

void install_interrupt_handler();
bool interrupt_requested();

// Thrown by the driver's step callback when an interrupt was requested.
struct Interrupted : std::runtime_error {
  Interrupted() : std::runtime_error("interrupted") {}
};

// What every driver does around a run's work: runs `body`, then ends the run through `finish(status, error)`:
// "done"; "interrupted" after an interrupt (once `on_interrupt` has said so), returning normally; or "failed" with
// the error, which is then rethrown.
void run_to_the_end(const std::function<void()>& body, const std::function<void()>& on_interrupt,
                    const std::function<void(const std::string& status, const std::string& error)>& finish);

}  // namespace nas
