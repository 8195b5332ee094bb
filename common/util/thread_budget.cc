#include "common/util/thread_budget.h"

#include <ATen/Parallel.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>

namespace common::util {
namespace {

std::atomic<int> budget{0};
thread_local int applied = 0;

struct CpuTimes {
  double busy = 0, total = 0, own = 0;  // clock ticks: all cores, and this process
};

bool ReadCpuTimes(CpuTimes& t) {
  std::ifstream stat("/proc/stat");
  std::string cpu;
  double user, nice, system, idle, iowait, irq, softirq, steal;
  if (!(stat >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal) ||
      cpu != "cpu") {
    return false;
  }
  t.busy = user + nice + system + irq + softirq + steal;
  t.total = t.busy + idle + iowait;
  std::ifstream self("/proc/self/stat");
  std::string line;
  std::getline(self, line);
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  std::istringstream rest(line.substr(line.rfind(')') + 2));
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stod(field);
    if (i == 15) stime = std::stod(field);
  }
  t.own = utime + stime;
  return true;
}

// Runnable tasks other than this one, from the 4th field of /proc/loadavg ("2/345").
int OtherRunnable() {
  std::ifstream in("/proc/loadavg");
  double a, b, c;
  std::string running;
  if (!(in >> a >> b >> c >> running)) return 0;
  return std::max(0, std::atoi(running.c_str()) - 1);
}

void Sample(int cores, int max_threads) {
  CpuTimes before;
  if (!ReadCpuTimes(before)) return;
  while (true) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    CpuTimes now;
    if (!ReadCpuTimes(now)) return;
    const double ticks = now.total - before.total;
    if (ticks > 0) {
      const double others =
          std::max(0.0, (now.busy - before.busy) - (now.own - before.own)) / ticks * cores;
      budget.store(ThreadsFor(others, cores, max_threads));
    }
    before = now;
  }
}

}  // namespace

int ThreadsFor(double others_busy, int cores, int max_threads) {
  const int idle = static_cast<int>(std::lround(static_cast<double>(cores) - others_busy));
  return std::clamp(idle, 1, std::max(1, max_threads));
}

void StartAdaptiveThreads(int max_threads) {
  static std::once_flag once;
  std::call_once(once, [max_threads] {
    const int cores = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
    budget.store(ThreadsFor(OtherRunnable(), cores, max_threads));
    std::thread(Sample, cores, max_threads).detach();
  });
  ApplyThreadBudget();
}

void ApplyThreadBudget() {
  const int want = budget.load(std::memory_order_relaxed);
  if (want == 0 || want == applied) return;
  at::set_num_threads(want);
  applied = want;
}

int ThreadBudget() { return budget.load(); }

}  // namespace common::util
