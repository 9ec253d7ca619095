#!/usr/bin/python3
"""make_families.py -- regenerates issue 23's family fixtures (`make
golden-families`), or with --check regenerates them in a scratch folder
and compares every file with the committed ones (`make
golden-families-check`: the references are deterministic, so any
difference is a change to a reference or to its sources).

    /usr/bin/python3 tests/golden/families/make_families.py [--check] [OUTDIR]

Order matters: bad_ref.py derives its folders from the good ones."""
import filecmp
import os
import shutil
import subprocess
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = ["nt_ref.py", "gena_ref.py", "dnabert2_ref.py", "bad_ref.py"]


def generate(out):
    os.makedirs(out, exist_ok=True)
    for s in SCRIPTS:
        subprocess.check_call([sys.executable, os.path.join(here, s), out])


def fixtures(top):
    out = []
    for d, dirs, files in os.walk(top):
        dirs[:] = [x for x in dirs if x != "__pycache__"]
        for f in files:
            if not f.endswith((".py", ".pyc", ".md")):      # scripts and docs are not made
                out.append(os.path.relpath(os.path.join(d, f), top))
    return sorted(out)


def check():
    tmp = tempfile.mkdtemp(prefix="families.")
    try:
        generate(tmp)
        want, got = fixtures(here), fixtures(tmp)
        bad = ["only committed: " + f for f in sorted(set(want) - set(got))]
        bad += ["only regenerated: " + f for f in sorted(set(got) - set(want))]
        bad += ["differs: " + f for f in sorted(set(want) & set(got))
                if not filecmp.cmp(os.path.join(here, f), os.path.join(tmp, f), shallow=False)]
        for b in bad:
            print("make_families: " + b)
        print("make_families: %d files, %s" % (len(want), "all identical" if not bad else "%d problems" % len(bad)))
        return 1 if bad else 0
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] in (["-h"], ["--help"]):
        print(__doc__)
        sys.exit(0)
    if args[:1] == ["--check"]:
        sys.exit(check())
    generate(args[0] if args else here)
