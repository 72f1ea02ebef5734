// Test helper for the unmodified-program suite (plain POSIX, no lockgraph headers): a one-way
// signal through a pipe. It orders two threads for real, but is invisible to lockgraph (a pipe is
// not synchronization it records), so the analyzer must treat both sides as concurrent — exactly
// what a "staggered" scenario needs, with no sleeping.
#pragma once

#include <unistd.h>

#include <cstdlib>

class Baton {
 public:
  Baton() {
    if (pipe(fds_) != 0) std::abort();
  }
  ~Baton() {
    close(fds_[0]);
    close(fds_[1]);
  }
  void pass() {
    char c = 1;
    if (write(fds_[1], &c, 1) != 1) std::abort();
  }
  void wait() {
    char c;
    if (read(fds_[0], &c, 1) != 1) std::abort();
  }

 private:
  int fds_[2];
};
