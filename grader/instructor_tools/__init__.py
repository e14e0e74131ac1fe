"""The instructor's tools: validating the course and releasing the learner bundle."""
