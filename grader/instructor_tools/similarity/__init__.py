"""Similarity across a class: which pairs of submissions look copied (``hml similarity``).

Three signals, each compared within one exercise, pair by pair:

- **code** (``code.py``): the learner's module as intake prepares it (a notebook is converted
  first), tokenised and winnowed by copydetect; the exercise's starter is boilerplate. Tokens only:
  nothing is run, so this part needs no sandbox.
- **pipeline** (``pipelines.py``): the compiled KFP package, as a DAG of components and edges with
  every name left out. Compiling means running the learner's module, so it happens in a sandboxed
  worker (``sandboxed.py``), and only the package's bytes come back, to be read as data
  (``grader.judging.kfp_ir``: safe YAML loader, no aliases, size-bounded).
- **model** (``models.py``): TFLite flatbuffers the learner handed in as files of a submission
  folder (``handed_in.py``), parsed only in the evaluator sandbox (``tflite.fingerprint``).

Why handed-in flatbuffers rather than running the learner's conversion: making one means a worker
that imports TensorFlow (seconds each, gigabytes of memory) per learner, and what it would produce
from the course's given Keras model is nearly the same flatbuffer for every honest learner anyway.
A file the learner handed in is plain data, costs a light evaluator (no TensorFlow, one per submission, so
one learner's crafted file cannot use up another's budget of timeouts), and is what an
instructor who asks for "your .tflite" receives. Pipelines are the other way round: they are made
by running the learner's module, so ``hml similarity`` compiles them itself, in the sandbox; a
package handed in as a file is used where the exercise defines no pipeline to compile.

Why boilerplate is subtracted from artifacts (``features.py``): honest learners of the same
exercise produce the same DAG (the exercise fixes it) and, converting the same given model, the
same weights. Comparing whole artifacts would flag every honest pair. So only what a submission
holds *beyond* the course's own artifact (the reference solution's package, the course's fixture
flatbuffers) counts; two submissions that both equal the reference share nothing distinctive and
score 0, while a copy shares everything its source did differently. What many learners share is
weighed down, never removed (``features.py``): removing it let a group of copiers hide by being
many, and identical weights are never discounted at all.

The report (``pages.py``) is for instructors only: its pages are written to their own folder, never
beside the learner pages of ``hml report``, and name no learner in a file name.
"""
