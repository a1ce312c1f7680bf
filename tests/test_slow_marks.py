"""The end-of-run list of slow marks to change (tests/conftest.py) names the right tests."""

from __future__ import annotations

from conftest import QUICK_SECONDS, SLOW_SECONDS, slow_mark_mismatches


def test_unmarked_slow_tests_and_unearned_marks_are_listed():
    seconds = {"a.py::long_unmarked": SLOW_SECONDS + 30, "a.py::long_marked": SLOW_SECONDS + 1,
               "a.py::quick_marked_itself": QUICK_SECONDS / 2, "a.py::quick_marked_by_module": QUICK_SECONDS / 2,
               "a.py::quick_unmarked": 0.1, "a.py::just_under": SLOW_SECONDS - 0.1}
    marked = {"a.py::long_marked": True, "a.py::quick_marked_itself": True, "a.py::quick_marked_by_module": False}
    unmarked, unearned = slow_mark_mismatches(seconds, marked)
    assert unmarked == [f"a.py::long_unmarked ({SLOW_SECONDS + 30:.1f} s)"]
    assert unearned == [f"a.py::quick_marked_itself ({QUICK_SECONDS / 2:.1f} s)"]
