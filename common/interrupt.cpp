#include "common/interrupt.h"

#include <unistd.h>

#include <atomic>
#include <csignal>

namespace nas {

namespace {
std::atomic<bool> requested{false};

extern "C" void on_signal(int) {
  if (requested.exchange(true)) _exit(130);  // second signal: the user means it
  constexpr char kMessage[] = "\ninterrupt: finishing the current step; press Ctrl-C again to quit at once\n";
  [[maybe_unused]] auto ignored = write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
}
}  // namespace

void install_interrupt_handler() {
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
}

bool interrupt_requested() { return requested.load(std::memory_order_relaxed); }

void run_to_the_end(const std::function<void()>& body, const std::function<void()>& on_interrupt,
                    const std::function<void(const std::string& status, const std::string& error)>& finish) {
  try {
    body();
  } catch (const Interrupted&) {
    on_interrupt();
    finish("interrupted", "");
    return;
  } catch (const std::exception& e) {
    finish("failed", e.what());
    throw;
  }
  finish("done", "");
}

}  // namespace nas
