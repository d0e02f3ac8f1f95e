// A terminal progress bar with rate and estimated time left, for training, key generation and encrypted runs.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>

namespace fhenn {

// Draws "label [#####.....] 42/100  3.1 it/s  eta 18s  <note>" on stderr, redrawn at most 10 times a second,
// only when stderr is a terminal (or FHENN_PROGRESS=1); silent otherwise so logs and --json stay clean.
// Thread-safe: workers may call advance() concurrently.
class ProgressBar {
 public:
  ProgressBar(std::string label, size_t total);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  void advance(size_t steps = 1);
  // Free text shown after the estimate (e.g. "loss 0.31 acc 92.4%").
  void set_note(std::string note);
  void finish();
  bool enabled() const { return enabled_; }

  // Formats seconds as "850ms", "12.3s", "4m05s", "1h02m".
  static std::string format_duration(double seconds);

 private:
  void draw(bool final_draw);

  std::string label_;
  size_t total_;
  size_t done_ = 0;
  std::string note_;
  bool enabled_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
  std::mutex mutex_;
};

}  // namespace fhenn
