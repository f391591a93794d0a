"""Test layout: one folder per package layer (tests/data, tests/engines, ...), cross-cutting tests
at the top. This file puts ``tests/`` on ``sys.path`` (pytest's default rootdir insertion) so that
every folder's tests import the shared ``reference_helpers``."""
