"""Range-diff: what changed between two revisions of a series.

synthetic.py builds commits from the stored diffs, compare.py runs ``git
range-diff`` on them (or compares the stored diffs when git cannot) and parses
its output, services.py picks the revisions and caches the result (RangeDiff).
"""
