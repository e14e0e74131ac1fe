"""The learner's tools: starting an exercise in a workspace and checking it locally with feedback."""
