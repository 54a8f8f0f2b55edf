"""The pgTAP tree (db/tests/README.md): every test file sits in an area folder, and the helper schema
fastqueue_tests in db/tests/support/ is the test run's alone: no SQL that db-migrate applies or the
wheel ships (db/migrations, db/functions, db/views) names it, and it holds no test for pg_prove."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "db" / "tests"
SUPPORT = TESTS / "support" / "fastqueue_tests.sql"


def test_every_pgtap_file_is_in_an_area_folder() -> None:
    assert not sorted(TESTS.glob("*.sql")), "a pgTAP file belongs in an area folder of db/tests"
    areas = [path for path in TESTS.iterdir() if path.is_dir() and path.name != "support"]
    assert areas, "db/tests has no area folders"
    for area in areas:
        files = sorted(area.glob("*.sql"))
        assert files, f"{area.relative_to(ROOT)} holds no pgTAP file"
        for path in files:
            text = path.read_text()
            assert re.search(r"^select plan\(", text, re.MULTILINE), f"{path.name} has no plan"
            assert "select * from finish();" in text, f"{path.name} does not finish"


def test_the_helper_schema_is_no_test_and_comments_every_function() -> None:
    text = SUPPORT.read_text()
    assert "plan(" not in text and "finish()" not in text, "support/ must not hold tests"
    functions = re.findall(r"^create function fastqueue_tests\.(\w+)\(", text, re.MULTILINE)
    assert functions, "no helper functions found"
    commented = set(re.findall(r"^comment on function fastqueue_tests\.(\w+)\(", text, re.MULTILINE))
    assert set(functions) <= commented, f"helpers without a COMMENT: {sorted(set(functions) - commented)}"


def test_db_migrate_never_loads_the_helper_schema() -> None:
    folders = [ROOT / "db" / name for name in ("migrations", "functions", "views")]
    shipped = [path for folder in folders for path in folder.glob("*.sql")]
    assert shipped
    naming = [str(path.relative_to(ROOT)) for path in shipped if "fastqueue_tests" in path.read_text()]
    assert not naming, f"only the test run loads fastqueue_tests, yet these name it: {naming}"
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert "db/tests" not in pyproject, "db/tests must not be packaged"
