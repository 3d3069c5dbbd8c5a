"""Small test doubles shared by several test files (import them from here, not from conftest.py)."""
from __future__ import annotations


class Answers:
    """Stands in for a yes/no question box: records each question and gives one answer."""

    def __init__(self, answer):
        self.answer, self.questions = answer, []

    def __call__(self, text):
        self.questions.append(text)
        return self.answer
