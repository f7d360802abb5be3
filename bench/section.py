"""Replaces one script's section of docs/benchmarks.md, keeping whatever else the page holds.

    python3 bench/section.py NAME OUT SECTION_FILE

The section is everything between "<!-- NAME:begin -->" and "<!-- NAME:end -->"; a page
without it gets the section appended, and a missing page is started.
"""
import os
import re
import sys

name, out, section_file = sys.argv[1:4]
section = open(section_file).read().rstrip("\n") + "\n"
page = open(out).read() if os.path.exists(out) else "# Benchmarks\n\nEach section is written by the script it names; rerun it to refresh.\n"
pattern = re.compile(r"<!-- " + re.escape(name) + r":begin -->.*?<!-- " + re.escape(name) + r":end -->\n?", re.S)
page = pattern.sub(lambda _: section, page) if pattern.search(page) else page.rstrip("\n") + "\n\n" + section
open(out, "w").write(page)
