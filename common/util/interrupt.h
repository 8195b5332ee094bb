// SIGINT / SIGTERM as a request to stop cleanly: the training loops finish the current step,
// write a checkpoint and return InterruptedError; RunMain prints its one line ("interrupted at
// ...; --resume continues") and exits 128 + the signal (130, 143). A second signal ends the
// process at once.
//
// Example:
//   InstallInterruptHandlers();  // RunMain does this
//   for (...) { Step(); if (InterruptRequested()) return InterruptedError("at step 12"); }
#ifndef COMMON_UTIL_INTERRUPT_H_
#define COMMON_UTIL_INTERRUPT_H_

#include <string>

#include "absl/status/status.h"

namespace common::util {

void InstallInterruptHandlers();

// True once SIGINT or SIGTERM arrived (or RequestInterrupt was called).
bool InterruptRequested();
// The signal that asked to stop (SIGINT, SIGTERM), 0 when none did.
int InterruptSignal();
// What the handler does, without a signal: for tests. Clear() undoes it.
void RequestInterrupt(int signal);
void ClearInterruptForTesting();

// Aborted "interrupted (SIGTERM) <where>; --resume continues", recognised by IsInterrupted.
absl::Status InterruptedError(const std::string& where);
bool IsInterrupted(const absl::Status& status);

// The exit status for an interrupted run: 128 + the signal (130 for SIGINT, 143 for SIGTERM).
int InterruptExitCode();

}  // namespace common::util

#endif  // COMMON_UTIL_INTERRUPT_H_
