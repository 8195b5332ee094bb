#include "common/util/interrupt.h"

#include <signal.h>

#include <atomic>

#include "absl/strings/str_cat.h"

namespace common::util {
namespace {

constexpr char kInterruptedPayload[] = "type.dl-papers/common.util.Interrupted";
std::atomic<int> requested{0};  // by a signal of this process (or RequestInterrupt)
std::atomic<int> adopted{0};    // from another rank (AdoptInterrupt)

extern "C" void OnSignal(int sig) {
  if (requested.exchange(sig) != 0) {  // the second one: stop now
    signal(sig, SIG_DFL);
    raise(sig);
  }
}

const char* SignalName(int sig) {
  return sig == SIGINT ? "SIGINT" : (sig == SIGTERM ? "SIGTERM" : "signal");
}

}  // namespace

ScopedInterruptHandlers::ScopedInterruptHandlers() {
  struct sigaction action = {};
  action.sa_handler = OnSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGINT, &action, &old_int_);
  sigaction(SIGTERM, &action, &old_term_);
}

ScopedInterruptHandlers::~ScopedInterruptHandlers() {
  sigaction(SIGINT, &old_int_, nullptr);
  sigaction(SIGTERM, &old_term_, nullptr);
}

bool InterruptRequested() { return InterruptSignal() != 0; }
int InterruptSignal() {
  const int own = requested.load();
  return own != 0 ? own : adopted.load();
}
void RequestInterrupt(int signal) { requested.store(signal); }
void AdoptInterrupt(int signal) { adopted.store(signal); }
void ClearInterruptForTesting() {
  requested.store(0);
  adopted.store(0);
}

absl::Status InterruptedError(const std::string& where, const std::string& how_to_continue) {
  absl::Status status = absl::AbortedError(absl::StrCat(
      "interrupted (", SignalName(InterruptSignal()), ") ", where, "; ", how_to_continue));
  status.SetPayload(kInterruptedPayload, absl::Cord("1"));
  return status;
}

bool IsInterrupted(const absl::Status& status) {
  return status.GetPayload(kInterruptedPayload).has_value();
}

int InterruptExitCode() { return 128 + (InterruptSignal() != 0 ? InterruptSignal() : SIGINT); }

}  // namespace common::util
