"""Run pip-audit over the pinned requirements and say plainly what it could and could not check.

pip-audit asks PyPI for each pinned version's advisories. A package it could not look up is
"skipped", and pip-audit then still prints "No known vulnerabilities found". This gate tells the
three outcomes apart:

- a known vulnerability in a pinned version (not ignored with a reason): exit 1;
- every package looked up and none vulnerable: exit 0;
- some or all packages could not be looked up (the vulnerability data is not reachable from this
  network, e.g. a registry mirror without PyPI's JSON API): each one is listed as NOT CHECKED and,
  unless --require-data is given, the gate passes, so a machine without that data can still test.

Usage: python scripts/audit_requirements.py [--require-data] [--ignore-vuln ID ...] -r FILE ...
(--pip-audit PATH runs another pip-audit executable; the gate's tests use a stand-in.)
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("-r", "--requirement", action="append", required=True)
    parser.add_argument("--ignore-vuln", action="append", default=[])
    parser.add_argument("--require-data", action="store_true")
    parser.add_argument("--pip-audit", default=str(Path(sys.executable).with_name("pip-audit")))
    args = parser.parse_args(argv)

    pip_audit = args.pip_audit
    command = [pip_audit, "--format", "json", "--progress-spinner", "off"]
    for requirement in args.requirement:
        command += ["-r", requirement]
    for advisory in args.ignore_vuln:
        command += ["--ignore-vuln", advisory]
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        print(result.stderr.strip() or "pip-audit printed no report", file=sys.stderr)
        return 2

    dependencies = report.get("dependencies", [])
    vulnerable = [d for d in dependencies if d.get("vulns")]
    skipped = [d for d in dependencies if d.get("skip_reason")]
    checked = len(dependencies) - len(skipped)
    for dependency in vulnerable:
        for vuln in dependency["vulns"]:
            fixes = ", ".join(vuln.get("fix_versions") or []) or "no fixed release"
            print(f"VULNERABLE {dependency['name']} {dependency['version']}: {vuln['id']} (fixed in {fixes})")
    for dependency in skipped:
        print(f"NOT CHECKED {dependency['name']}: {dependency['skip_reason']}")
    print(
        f"pip-audit: {checked} of {len(dependencies)} pinned packages checked against PyPI's "
        f"advisories, {len(vulnerable)} vulnerable, {len(skipped)} not checked"
    )
    if vulnerable:
        return 1
    if skipped and args.require_data:
        print("--require-data: packages that could not be checked fail the gate", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
