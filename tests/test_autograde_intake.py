"""Finding submissions: nbgrader layout, LMS exports (flat folders, zips), odd student ids."""
from __future__ import annotations

import zipfile
from pathlib import Path

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


def _zip_folder(folder, archive):
    """A zip of ``folder`` as a file manager makes one: the folder itself inside."""
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(folder, folder.name)
        for p in sorted(folder.rglob("*")):
            zf.write(p, str(p.relative_to(folder.parent)))
    return archive


@pytest.mark.parametrize("folder", ["HW1", "02_padding", "exports/week 2"])
@pytest.mark.parametrize("zipped", [False, True])
def test_a_flat_export_inside_a_folder_is_one_student_per_file(tmp_path, folder, zipped):
    src = tmp_path / "in" / folder
    for student in ("alice", "bob", "carol"):
        _nb(src / f"{student}_02_padding.ipynb")
    _nb(src / "dave_01_edge_detection.ipynb")
    _nb(src / "02_padding.ipynb")  # no student in the name: reported, not given to "HW1"
    top = tmp_path / "in" / Path(folder).parts[0]
    source = _zip_folder(top, tmp_path / "export.zip") if zipped else tmp_path / "in"
    found = intake.collect(source, LAYOUT)
    try:
        assert set(found.submissions) == {("alice", "02_padding"), ("bob", "02_padding"),
                                          ("carol", "02_padding"), ("dave", "01_edge_detection")}
        assert all(len(s.files) == 1 for s in found.submissions.values())
        (why,) = [w for _, w in found.unmatched]
        assert "no student id" in why
    finally:
        found.close()


def test_one_canvas_file_in_a_folder_names_its_student(tmp_path):
    _nb(tmp_path / "HW3" / "jsmith_late_123456_7890123_03_strides.ipynb")
    found = intake.collect(tmp_path, LAYOUT)
    assert set(found.submissions) == {("jsmith", "03_strides")}


def test_student_folders_stay_student_folders(tmp_path):
    _nb(tmp_path / "alice" / "alice_02_padding.ipynb")            # her own name in the file
    _nb(tmp_path / "alice" / "alice_01_edge_detection.ipynb")
    _nb(tmp_path / "bob" / "02_padding.ipynb")
    _nb(tmp_path / "bob" / "old_02_padding.ipynb")                # a second file, not a student
    _nb(tmp_path / "carol" / "02_padding" / "v1_02_padding.ipynb")   # nbgrader layout
    _nb(tmp_path / "carol" / "02_padding" / "v2_02_padding.ipynb")
    _nb(tmp_path / "HW1" / "erin_03_strides.ipynb")               # one generic name: the folder
    found = intake.collect(tmp_path, LAYOUT)
    assert set(found.submissions) == {("alice", "02_padding"), ("alice", "01_edge_detection"),
                                      ("bob", "02_padding"), ("carol", "02_padding"),
                                      ("HW1", "03_strides")}
    assert any("the folder's name taken as the student" in n
               for n in found.submissions[("HW1", "03_strides")].notes)


def _zip_entries(archive, entries):
    """Write ``(name, date_time)`` notebook entries in this order."""
    text = nbformat.writes(nbformat.v4.new_notebook())
    with zipfile.ZipFile(archive, "w") as zf:
        for name, when in entries:
            zf.writestr(zipfile.ZipInfo(name, date_time=when), text)
    return archive


def test_zip_keeps_the_file_that_is_newest_in_the_zip(tmp_path):
    # the newer file comes first in the zip, so it is extracted first (older on disk)
    archive = _zip_entries(tmp_path / "export.zip", [
        ("eve_01_edge_detection (1).ipynb", (2025, 3, 2, 18, 30, 0)),
        ("eve_01_edge_detection.ipynb", (2025, 3, 1, 9, 0, 0))])
    found = intake.collect(archive, LAYOUT)
    try:
        sub = found.submissions[("eve", "01_edge_detection")]
        assert sub.files["01_edge_detection"].name == "eve_01_edge_detection (1).ipynb"
        (dropped, why), = found.unmatched
        assert Path(dropped).name == "eve_01_edge_detection.ipynb"
        for text in (why, " ".join(sub.notes)):
            assert "kept eve_01_edge_detection (1).ipynb" in text
            assert "2025-03-02 18:30:00 in the zip" in text and "2025-03-01 09:00:00" in text
    finally:
        found.close()


def test_zip_with_equal_dates_keeps_the_later_entry_and_says_so(tmp_path):
    when = (2025, 3, 1, 9, 0, 0)
    archive = _zip_entries(tmp_path / "export.zip", [
        ("eve_01_edge_detection.ipynb", when), ("eve_01_edge_detection (1).ipynb", when)])
    found = intake.collect(archive, LAYOUT)
    try:
        sub = found.submissions[("eve", "01_edge_detection")]
        assert sub.files["01_edge_detection"].name == "eve_01_edge_detection (1).ipynb"
        assert "listed later in the zip" in " ".join(sub.notes)
    finally:
        found.close()


def test_student_folder_without_a_notebook_is_a_submission_with_the_reason(tmp_path):
    _nb(tmp_path / "alice" / "02_padding" / "02_padding.ipynb")
    (tmp_path / "frank").mkdir()
    (tmp_path / "frank" / "notes.txt").write_text("I could not finish")
    (tmp_path / "gina").mkdir()
    (tmp_path / "hank" / "02_padding").mkdir(parents=True)
    (tmp_path / "hank" / "02_padding" / "helper.py").write_text("x = 1")
    _nb(tmp_path / "ivan" / "02_padding_final_v3.ipynb")
    found = intake.collect(tmp_path, LAYOUT)
    expected = {"frank": "holds only notes.txt", "gina": "is empty",
                "hank": "holds only helper.py", "ivan": "holds only 02_padding_final_v3.ipynb"}
    for student, phrase in expected.items():
        sub = found.submissions[(student, "02_padding")]
        assert not sub.files
        assert any(phrase in n and "score 0" in n for n in sub.notes), sub.notes
    staged = intake.stage(found, tmp_path / "submitted")
    assert {s.student for s in staged} == {"alice", *expected}


def test_grades_export_has_a_zero_row_with_the_reason_for_a_folder_without_notebook(tmp_path):
    import csv

    from grader.trusted import autograde as ag
    from grader.trusted.course import prepare
    from grader.trusted.sandbox import GIB, Limits
    from fixtures.fixture_course import STEM, make_course

    course = make_course(tmp_path / "course")
    prepare(course, [STEM], log=lambda *a: None)
    (tmp_path / "subs" / "frank").mkdir(parents=True)
    (tmp_path / "subs" / "frank" / "answers.txt").write_text("see attached")
    (tmp_path / "subs" / "gina" / STEM).mkdir(parents=True)
    ag.autograde(tmp_path / "subs", course=course, workers=1, log=lambda *a: None,
                 limits=Limits(cell_timeout=5, notebook_timeout=60, memory_bytes=GIB))
    with open(course.reports / "grades.csv", newline="", encoding="utf-8") as fh:
        rows = {r["student_id"]: r for r in csv.DictReader(fh)}
    assert set(rows) == {"frank", "gina"}
    for student, phrase in (("frank", "frank/ holds only answers.txt"),
                            ("gina", f"gina/{STEM}/ is empty")):
        assert float(rows[student]["score"]) == 0.0
        assert float(rows[student]["max_score"]) == 7.0
        assert phrase in rows[student]["notes"], rows[student]["notes"]


def test_a_student_folder_with_two_prefixed_versions_beside_other_students(tmp_path):
    _nb(tmp_path / "alice" / "02_padding.ipynb")
    _nb(tmp_path / "bob" / "old_02_padding.ipynb")
    _nb(tmp_path / "bob" / "new_02_padding.ipynb")
    found = intake.collect(tmp_path, LAYOUT)
    assert set(found.submissions) == {("alice", "02_padding"), ("bob", "02_padding")}
    assert "second file for bob" in found.unmatched[0][1]


@pytest.mark.parametrize("command", [["validate", "--memory", "lots", "x.ipynb"],
                                     ["autograde", "--memory", "lots", "subs"],
                                     ["autograde", "--memory", "0", "subs"],
                                     ["validate", "--timeout", "-5", "x.ipynb"]])
def test_bad_limits_give_a_usage_message_not_a_traceback(command, capsys):
    from grader.__main__ import main
    with pytest.raises(SystemExit) as exc:
        main(command)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: python -m grader " + command[0])
    assert "Traceback" not in err
    assert repr(command[2]) in err and ("4G" in err or "120" in err)
