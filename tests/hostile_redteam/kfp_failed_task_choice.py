"""kfp_basic_pipeline, right, plus sixteen probe tasks: probe_k fails iff ord(a[0]) % 16 == k.

The tasks run in the pipeline runner on the hidden inputs. kfp.local stops at the
first failing task and the hidden test's feedback names it ("the run failed (task
probe-11)"): task names come from the compiled IR, but *which* one failed is chosen
by the hidden input, so the feedback carries 4 bits of it (more with more probes).
"""
from typing import NamedTuple

from kfp import compiler, dsl


@dsl.component(base_image="python:3.11")
def concat(a: str, b: str) -> str:
    return a + b


@dsl.component(base_image="python:3.11")
def reverse(a: str) -> NamedTuple("outputs", [("before", str), ("after", str)]):
    from collections import namedtuple

    return namedtuple("outputs", ["before", "after"])(a, a[::-1])


@dsl.component(base_image="python:3.11")
def probe_0(a: str) -> str:
    # ATTACK START
    if a and ord(a[0]) % 16 == 0:
        raise ValueError("x")
    # ATTACK END
    return a


@dsl.component(base_image="python:3.11")
def probe_1(a: str) -> str:
    # ATTACK START
    if a and ord(a[0]) % 16 == 1:
        raise ValueError("x")
    # ATTACK END
    return a


@dsl.component(base_image="python:3.11")
def probe_2(a: str) -> str:
    # ATTACK START
    if a and ord(a[0]) % 16 == 2:
        raise ValueError("x")
    # ATTACK END
    return a


@dsl.component(base_image="python:3.11")
def probe_3(a: str) -> str:
    # ATTACK START
    if a and ord(a[0]) % 16 == 3:
        raise ValueError("x")
    # ATTACK END
    return a


@dsl.component(base_image="python:3.11")
def probe_4(a: str) -> str:
    # ATTACK START
    if a and ord(a[0]) % 16 == 4:
        raise ValueError("x")
    # ATTACK END
    return a


@dsl.component(base_image="python:3.11")
def probe_5(a: str) -> str:
    # ATTACK START
    if a and ord(a[0]) % 16 == 5:
        raise ValueError("x")
    # ATTACK END
    return a


@dsl.component(base_image="python:3.11")
def probe_6(a: str) -> str:
    # ATTACK START
    if a and ord(a[0]) % 16 == 6:
        raise ValueError("x")
    # ATTACK END
    return a


@dsl.component(base_image="python:3.11")
def probe_7(a: str) -> str:
    # ATTACK START
    if a and ord(a[0]) % 16 == 7:
        raise ValueError("x")
    # ATTACK END
    return a


@dsl.component(base_image="python:3.11")
def probe_8(a: str) -> str:
    # ATTACK START
    if a and ord(a[0]) % 16 == 8:
        raise ValueError("x")
    # ATTACK END
    return a


@dsl.component(base_image="python:3.11")
def probe_9(a: str) -> str:
    # ATTACK START
    if a and ord(a[0]) % 16 == 9:
        raise ValueError("x")
    # ATTACK END
    return a


@dsl.component(base_image="python:3.11")
def probe_10(a: str) -> str:
    # ATTACK START
    if a and ord(a[0]) % 16 == 10:
        raise ValueError("x")
    # ATTACK END
    return a


@dsl.component(base_image="python:3.11")
def probe_11(a: str) -> str:
    # ATTACK START
    if a and ord(a[0]) % 16 == 11:
        raise ValueError("x")
    # ATTACK END
    return a


@dsl.component(base_image="python:3.11")
def probe_12(a: str) -> str:
    # ATTACK START
    if a and ord(a[0]) % 16 == 12:
        raise ValueError("x")
    # ATTACK END
    return a


@dsl.component(base_image="python:3.11")
def probe_13(a: str) -> str:
    # ATTACK START
    if a and ord(a[0]) % 16 == 13:
        raise ValueError("x")
    # ATTACK END
    return a


@dsl.component(base_image="python:3.11")
def probe_14(a: str) -> str:
    # ATTACK START
    if a and ord(a[0]) % 16 == 14:
        raise ValueError("x")
    # ATTACK END
    return a


@dsl.component(base_image="python:3.11")
def probe_15(a: str) -> str:
    # ATTACK START
    if a and ord(a[0]) % 16 == 15:
        raise ValueError("x")
    # ATTACK END
    return a


@dsl.pipeline(name="basic-pipeline")
def basic_pipeline(a: str = "stres", b: str = "sed"):
    previous = None
    for probe in (probe_0, probe_1, probe_2, probe_3, probe_4, probe_5, probe_6, probe_7, probe_8, probe_9,
                  probe_10, probe_11, probe_12, probe_13, probe_14, probe_15):
        task = probe(a=a)
        if previous is not None:
            task.after(previous)
        previous = task
    concat_task = concat(a=a, b=b)
    concat_task.after(previous)
    reverse(a=concat_task.output)


def compile_pipeline(package_path: str) -> str:
    compiler.Compiler().compile(pipeline_func=basic_pipeline, package_path=package_path)
    return package_path
