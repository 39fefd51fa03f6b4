"""The pip-audit gate of `make security` (scripts/audit_requirements.py): a vulnerable pin fails,
a package pip-audit could not look up is reported as NOT CHECKED rather than as safe.

pip-audit is replaced by a stand-in that prints a given JSON report, because what is tested
here is the gate's reading of that report (the real pip-audit runs in `make security`)."""

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import audit_requirements  # noqa: E402


def stand_in(tmp_path, report: dict) -> str:
    script = tmp_path / "pip-audit"
    script.write_text(f"#!{sys.executable}\nprint({json.dumps(json.dumps(report))})\n")
    script.chmod(0o755)
    return str(script)


def run(tmp_path, report, *extra):
    return audit_requirements.main(
        ["--pip-audit", stand_in(tmp_path, report), "-r", "requirements.txt", *extra]
    )


CLEAN = {"name": "django", "version": "5.2.19", "vulns": []}
VULNERABLE = {
    "name": "django",
    "version": "5.2.19",
    "vulns": [{"id": "PYSEC-0000-1", "fix_versions": ["5.2.20"], "aliases": [], "description": ""}],
}
SKIPPED = {"name": "nh3", "skip_reason": "Dependency not found on PyPI and could not be audited: nh3 (0.3.8)"}


def test_a_vulnerable_pin_fails_and_is_named(tmp_path, capsys):
    assert run(tmp_path, {"dependencies": [VULNERABLE, CLEAN]}) == 1
    assert "VULNERABLE django 5.2.19: PYSEC-0000-1 (fixed in 5.2.20)" in capsys.readouterr().out


def test_every_pin_checked_and_clean_passes(tmp_path, capsys):
    assert run(tmp_path, {"dependencies": [CLEAN]}) == 0
    assert "1 of 1 pinned packages checked" in capsys.readouterr().out


@pytest.mark.parametrize(("flags", "code"), [((), 0), (("--require-data",), 1)])
def test_a_package_that_could_not_be_looked_up_is_not_reported_as_safe(tmp_path, capsys, flags, code):
    assert run(tmp_path, {"dependencies": [CLEAN, SKIPPED]}, *flags) == code
    out = capsys.readouterr().out
    assert "NOT CHECKED nh3" in out
    assert "1 of 2 pinned packages checked" in out and "1 not checked" in out


def test_a_report_pip_audit_could_not_write_fails(tmp_path):
    script = tmp_path / "pip-audit"
    script.write_text(
        f"#!{sys.executable}\nimport sys\nprint('resolver error', file=sys.stderr)\nsys.exit(1)\n"
    )
    script.chmod(0o755)
    assert audit_requirements.main(["--pip-audit", str(script), "-r", "requirements.txt"]) == 2
