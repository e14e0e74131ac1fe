"""Intake: a submission as handed in (file, notebook, folder, zip, a class on disk) made a module to grade, or refused with a reason."""
