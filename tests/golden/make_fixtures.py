#!/usr/bin/python3
"""make_fixtures.py DATADIR -- regenerates every committed golden fixture
(`make golden`).  Needs torch; CI only reads the committed files."""
import os
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
data = sys.argv[1] if len(sys.argv) > 1 else "tests/data"
os.makedirs(os.path.join(data, "engine"), exist_ok=True)
subprocess.check_call([sys.executable, os.path.join(here, "bert_ref.py"), os.path.join(data, "engine")])
subprocess.check_call([sys.executable, os.path.join(here, "variants_ref.py"), os.path.join(data, "engine")])
subprocess.check_call([sys.executable, os.path.join(here, "engine_windows.py"), os.path.join(data, "engine")])
os.makedirs(os.path.join(data, "fisher"), exist_ok=True)
subprocess.check_call([sys.executable, os.path.join(here, "fisher_ref.py"), os.path.join(data, "fisher")])
os.makedirs(os.path.join(data, "probe"), exist_ok=True)
subprocess.check_call([sys.executable, os.path.join(here, "probe_ref.py"), os.path.join(data, "probe")])
