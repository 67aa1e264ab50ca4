// File: tests/testing/child_process.h
//
// Child processes for interop and fault tests: peers in other languages, and
// our own binaries run in a process of their own so a test can kill them.
//
// `ChildProcess` starts a program with an explicit argument list and
// environment, in its own process group, with stdin and stdout on pipes the
// test holds and stderr in a log file. Every wait has a deadline; past it, or
// when the object is destroyed first, the whole group is killed (npm and node
// start children of their own), so a hung peer can neither hang the test nor
// outlive it.
//
// Threading: a `ChildProcess` is used from one thread at a time.
//
// Example:
//
//   auto child = ChildProcess::Start({binary, "server"}, CurrentEnvironment(),
//                                    TestTempDir(), TestTempDir() + "/server.log");
//   ASSERT_TRUE(child.ok()) << child.status();
//   absl::StatusOr<std::string> line = (*child)->ReadLine(absl::Seconds(30));
//   (*child)->CloseStdin();
//   ProcessResult result = (*child)->Wait(absl::Seconds(30));

#ifndef TRACEBRIDGE_TESTS_TESTING_CHILD_PROCESS_H_
#define TRACEBRIDGE_TESTS_TESTING_CHILD_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace tracebridge {
namespace testing {

// How a child process ended.
struct ProcessResult {
  bool timed_out = false;  // killed at the deadline
  int exit_code = -1;      // -1 unless it exited normally
  std::string log;         // the stderr log (for RunProgram: stdout too)
};

class ChildProcess {
 public:
  // Starts `argv` (argv[0] is a path, not looked up) in `cwd` with exactly
  // `env`. stderr goes to `log_path`.
  static absl::StatusOr<std::unique_ptr<ChildProcess>> Start(const std::vector<std::string>& argv,
                                                             const std::vector<std::string>& env,
                                                             const std::string& cwd,
                                                             const std::string& log_path);

  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  // Kills the group if the child is still running, and reaps it.
  ~ChildProcess();

  pid_t pid() const { return pid_; }

  // The next line of the child's stdout, without the newline. DeadlineExceeded
  // after `timeout`; OutOfRange when stdout closed first.
  absl::StatusOr<std::string> ReadLine(absl::Duration timeout);

  // Closes the child's stdin (the peers take end of input as "finish up").
  void CloseStdin();

  // SIGKILLs the child's process group: the abrupt death of a peer. Reap it
  // with `Wait` afterwards.
  void Kill();

  // Waits for the child to exit, killing its group after `timeout`. Output
  // still unread on stdout is discarded.
  ProcessResult Wait(absl::Duration timeout);

 private:
  ChildProcess(pid_t pid, int stdin_fd, int stdout_fd, std::string log_path)
      : pid_(pid), stdin_fd_(stdin_fd), stdout_fd_(stdout_fd), log_path_(std::move(log_path)) {}

  const pid_t pid_;
  int stdin_fd_;
  int stdout_fd_;
  const std::string log_path_;
  std::string buffered_;  // stdout read past the last returned line
  bool reaped_ = false;
  ProcessResult result_;
};

// Runs `argv` to completion (stdout and stderr both into `log_path`), killing
// its group after `timeout`. A child that could not start has exit_code -1
// and the reason in `log`.
ProcessResult RunProgram(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                         const std::string& cwd, const std::string& log_path,
                         absl::Duration timeout);

// `name` on $PATH (Bazel's test PATH is minimal) or in /usr/local/bin,
// /usr/bin, /bin; empty when not found.
std::string FindProgram(const std::string& name);

// The contents of `path` (empty if unreadable).
std::string ReadFileOrEmpty(const std::string& path);

// This process's environment, for a child that should see the same (our own
// binaries under a sanitizer read its options from there).
std::vector<std::string> CurrentEnvironment();

}  // namespace testing
}  // namespace tracebridge

#endif  // TRACEBRIDGE_TESTS_TESTING_CHILD_PROCESS_H_
