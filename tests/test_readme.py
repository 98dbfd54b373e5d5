"""The README stays true: every environment variable the app reads is documented in it."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_setting_the_app_reads_is_in_the_readme():
    read = set(re.findall(r'env\.get\("([A-Z0-9_]+)"', (ROOT / "torium_api" / "config.py").read_text()))
    documented = set(re.findall(r"`([A-Z0-9_]+)`", (ROOT / "README.md").read_text()))
    assert read and read - documented == set(), "document these in README.md, Configuration"
