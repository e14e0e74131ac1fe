"""The course model: exercises on disk, what was assigned, and what each is worth."""
