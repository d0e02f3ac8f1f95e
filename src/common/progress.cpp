// Terminal progress bar (see progress.hpp).
#include "fhenn/common/progress.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace fhenn {
namespace {

bool progress_wanted() {
  if (const char* forced = std::getenv("FHENN_PROGRESS")) return std::string_view(forced) == "1";
  return isatty(STDERR_FILENO) != 0;
}

}  // namespace

ProgressBar::ProgressBar(std::string label, size_t total)
    : label_(std::move(label)),
      total_(total),
      enabled_(progress_wanted()),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

ProgressBar::~ProgressBar() { finish(); }

void ProgressBar::advance(size_t steps) {
  std::lock_guard lock(mutex_);
  done_ += steps;
  const auto now = std::chrono::steady_clock::now();
  if (enabled_ && (now - last_draw_ > std::chrono::milliseconds(100) || done_ >= total_)) {
    last_draw_ = now;
    draw(false);
  }
}

void ProgressBar::set_note(std::string note) {
  std::lock_guard lock(mutex_);
  note_ = std::move(note);
}

void ProgressBar::finish() {
  std::lock_guard lock(mutex_);
  if (finished_) return;
  finished_ = true;
  if (enabled_) {
    draw(true);
    std::fputc('\n', stderr);
  }
}

std::string ProgressBar::format_duration(double seconds) {
  char buf[32];
  if (seconds < 1) {
    std::snprintf(buf, sizeof buf, "%.0fms", seconds * 1000);
  } else if (seconds < 60) {
    std::snprintf(buf, sizeof buf, "%.1fs", seconds);
  } else if (seconds < 3600) {
    std::snprintf(buf, sizeof buf, "%dm%02ds", static_cast<int>(seconds) / 60, static_cast<int>(seconds) % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%dh%02dm", static_cast<int>(seconds) / 3600, static_cast<int>(seconds) % 3600 / 60);
  }
  return buf;
}

void ProgressBar::draw(bool final_draw) {
  constexpr int kWidth = 28;
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double fraction = total_ == 0 ? 1.0 : static_cast<double>(done_) / static_cast<double>(total_);
  const int filled = static_cast<int>(fraction * kWidth);
  std::string bar(static_cast<size_t>(filled), '#');
  bar.append(static_cast<size_t>(kWidth - filled), '.');
  const double rate = elapsed > 0 ? static_cast<double>(done_) / elapsed : 0.0;
  std::string timing;
  if (final_draw) {
    timing = "done in " + format_duration(elapsed);
  } else if (done_ > 0) {
    timing = "eta " + format_duration(elapsed / static_cast<double>(done_) * static_cast<double>(total_ - done_));
  } else {
    timing = "eta ?";
  }
  std::fprintf(stderr, "\r\033[K%s [%s] %zu/%zu  %.1f/s  %s  %s", label_.c_str(), bar.c_str(), done_, total_, rate,
               timing.c_str(), note_.c_str());
  std::fflush(stderr);
}

}  // namespace fhenn
