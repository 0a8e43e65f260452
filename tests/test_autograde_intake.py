"""Finding submissions: nbgrader layout, LMS exports (flat folders, zips), odd student ids."""
from __future__ import annotations

import zipfile

import nbformat
import pytest

from grader.trusted import intake
from grader.cli_grading import parse_size

LAYOUT = {"01_edge_detection": ["01_edge_detection"], "02_padding": ["02_padding"],
          "03_strides": ["03_strides"]}


def _nb(path, text=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    if text is None:
        nbformat.write(nbformat.v4.new_notebook(), str(path))
    else:
        path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("filename, student, notebook", [
    ("alice__01_edge_detection.ipynb", "alice", "01_edge_detection"),
    ("bob_02_padding.ipynb", "bob", "02_padding"),
    ("jsmith_late_123456_7890123_03_strides.ipynb", "jsmith", "03_strides"),
    ("jsmith_123456_7890123_03_strides-1.ipynb", "jsmith", "03_strides"),
    ("Ada Lovelace_98765_assignsubmission_file_01_edge_detection.ipynb", "Ada Lovelace",
     "01_edge_detection"),
    ("HW1_s1234567_attempt_2024-03-01-10-00-00_02_padding.ipynb", "s1234567", "02_padding"),
    ("12345-67890 - José Núñez - Mar 3, 2025 1002 AM - 01_edge_detection.ipynb", "José Núñez",
     "01_edge_detection"),
    ("Zoë Ng - 01_Edge_Detection (1).ipynb", "Zoë Ng", "01_edge_detection"),
])
def test_lms_file_names_map_to_student_and_notebook(tmp_path, filename, student, notebook):
    _nb(tmp_path / filename)
    found = intake.collect(tmp_path, LAYOUT)
    assert not found.unmatched, found.unmatched
    (key, sub), = found.submissions.items()
    assert key == (student, notebook)
    assert list(sub.files) == [notebook]


def test_nbgrader_layout_and_unmatched_files_are_reported(tmp_path):
    _nb(tmp_path / "submitted" / "carol" / "01_edge_detection" / "01_edge_detection.ipynb")
    (tmp_path / "submitted" / "carol" / "01_edge_detection" / "timestamp.txt").write_text(
        "2025-01-01 10:00:00 UTC")
    _nb(tmp_path / "submitted" / "carol" / "02_padding" / "scratch.ipynb")
    (tmp_path / "submitted" / "carol" / "02_padding" / "helper.py").write_text("x = 1")
    _nb(tmp_path / "submitted" / "dave" / "03_strides" / "03_strides.ipynb")
    found = intake.collect(tmp_path, LAYOUT)
    assert ("carol", "01_edge_detection") in found.submissions
    assert found.submissions[("carol", "01_edge_detection")].timestamp is not None
    # carol handed in 02_padding with the wrong notebook: graded (0) and the file reported
    assert ("carol", "02_padding") in found.submissions
    assert not found.submissions[("carol", "02_padding")].files
    why = dict(found.unmatched)
    assert "extra notebook" in why["carol/02_padding/scratch.ipynb"]
    assert "not a notebook" in why["carol/02_padding/helper.py"]
    assert ("dave", "03_strides") in found.submissions


def test_zip_export_with_unmatched_and_duplicate_files(tmp_path):
    src = tmp_path / "src"
    _nb(src / "eve_01_edge_detection.ipynb")
    _nb(src / "eve_01_edge_detection (1).ipynb")
    _nb(src / "random_homework.ipynb")
    _nb(src / "01_edge_detection.ipynb")  # no student in the name
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for p in src.iterdir():
            zf.write(p, p.name)
        zf.writestr("../evil.ipynb", "{}")
    found = intake.collect(archive, LAYOUT)
    try:
        assert set(found.submissions) == {("eve", "01_edge_detection")}
        reasons = " ".join(w for _, w in found.unmatched)
        assert "second file" in reasons
        assert "matches no notebook" in reasons
        assert "no student id" in reasons
        assert "unsafe path" in reasons
    finally:
        found.close()


def test_stage_upgrades_old_nbformat_and_keeps_bad_files(tmp_path):
    v3 = nbformat.convert(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")]), 3)
    _nb(tmp_path / "in" / "old_01_edge_detection.ipynb", nbformat.writes(v3, version=3))
    _nb(tmp_path / "in" / "bad_01_edge_detection.ipynb", "{not json")
    found = intake.collect(tmp_path / "in", LAYOUT)
    staged = intake.stage(found, tmp_path / "submitted")
    assert len(staged) == 2
    upgraded = nbformat.read(str(tmp_path / "submitted" / "old" / "01_edge_detection" /
                                 "01_edge_detection.ipynb"), as_version=nbformat.NO_CONVERT)
    assert upgraded.nbformat == 4
    assert any("nbformat 3" in n for s in staged for n in s.notes)
    bad = tmp_path / "submitted" / "bad" / "01_edge_detection" / "01_edge_detection.ipynb"
    assert bad.read_text() == "{not json"


def test_clean_id_keeps_unicode_and_spaces_but_not_paths():
    assert intake.clean_id("  Zoë  Ng ") == "Zoë Ng"
    assert "/" not in intake.clean_id("../../etc/passwd")
    assert intake.clean_id("a*b?c") == "a_b_c"


def test_parse_size():
    assert parse_size("4G") == 4 * 1024 ** 3
    assert parse_size("512M") == 512 * 1024 ** 2
    assert parse_size("2GiB") == 2 * 1024 ** 3
    with pytest.raises(ValueError):
        parse_size("lots")
