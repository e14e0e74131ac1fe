# A module whose call leaves a process in a session of its own and returns its pid.
# Without a PID namespace (Landlock), killing the worker's process group misses it;
# only a uid of the worker's own lets the grader find it (grader/sandbox/proxy.py, _kill_uid).
import subprocess


def leave_daemon(seconds: int = 60) -> int:
    child = subprocess.Popen(["sleep", str(seconds)], start_new_session=True,
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return child.pid
