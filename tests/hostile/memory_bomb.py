# Allocates memory until something gives.


def place(workload):
    hog = []
    while True:
        hog.append(bytearray(64 * 1024 * 1024))
