#ifndef POSEFIX_MODEL_TRAINING_PROGRESS_H_
#define POSEFIX_MODEL_TRAINING_PROGRESS_H_

// The trainer's progress output (torch-free): a progress bar with the
// running loss, the speed and the time left, as one line rewritten in place
// on a terminal, or elsewhere (a log file, a test's stream) a plain line
// every few steps and at each epoch's end.

#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>

namespace posefix {

// "42s", "3m07s", "2h05m"; "?" for a negative or non-finite time.
std::string FormatDuration(double seconds);

// Whether `stream` writes to a terminal (std::cout, std::cerr or std::clog on
// a TTY); any other stream is not one.
bool IsTerminal(const std::ostream* stream);

// "epoch 2/10 [==========          ] 5/10 loss 0.1234  85.0 samples/s  3m07s left"
// (`epoch` 0-based, `step` done steps of the epoch).
std::string ProgressLine(int epoch, int epochs, int step, int steps_per_epoch, double loss,
                         double samples_per_second, double seconds_left);

class TrainingProgress {
 public:
  // `out` may be null (no output). Off a terminal a line is written every
  // `log_every_steps` steps. The speed and the time left count from now:
  // this process's own steps.
  TrainingProgress(std::ostream* out, int log_every_steps, int epochs, int steps_per_epoch);

  // After step `step` (1-based) of `epoch`, which trained on `samples`
  // samples; `loss` is the epoch's mean so far.
  void StepDone(int epoch, int step, int64_t samples, double loss);
  // After `epoch`'s last step, `step` (short of steps_per_epoch when the
  // data ran out).
  void EpochDone(int epoch, int step, double loss);
  // A line of its own.
  void Message(const std::string& text);

 private:
  void Show(int epoch, int step, int64_t done_steps, double loss, bool end_of_epoch);

  std::ostream* out_;
  bool terminal_;
  int log_every_steps_;
  int epochs_;
  int steps_per_epoch_;
  std::chrono::steady_clock::time_point start_;
  int64_t steps_ = 0;
  int64_t samples_ = 0;
};

}  // namespace posefix

#endif  // POSEFIX_MODEL_TRAINING_PROGRESS_H_
