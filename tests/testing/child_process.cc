// File: tests/testing/child_process.cc
//
// Child processes with deadlines: posix_spawn into a process group of their
// own, pipes for stdin and stdout, and a reaper that kills on overrun.

#include "tests/testing/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

extern char** environ;

namespace tracebridge {
namespace testing {
namespace {

void CloseFd(int* fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

// Spawns `argv` in its own process group. `stdin_fd`/`stdout_fd` are the
// child's ends (or -1 for /dev/null and `log_path` respectively); stderr
// always goes to `log_path`.
absl::StatusOr<pid_t> Spawn(const std::vector<std::string>& argv,
                            const std::vector<std::string>& env, const std::string& cwd,
                            const std::string& log_path, int stdin_fd, int stdout_fd) {
  if (argv.empty()) return absl::InvalidArgumentError("empty argv");
  std::vector<char*> c_argv;
  for (const std::string& arg : argv) c_argv.push_back(const_cast<char*>(arg.c_str()));
  c_argv.push_back(nullptr);
  std::vector<char*> c_env;
  for (const std::string& entry : env) c_env.push_back(const_cast<char*>(entry.c_str()));
  c_env.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  if (stdin_fd >= 0) {
    posix_spawn_file_actions_adddup2(&actions, stdin_fd, STDIN_FILENO);
  } else {
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  }
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (stdout_fd >= 0) {
    posix_spawn_file_actions_adddup2(&actions, stdout_fd, STDOUT_FILENO);
  } else {
    posix_spawn_file_actions_adddup2(&actions, STDERR_FILENO, STDOUT_FILENO);
  }
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attributes, 0);

  pid_t pid = -1;
  const int error =
      posix_spawn(&pid, c_argv[0], &actions, &attributes, c_argv.data(), c_env.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (error != 0) {
    return absl::InternalError(absl::StrCat("posix_spawn(", argv[0], "): ", strerror(error)));
  }
  return pid;
}

// Reaps `pid`, killing its process group if it is still running after
// `timeout`. waitpid has no timeout, so it blocks on a helper thread while
// this one waits on a condition variable with the deadline.
void ReapWithDeadline(pid_t pid, absl::Duration timeout, ProcessResult* result) {
  std::mutex mutex;
  std::condition_variable exited_cv;
  bool exited = false;
  int wait_status = 0;
  std::thread waiter([&] {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    std::lock_guard<std::mutex> lock(mutex);
    wait_status = status;
    exited = true;
    exited_cv.notify_all();
  });
  {
    std::unique_lock<std::mutex> lock(mutex);
    if (!exited_cv.wait_for(lock, absl::ToChronoNanoseconds(timeout), [&] { return exited; })) {
      result->timed_out = true;
      // The leader is not reaped yet, so its process group id is still ours.
      kill(-pid, SIGKILL);
    }
  }
  waiter.join();
  if (WIFEXITED(wait_status)) result->exit_code = WEXITSTATUS(wait_status);
}

}  // namespace

absl::StatusOr<std::unique_ptr<ChildProcess>> ChildProcess::Start(
    const std::vector<std::string>& argv, const std::vector<std::string>& env,
    const std::string& cwd, const std::string& log_path) {
  int in[2], out[2];
  // Close-on-exec on every end: the child gets its ends through dup2 (which
  // clears the flag); nothing else this process starts inherits them.
  if (pipe2(in, O_CLOEXEC) != 0) return absl::InternalError("pipe2 failed");
  if (pipe2(out, O_CLOEXEC) != 0) {
    close(in[0]);
    close(in[1]);
    return absl::InternalError("pipe2 failed");
  }
  absl::StatusOr<pid_t> pid = Spawn(argv, env, cwd, log_path, in[0], out[1]);
  close(in[0]);
  close(out[1]);
  if (!pid.ok()) {
    close(in[1]);
    close(out[0]);
    return pid.status();
  }
  return std::unique_ptr<ChildProcess>(new ChildProcess(*pid, in[1], out[0], log_path));
}

ChildProcess::~ChildProcess() {
  CloseStdin();
  CloseFd(&stdout_fd_);
  if (!reaped_) {
    kill(-pid_, SIGKILL);
    while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
}

absl::StatusOr<std::string> ChildProcess::ReadLine(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    const size_t newline = buffered_.find('\n');
    if (newline != std::string::npos) {
      std::string line = buffered_.substr(0, newline);
      buffered_.erase(0, newline + 1);
      return line;
    }
    if (stdout_fd_ < 0) return absl::OutOfRangeError("stdout closed");
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      return absl::DeadlineExceededError(
          absl::StrCat("no line on stdout within ", absl::FormatDuration(timeout)));
    }
    pollfd fd = {stdout_fd_, POLLIN, 0};
    const int ready = poll(&fd, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
    if (ready < 0 && errno != EINTR) return absl::InternalError("poll failed");
    if (ready <= 0) continue;
    char chunk[4096];
    const ssize_t n = read(stdout_fd_, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      CloseFd(&stdout_fd_);
      return absl::OutOfRangeError(absl::StrCat("stdout closed; unterminated: ", buffered_));
    }
    buffered_.append(chunk, static_cast<size_t>(n));
  }
}

void ChildProcess::CloseStdin() { CloseFd(&stdin_fd_); }

void ChildProcess::Kill() {
  if (!reaped_) kill(-pid_, SIGKILL);
}

ProcessResult ChildProcess::Wait(absl::Duration timeout) {
  if (!reaped_) {
    // Unread stdout could fill the pipe and stall a child that is trying to
    // exit; closing our end turns its writes into EPIPE instead.
    CloseFd(&stdout_fd_);
    ReapWithDeadline(pid_, timeout, &result_);
    reaped_ = true;
    result_.log = ReadFileOrEmpty(log_path_);
  }
  return result_;
}

ProcessResult RunProgram(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                         const std::string& cwd, const std::string& log_path,
                         absl::Duration timeout) {
  ProcessResult result;
  absl::StatusOr<pid_t> pid = Spawn(argv, env, cwd, log_path, -1, -1);
  if (!pid.ok()) {
    result.log = pid.status().ToString();
    return result;
  }
  ReapWithDeadline(*pid, timeout, &result);
  result.log = ReadFileOrEmpty(log_path);
  return result;
}

std::string FindProgram(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::vector<std::string> dirs =
      absl::StrSplit(path != nullptr ? path : "", ':', absl::SkipEmpty());
  for (const char* dir : {"/usr/local/bin", "/usr/bin", "/bin"}) dirs.push_back(dir);
  for (const std::string& dir : dirs) {
    const std::string path = dir + "/" + name;
    if (access(path.c_str(), X_OK) == 0) return path;
  }
  return "";
}

std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> CurrentEnvironment() {
  std::vector<std::string> env;
  for (char** entry = environ; *entry != nullptr; ++entry) env.emplace_back(*entry);
  return env;
}

}  // namespace testing
}  // namespace tracebridge
