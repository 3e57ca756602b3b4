#!/usr/bin/env bash
# Template check for `git bisect run`: exit 0 = good, 1 = bad, 125 = cannot test (skip).
# Copy it outside the repository, edit the two marked lines, and make it executable.
set -u

# 1. Build or install this revision; if that fails, the commit cannot be tested.
python -m pip install -q -e . >/dev/null 2>&1 || exit 125

# 2. Run the narrowest check for the regression. Repeat it to guard against flakiness.
for attempt in 1 2 3; do
    if ! python -m pytest -q -x -p no:cacheprovider tests/test_feature.py::test_symptom >/dev/null 2>&1; then
        exit 1
    fi
done
exit 0
