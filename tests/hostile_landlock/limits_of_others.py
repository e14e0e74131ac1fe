# Tries to change the resource limits of another process (the trusted side, another learner's worker):
# returns {target: errno} (0: it worked). The trusted test reads the target's limits itself afterwards.
import os
import resource


def lower(victim):
    found = {}
    for name, pid in (("victim", victim), ("parent", os.getppid())):
        try:
            resource.prlimit(pid, resource.RLIMIT_NOFILE, (7, 7))
            found[name] = 0
        except OSError as exc:
            found[name] = exc.errno
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(soft, 512), hard))  # its own limits stay its to lower
    found["own"] = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return found
