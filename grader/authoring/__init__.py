"""Authoring tools: make the student release, check it, re-execute the solutions, build the example class."""
