#!/usr/bin/env python3
"""run_tests.py — libguard's test suite (`make check`).

Runs every test in tests/test_*.py and closes with 'N passed, N failed';
exits non-zero when any test failed or none ran.
    python3 tests/run_tests.py [--build DIR] [-k REGEX]
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
import test_analyzer_input  # noqa: E402,F401
import test_analyzer_notes  # noqa: E402,F401
import test_children  # noqa: E402,F401  (registers its tests)
import test_docs  # noqa: E402,F401
import test_field  # noqa: E402,F401
import test_fingerprints  # noqa: E402,F401
import test_immediate_report  # noqa: E402,F401
import test_inspect_go  # noqa: E402,F401
import test_kinds  # noqa: E402,F401
import test_log  # noqa: E402,F401
import test_ns  # noqa: E402,F401
import test_ns_timeline  # noqa: E402,F401
import test_nss_time  # noqa: E402,F401
import test_pool  # noqa: E402,F401
import test_reliability  # noqa: E402,F401
import test_shim  # noqa: E402,F401
import test_supervise  # noqa: E402,F401
import test_trace  # noqa: E402,F401
import test_triage  # noqa: E402,F401

if __name__ == "__main__":
    sys.exit(harness.main(sys.argv[1:]))
