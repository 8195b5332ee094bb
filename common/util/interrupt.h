// SIGINT / SIGTERM as a request to stop cleanly while a checkpointing loop runs: the loop
// finishes the current step, writes a checkpoint and returns InterruptedError; RunMain prints its
// one line ("interrupted at ...; --resume continues") and exits 128 + the signal (130, 143).
// Outside such a loop the signals keep their default action (the process ends at once), and a
// second signal inside one ends it at once too.
//
// Example:
//   ScopedInterruptHandlers handlers;  // common::train::RunEpochs holds one
//   for (...) { Step(); if (InterruptRequested()) return InterruptedError("at step 12"); }
#ifndef COMMON_UTIL_INTERRUPT_H_
#define COMMON_UTIL_INTERRUPT_H_

#include <signal.h>

#include <string>

#include "absl/status/status.h"

namespace common::util {

// Catches SIGINT and SIGTERM for its lifetime, then restores the previous actions.
class ScopedInterruptHandlers {
 public:
  ScopedInterruptHandlers();
  ~ScopedInterruptHandlers();
  ScopedInterruptHandlers(const ScopedInterruptHandlers&) = delete;
  ScopedInterruptHandlers& operator=(const ScopedInterruptHandlers&) = delete;

 private:
  struct sigaction old_int_, old_term_;
};

// True once SIGINT or SIGTERM arrived (or RequestInterrupt was called).
bool InterruptRequested();
// The signal that asked to stop (SIGINT, SIGTERM), 0 when none did.
int InterruptSignal();
// What the handler does, without a signal (for tests); ClearInterruptForTesting undoes it.
void RequestInterrupt(int signal);
// Stop as if `signal` had arrived, because another rank of a data-parallel job got it; unlike
// RequestInterrupt, the process's own signal arriving later still counts as the first (it does
// not end the process at once).
void AdoptInterrupt(int signal);
void ClearInterruptForTesting();

// Aborted "interrupted (SIGTERM) <where>; <how_to_continue>", recognised by IsInterrupted.
absl::Status InterruptedError(const std::string& where,
                              const std::string& how_to_continue = "--resume continues");
bool IsInterrupted(const absl::Status& status);

// The exit status for an interrupted run: 128 + the signal (130 for SIGINT, 143 for SIGTERM).
int InterruptExitCode();

}  // namespace common::util

#endif  // COMMON_UTIL_INTERRUPT_H_
