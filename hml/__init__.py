"""``%load_ext hml`` in a notebook: the ``%hml`` magics (``grader/learner_tools/notebook_magic.py``)."""


def load_ipython_extension(ipython) -> None:
    from grader.learner_tools.notebook_magic import load_ipython_extension as load

    load(ipython)
