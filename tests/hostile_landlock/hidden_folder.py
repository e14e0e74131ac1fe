# Fills a folder of mode 0300 in the scratch (writable and searchable by its owner, not listable) past the disk
# limit; returns how many MB it wrote before it was stopped, if it was not.
import os


def fill(megabytes):
    os.mkdir("hidden", 0o700)
    written = 0
    try:
        for i in range(megabytes // 8):
            with open(os.path.join("hidden", f"part-{i}"), "wb") as stream:
                stream.write(b"\1" * (8 << 20))
            written += 8
            if i == 0:
                os.chmod("hidden", 0o300)
    except OSError:
        pass
    return written
