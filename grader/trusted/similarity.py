"""Similar submissions: ``python -m grader similarity SUBMISSIONS [--assignment A]``.

For each notebook, every pair of students' *answer cells* is compared with
copydetect (https://github.com/blingenf/copydetect), which tokenises the code
with Pygments, replaces every name by one letter (so renaming variables or
functions changes nothing), drops comments and white space (so reformatting and
rewording comments change nothing), and fingerprints what is left by winnowing
(Schleimer, Wilkerson and Aiken, SIGMOD 2003), the method behind MOSS.

What is *not* counted, because every student shares it:

* the release's starter code of each answer cell (signature, docstring,
  ``# YOUR CODE HERE``), given to copydetect as boilerplate;
* answer cells that define no function or class (the constants a task fixes,
  such as ``VERTICAL_EDGE``): every correct answer is the same there, so they
  carry no sign of copying, and their solution code is boilerplate too;
* an answer cell left as it was released.

A pair's similarity is the smaller of the two shares "how much of A's own code
is found in B" and "how much of B's is found in A" (copydetect gives both): a
short answer that is a common idiom inside a longer one does not make a pair
similar, a copy makes both shares high.

The default threshold (:data:`THRESHOLD`) was calibrated on the example class
and on synthetic cases (see ``tests/test_similarity.py`` for the measured
figures): copies with every name changed, comments rewritten and code
reformatted score 0.72 to 0.90; the example class's perfect and "Zoë Ng"
students (the same answers) score 1.0; independent correct solutions of
notebook 01 in different styles (loops, shifted slices, ``sliding_window_view``
with ``einsum``) score 0.12 to 0.34. Similarity is a lead for a person to look at, not a verdict:
short tasks with one natural solution make honest students look alike.

Writes ``similarity.html`` (per notebook the most similar pairs, the two
answers side by side with the shared passages marked) and ``similarity.csv``
(every pair, with both shares) to ``--out`` (default ``build/course/reports``).
"""
from __future__ import annotations

import ast
import csv
import html
import io
import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path

from .. import notebook_cells as cells
from ..settings import RELEASE, SOLUTIONS
from . import intake as intake_mod

#: flag a pair at or above this similarity (see the module docstring)
THRESHOLD = 0.6
#: copydetect's noise threshold (k-gram length, in characters of normalised code) and
#: guarantee threshold (a shared passage this long is always found)
NOISE = 25
GUARANTEE = 30
TOP = 5
#: fewer characters of normalised code than this beyond the starter code (about two
#: lines, e.g. `return None` under each signature) are no evidence either way; the
#: smallest real answer of a notebook in the example class has 102
MIN_OWN_CODE = 80
VERDICT_NOTE = ("Similarity is a lead for a person to look at, not a verdict of copying. "
                "Short tasks with one natural solution make honest students look alike, "
                "and students may have worked together as allowed. Read the two answers, "
                "then talk to the students before you conclude anything.")


def _require_copydetect():
    try:
        import copydetect  # noqa: F401
    except ImportError as err:  # pragma: no cover - a dependency of the course
        raise RuntimeError("the similarity report needs copydetect: pip install copydetect "
                           "(it is in pyproject.toml and environment.yml)") from err
    import copydetect.utils as cd_utils
    from copydetect import CodeFingerprint, compare_files
    from copydetect.utils import highlight_overlap
    if cd_utils.hashed_kgrams is not stable_kgram_hashes:
        # copydetect hashes k-grams with Python's hash(), which is salted afresh in every
        # process; a stable hash makes the same submissions give the same report
        cd_utils.hashed_kgrams = stable_kgram_hashes
    return CodeFingerprint, compare_files, highlight_overlap


def stable_kgram_hashes(string: str, k: int):
    """64-bit BLAKE2 hashes of every k-gram of ``string`` (same in every run)."""
    import hashlib
    import numpy as np
    values = [int.from_bytes(hashlib.blake2b(string[i:i + k].encode("utf-8"),
                                             digest_size=8).digest(), "little", signed=True)
              for i in range(len(string) - k + 1)]
    return np.array(values, dtype=np.int64)


# ------------------------------------------------------------------ answers
def answer_sources(nb) -> dict[str, str]:
    """``{grade_id: source}`` of a notebook's answer cells, in notebook order."""
    return {cells.nbgrader_meta(c)["grade_id"]: c.source for c in cells.iter_cells(nb, "answer")}


def defines_code(source: str) -> bool:
    """True when a cell defines a function or class (its answer is the student's own code)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return True
    return any(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
               for n in ast.walk(tree))


@dataclass
class Starter:
    """What every student of one notebook shares: starter code and fixed answers."""
    order: list[str]                       # answer grade ids, in notebook order
    starter: dict[str, str]                # grade id -> released source
    fixed: set[str] = field(default_factory=set)   # grade ids whose answer the task fixes
    boilerplate_code: str = ""


def load_starter(assignment: str, notebook: str, release_dir: Path = RELEASE,
                 solutions_dir: Path = SOLUTIONS) -> Starter:
    release = cells.read(Path(release_dir) / assignment / f"{notebook}.ipynb")
    starter = answer_sources(release)
    order = list(starter)
    fixed, extra = set(), []
    solution_path = Path(solutions_dir) / assignment / f"{notebook}.ipynb"
    if solution_path.is_file():
        for gid, src in answer_sources(cells.read(solution_path)).items():
            if gid in starter and not defines_code(starter[gid]) and not defines_code(src):
                fixed.add(gid)
                extra.append(cells.strip_solution_markers(src))
    code = "\n\n".join(list(starter.values()) + extra)
    return Starter(order, starter, fixed, code)


@dataclass
class Answer:
    student: str
    assignment: str
    notebook: str
    parts: list[tuple[str, str]] = field(default_factory=list)  # (grade id, source) compared
    problem: str = ""                                            # why nothing is compared

    @property
    def code(self) -> str:
        return "\n\n".join(f"# [{gid}]\n{src.rstrip()}" for gid, src in self.parts)


def student_answer(student: str, assignment: str, notebook: str, path: Path,
                   starter: Starter) -> Answer:
    ans = Answer(student, assignment, notebook)
    try:
        nb = cells.read(path)
    except Exception as err:  # noqa: BLE001 - any unreadable file is reported
        first = (str(err).splitlines() or [type(err).__name__])[0]
        ans.problem = f"not a readable notebook ({first.split(':')[0][:80]})"
        return ans
    mine = answer_sources(nb)
    if not mine:
        ans.problem = "no answer cells (nbgrader metadata removed?)"
        return ans
    for gid in starter.order:
        src = mine.get(gid)
        if src is None or gid in starter.fixed or src.strip() == starter.starter[gid].strip():
            continue
        ans.parts.append((gid, src))
    if not ans.parts:
        ans.problem = "no answer written (every answer cell as released)"
    return ans


# ------------------------------------------------------------------ comparing
@dataclass
class Pair:
    assignment: str
    notebook: str
    a: str
    b: str
    share_a: float          # part of a's own code found in b
    share_b: float
    slices_a: list = field(default_factory=list)
    slices_b: list = field(default_factory=list)
    note: str = ""

    @property
    def score(self) -> float:
        return min(self.share_a, self.share_b)


def _fingerprint(code: str, boilerplate, name: str = "answer.py"):
    CodeFingerprint, _, _ = _require_copydetect()
    return CodeFingerprint(name, NOISE, GUARANTEE - NOISE + 1, boilerplate=boilerplate,
                           fp=io.StringIO(code), language="python")


def compare_answers(answers: list[Answer], starter: Starter) -> list[Pair]:
    """Every pair of ``answers`` (one notebook), most similar first."""
    import numpy as np
    _, compare_files, _ = _require_copydetect()
    boiler_fp = _fingerprint(starter.boilerplate_code, None, "starter.py")
    boilerplate = np.array(sorted(boiler_fp.hashes), dtype=np.int64)
    prints = {}
    for ans in answers:
        if not ans.problem:
            fp = _fingerprint(ans.code, boilerplate)
            if fp.token_coverage < MIN_OWN_CODE:
                ans.problem = (f"too little code of their own to compare ({fp.token_coverage:.0f} "
                               f"characters of normalised code beyond the starter code; "
                               f"{MIN_OWN_CODE} needed)")
            else:
                prints[ans.student] = fp
    pairs = []
    for x, y in itertools.combinations(sorted(answers, key=lambda a: a.student), 2):
        pair = Pair(x.assignment, x.notebook, x.student, y.student, 0.0, 0.0)
        if x.student in prints and y.student in prints:
            _, (sa, sb), (sl_a, sl_b) = compare_files(prints[x.student], prints[y.student])
            pair.share_a, pair.share_b = float(sa), float(sb)
            pair.slices_a = np.asarray(sl_a).tolist() if len(sl_a) else []
            pair.slices_b = np.asarray(sl_b).tolist() if len(sl_b) else []
        else:
            pair.note = "; ".join(f"{a.student}: {a.problem}" for a in (x, y) if a.problem)
        pairs.append(pair)
    pairs.sort(key=lambda p: (-p.score, -max(p.share_a, p.share_b), p.a, p.b))
    return pairs


@dataclass
class Result:
    pairs: list[Pair]
    answers: dict[tuple[str, str], list[Answer]]    # (assignment, notebook) -> answers
    unmatched: list[tuple[str, str]]
    threshold: float
    files: dict[str, Path] = field(default_factory=dict)

    def flagged(self) -> list[Pair]:
        return [p for p in self.pairs if p.score >= self.threshold]


def compare_submissions(source: Path, layout: dict[str, list[str]], release_dir: Path = RELEASE,
                        solutions_dir: Path = SOLUTIONS, threshold: float = THRESHOLD,
                        assignments=None) -> Result:
    """Find the submissions in ``source`` (any layout ``autograde`` takes) and compare them.

    ``layout`` is every assignment's notebooks (so that files of the others are
    recognised); ``assignments`` picks the ones compared (default: all).
    """
    found = intake_mod.collect(Path(source), layout)
    try:
        by_nb: dict[tuple[str, str], list[Answer]] = {}
        for (student, assignment), sub in sorted(found.submissions.items()):
            if assignments and assignment not in assignments:
                continue
            for notebook, path in sorted(sub.files.items()):
                key = (assignment, notebook)
                by_nb.setdefault(key, [])
                by_nb[key].append((student, path))
        answers, pairs = {}, []
        for (assignment, notebook), subs in sorted(by_nb.items()):
            starter = load_starter(assignment, notebook, release_dir, solutions_dir)
            group = [student_answer(s, assignment, notebook, p, starter) for s, p in subs]
            answers[(assignment, notebook)] = group
            pairs += compare_answers(group, starter)
        unmatched = list(found.unmatched)
    finally:
        found.close()
    return Result(pairs, answers, unmatched, threshold)


# ------------------------------------------------------------------ reports
def write_csv(result: Result, path: Path) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["assignment", "notebook", "student_a", "student_b", "similarity",
                    "share_of_a_in_b", "share_of_b_in_a", "flagged", "note"])
        for p in result.pairs:
            w.writerow([p.assignment, p.notebook, p.a, p.b, f"{p.score:.3f}", f"{p.share_a:.3f}",
                        f"{p.share_b:.3f}", "yes" if p.score >= result.threshold else "no",
                        p.note])
    return Path(path)


def _marked(code: str, slices: list) -> str:
    _, _, highlight_overlap = _require_copydetect()
    import numpy as np
    if not slices or not len(slices[0]):
        return html.escape(code)
    text, _ = highlight_overlap(code, np.asarray(slices), "<mark>", "</mark>", escape_html=True)
    return text


CSS = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
.note { background: #fff4d6; border-left: 5px solid #e0a800; padding: .7em 1em; max-width: 70em; }
table { border-collapse: collapse; margin: .5em 0 1em; }
td, th { border: 1px solid #ccc; padding: .25em .6em; text-align: left; }
tr.flag td { background: #fde2e2; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 1em; margin-bottom: 2em; }
pre { background: #f7f7f7; padding: .6em; overflow-x: auto; font-size: 12px;
      white-space: pre-wrap; }
mark { background: #ffd54f; }
h3 { margin-bottom: .2em; }
"""


def html_report(result: Result, top: int = TOP) -> str:
    out = ["<!DOCTYPE html><html><head><meta charset='utf-8'>",
           "<title>Similar submissions</title>", f"<style>{CSS}</style></head><body>",
           "<h1>Similar submissions</h1>",
           f"<p class='note'><b>{html.escape(VERDICT_NOTE)}</b><br>Compared: each student's "
           "answer cells, with names normalised, comments and formatting ignored, and the "
           "release's starter code and the answers a task fixes (constants) left out "
           f"(copydetect, winnowing). Flagged: similarity &ge; {result.threshold:.2f} "
           "(the smaller of the two shares of each student's code found in the other's).</p>"]
    for (assignment, notebook), answers in result.answers.items():
        pairs = [p for p in result.pairs if (p.assignment, p.notebook) == (assignment, notebook)]
        flagged = [p for p in pairs if p.score >= result.threshold]
        out.append(f"<h2>{html.escape(notebook)}</h2>")
        out.append(f"<p>{len(answers)} student(s), {len(pairs)} pair(s), "
                   f"<b>{len(flagged)} flagged</b>.</p>")
        skipped = [a for a in answers if a.problem]
        if skipped:
            out.append("<p>Not compared: " + "; ".join(
                f"{html.escape(a.student)} ({html.escape(a.problem)})" for a in skipped) + "</p>")
        shown = pairs[:max(top, len(flagged))]
        if shown:
            out.append("<table><tr><th>student A</th><th>student B</th><th>similarity</th>"
                       "<th>A's code found in B</th><th>B's code found in A</th></tr>")
            for p in shown:
                cls = " class='flag'" if p.score >= result.threshold else ""
                out.append(f"<tr{cls}><td>{html.escape(p.a)}</td><td>{html.escape(p.b)}</td>"
                           f"<td>{p.score:.0%}</td><td>{p.share_a:.0%}</td>"
                           f"<td>{p.share_b:.0%}</td></tr>")
            out.append("</table>")
        by_student = {a.student: a for a in answers}
        for p in shown:
            if p.score <= 0:
                continue
            flag = " (flagged)" if p.score >= result.threshold else ""
            out.append(f"<h3>{html.escape(p.a)} and {html.escape(p.b)}: {p.score:.0%}{flag}</h3>")
            out.append("<div class='pair'>")
            for who, slices in ((p.a, p.slices_a), (p.b, p.slices_b)):
                out.append(f"<div><b>{html.escape(who)}</b>"
                           f"<pre>{_marked(by_student[who].code, slices)}</pre></div>")
            out.append("</div>")
    if result.unmatched:
        out.append("<h2>Files not compared</h2><ul>")
        out += [f"<li><code>{html.escape(f)}</code>: {html.escape(w)}</li>"
                for f, w in result.unmatched]
        out.append("</ul>")
    out.append("</body></html>")
    return "\n".join(out)


def write(result: Result, out_dir: Path, top: int = TOP) -> Result:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    result.files = {"similarity_csv": write_csv(result, out_dir / "similarity.csv"),
                    "similarity_html": out_dir / "similarity.html"}
    (out_dir / "similarity.html").write_text(html_report(result, top), encoding="utf-8")
    summary = {"threshold": result.threshold, "flagged": [
        {"notebook": p.notebook, "a": p.a, "b": p.b, "similarity": round(p.score, 3)}
        for p in result.flagged()]}
    (out_dir / "similarity.json").write_text(json.dumps(summary, indent=1, ensure_ascii=False),
                                             encoding="utf-8")
    result.files["similarity_json"] = out_dir / "similarity.json"
    return result
