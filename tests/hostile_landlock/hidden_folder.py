# Fills a folder of mode 0300 in the scratch (writable and searchable by its owner, not listable) past the disk
# limit; returns how many MB it wrote before it was stopped, if it was not.
import os


def fill(megabytes):
    os.mkdir("hidden", 0o700)
    made_unlistable = False
    written = 0
    try:
        for i in range(megabytes // 8):
            with open(os.path.join("hidden", f"part-{i}"), "wb") as stream:
                stream.write(b"\1" * (8 << 20))
            written += 8
            if not made_unlistable:
                made_unlistable = True
                try:
                    os.chmod("hidden", 0o300)
                except OSError:  # refused where the worker's identity owns files outside its scratch
                    os.rename("hidden", "was-hidden")
                    os.mkdir("hidden", 0o300)  # made unlistable from the start instead: mkdir is not chmod
    except OSError:
        pass
    return written
