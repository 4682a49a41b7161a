#include "posefix/model/training_progress.h"

#include <unistd.h>

#include <cmath>
#include <iostream>

#include "absl/strings/str_format.h"
#include "posefix/core/elapsed.h"

namespace posefix {
namespace {

constexpr int kBarWidth = 20;

}  // namespace

std::string FormatDuration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const int64_t s = static_cast<int64_t>(seconds + 0.5);
  if (s >= 3600) return absl::StrFormat("%dh%02dm", s / 3600, (s % 3600) / 60);
  if (s >= 60) return absl::StrFormat("%dm%02ds", s / 60, s % 60);
  return absl::StrFormat("%ds", s);
}

bool IsTerminal(const std::ostream* stream) {
  if (stream == &std::cerr || stream == &std::clog) return isatty(STDERR_FILENO);
  if (stream == &std::cout) return isatty(STDOUT_FILENO);
  return false;
}

std::string ProgressLine(int epoch, int epochs, int step, int steps_per_epoch, double loss,
                         double samples_per_second, double seconds_left) {
  const int filled = steps_per_epoch > 0 ? kBarWidth * step / steps_per_epoch : kBarWidth;
  const std::string bar = std::string(filled, '=') + std::string(kBarWidth - filled, ' ');
  return absl::StrFormat("epoch %d/%d [%s] %d/%d loss %.4f  %.1f samples/s  %s left", epoch + 1,
                         epochs, bar, step, steps_per_epoch, loss, samples_per_second,
                         FormatDuration(seconds_left));
}

TrainingProgress::TrainingProgress(std::ostream* out, int log_every_steps, int epochs,
                                   int steps_per_epoch)
    : out_(out),
      terminal_(IsTerminal(out)),
      log_every_steps_(log_every_steps),
      epochs_(epochs),
      steps_per_epoch_(steps_per_epoch),
      start_(std::chrono::steady_clock::now()) {}

void TrainingProgress::StepDone(int epoch, int step, int64_t samples, double loss) {
  ++steps_;
  samples_ += samples;
  if (!terminal_ && step % log_every_steps_ != 0) return;
  Show(epoch, step, static_cast<int64_t>(epoch) * steps_per_epoch_ + step, loss, false);
}

void TrainingProgress::EpochDone(int epoch, int step, double loss) {
  Show(epoch, step, static_cast<int64_t>(epoch + 1) * steps_per_epoch_, loss, true);
}

void TrainingProgress::Message(const std::string& text) {
  if (out_ != nullptr) *out_ << text << '\n' << std::flush;
}

void TrainingProgress::Show(int epoch, int step, int64_t done_steps, double loss,
                            bool end_of_epoch) {
  if (out_ == nullptr) return;
  const double seconds = SecondsSince(start_);
  const double rate = seconds > 0 ? samples_ / seconds : 0;
  const double seconds_per_step = steps_ > 0 ? seconds / steps_ : 0;
  const int64_t total_steps = static_cast<int64_t>(epochs_) * steps_per_epoch_;
  const double left = seconds_per_step * static_cast<double>(total_steps - done_steps);
  const std::string line = ProgressLine(epoch, epochs_, step, steps_per_epoch_, loss, rate, left);
  if (terminal_) {
    *out_ << '\r' << line << "\x1b[K";
    if (end_of_epoch) *out_ << '\n';
  } else {
    *out_ << line << '\n';
  }
  out_->flush();
}

}  // namespace posefix
