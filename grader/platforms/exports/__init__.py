"""Submissions from an LMS's bulk download, placed as ``ROOT/<learner>/<exercise>[.py|.ipynb|.zip]`` (``hml collect``).

- ``model``      the platforms, a file of the download, a learner's hand-in, what was placed or refused
- ``archive``    the download opened safely (zip or folder): links, traversal, bombs and bounds refused per entry
- ``canvas``     Canvas's ``<name>_[LATE_]<user id>_<file id>_<file>`` names, re-uploads numbered ``-1``, ``-2``
- ``moodle``     Moodle's ``<Full Name>_<participant id>_assignsubmission_file/`` folders
- ``gradescope`` Gradescope's ``submission_metadata.yml`` and submission folders, with their times
- ``roster``     LMS ids mapped to logins (the learner's folder), names and e-mails
- ``choose``     which of a learner's files is the submission, or why none can be told
- ``place``      safe learner folder names, and writing a submission so that a second run changes nothing
- ``collect``    the steps in order; times go to ``ROOT/submissions.csv`` (``grader.intake.submission_times``)
"""
