"""The examples of the README and of the guides in docs/: every fenced block is run or checked.

- ``python`` blocks are files of examples/python/, shown as they are; the tests below run them.
- The ``sh`` blocks of a page run in order, in one ``bash -euo pipefail`` from the repository's
  root, against the test's Worker: ``STRIDE_URL`` and ``STRIDE_API_KEY`` are set, the guides' keys
  (``stride-dev-key``, ``stride-runner-key``, ``stride-admin-token``) become the Worker's,
  ``python3`` is this interpreter, ``PYTHONPATH`` holds python/ and the project the CI guide
  creates gets a name of its own (UNIQUE_NAMES). Every curl answer must be 2xx
  unless the block shows that status (in a comment); a command whose line ends ``# exit N`` must
  exit N.
- A ``json`` block says what it is on the line above it: ``<!-- example: POST /v1/studies -->`` is
  sent as that request (2xx); ``<!-- example: answer of POST /v1/lr-range-tests -->`` names only
  fields, of the same types, that the service answers to the request shown before it on the page;
  ``<!-- example: space -->`` is search-space parameters, one a line, which a study must take.
- ``text`` blocks are figures, not examples.
- A block that cannot run says why on the line above it, ``<!-- example not run: the reason -->``;
  NOT_RUN counts them per page, so marking one is a change here too.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest

import stride
from conftest import ROOT, Server, known

EXAMPLES = ROOT / "examples" / "python"


def _env(server: Server, key: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRIDE_")}
    env["PYTHONPATH"] = str(ROOT / "python") + (
        os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else ""
    )
    env.update(STRIDE_URL=server.url, STRIDE_API_KEY=key)
    return env


def _run(cmd: list, env: dict, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def test_the_guides_show_the_example_files_as_they_are() -> None:
    """The README and the guides in docs/ show each example as the file is (and name the file)."""
    text = "\n".join(p.read_text() for p in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))])
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    for name in (
        "optimize.py",
        "multiobjective.py",
        "lr_find.py",
        "lr_suggest.py",
        "train.py",
        "train_cli.py",
        "optuna_quickstart.py",
    ):
        example = (EXAMPLES / name).read_text()
        assert example in blocks, f"the guides' block for examples/python/{name} differs from the file"
        assert f"examples/python/{name}" in text
    assert "python3 examples/python/runner_study.py" in text


def test_the_optimize_example(server: Server) -> None:
    run = _run([sys.executable, str(EXAMPLES / "optimize.py")], _env(server, server.key))
    assert run.returncode == 0, run.stderr
    study_id, rest = run.stdout.strip().split(" ", 1)
    study = stride.Client(server.url, server.key).study(study_id)
    assert study.name == "mlp-sgd" and study.n_trials == 20 and study.state == "completed"
    trials = study.trials
    assert all(t.state in ("complete", "pruned", "failed") for t in trials)
    assert rest == f"{study.best_params} {study.best_value}"
    # Every trial failed for a reason: a diverged one (NaN loss), nothing else.
    assert all("diverged" in (t.error or "") for t in trials if t.state == "failed")


def test_the_optuna_quickstart_example(server: Server) -> None:
    """An Optuna objective under ``import stride as optuna``: conditional parameters asked
    define-by-run, a user attribute, the best trial's params and a dataframe."""
    run = _run([sys.executable, str(EXAMPLES / "optuna_quickstart.py")], _env(server, server.key))
    assert run.returncode == 0, run.stderr
    first, *table = run.stdout.strip().splitlines()
    study = stride.Client(server.url, server.key).study(first.split(" ", 1)[0])
    assert study.name.startswith("no-name-") and study.n_trials == 30
    assert set(study.space) == {"classifier", "svc_c", "rf_max_depth"}
    trials = study.trials
    assert all(t.state == "complete" for t in trials)
    for t in trials:
        branch = "svc_c" if t.params["classifier"] == "SVC" else "rf_max_depth"
        assert set(t.params) == {"classifier", branch}
        assert t.user_attrs == {"classifier": t.params["classifier"]}
    assert {t.params["classifier"] for t in trials} == {"SVC", "RandomForest"}
    assert first.split(" ", 1)[1].startswith(str(study.best_trial.params))
    assert "params_classifier" in table[0] and len(table) == 4


def test_the_multiobjective_example(server: Server) -> None:
    run = _run([sys.executable, str(EXAMPLES / "multiobjective.py")], _env(server, server.key))
    assert run.returncode == 0, run.stderr
    study_id, *lines = run.stdout.strip().splitlines()
    study = stride.Client(server.url, server.key).study(study_id)
    assert (
        study.directions == ["minimize", "minimize"] and study.n_trials == 24 and study.state == "completed"
    )
    trials = study.trials
    assert all(
        t.state == "complete" and len(known(t.values)) == 2 and len(known(t.constraints)) == 1 for t in trials
    )
    # The constraint is the example's budget: parameters - 8,000 (a 20-w-2 MLP has 23w + 2).
    assert all(
        known(t.constraints)[0] == known(t.values)[1] - 8000 == 23 * t.params["width"] + 2 - 8000
        for t in trials
    )
    # What it printed is the study's front: feasible trials that no other feasible trial dominates.
    feasible = [t for t in trials if known(t.constraints)[0] <= 0]

    def dominated(t: stride.Trial) -> bool:
        tv = known(t.values)
        return any(
            known(u.values)[0] <= tv[0] and known(u.values)[1] <= tv[1] and u.values != t.values
            for u in feasible
        )

    front = [t for t in feasible if not dominated(t)]
    assert (
        [int(line.split(" ", 1)[0]) for line in lines]
        == [t.number for t in front]
        == [t.number for t in study.best_trials]
    )
    assert len(front) >= 2
    assert {t.sampler for t in trials} <= {"tpe", "nsga2"}


def test_the_lr_find_example(server: Server) -> None:
    run = _run([sys.executable, str(EXAMPLES / "lr_find.py")], _env(server, server.key))
    assert run.returncode == 0, run.stderr
    test_id, lr, max_stable, confidence = run.stdout.split()
    stored = stride.Client(server.url, server.key).get_lr_range_test(test_id)
    assert (repr(stored.suggestion.lr), repr(stored.max_stable_lr), stored.suggestion.confidence) == (
        lr,
        max_stable,
        confidence,
    )
    assert float(lr) <= float(max_stable)


def test_the_lr_suggest_example(server: Server) -> None:
    run = _run([sys.executable, str(EXAMPLES / "lr_suggest.py")], _env(server, server.key))
    assert run.returncode == 0, run.stderr
    suggestion_id, lr, confidence, runs = run.stdout.split()
    client = stride.Client(server.url, server.key)
    answer = client.request("GET", f"/v1/lr/suggest/{suggestion_id}")
    assert answer["status"] == "complete" and answer["method"] == "validated"
    assert (repr(answer["lr"]), answer["confidence"], float(runs)) == (
        lr,
        confidence,
        answer["compute"]["runs"],
    )
    candidates = answer["validation"]["candidates"]
    # Each run trained the length it was given (trial.horizon), every epoch reported; within budget 3.
    assert all(c["state"] == "complete" and c["epochs_run"] == c["length"] <= 10 for c in candidates)
    assert len({c["length"] for c in candidates}) > 1 and answer["budget"] == {"runs": 3}
    assert answer["compute"]["runs"] <= 3 and answer["horizon"]["epochs"] == 10
    study = client.study(suggestion_id)
    assert study.metadata["range_test_id"] == answer["range_test"]["id"]
    assert known(client.get_lr_range_test(answer["range_test"]["id"]).context)["optimizer"]["name"] == "sgd"


def test_the_agent_example_on_two_gpu_slots(server: Server) -> None:
    train = EXAMPLES / "train.py"
    alone = _run([sys.executable, str(train)], _env(server, server.key))
    assert alone.returncode == 0, alone.stderr
    assert re.fullmatch(r"trial None: lr=0\.05 momentum=0\.9 loss=\d+\.\d{4}\n", alone.stdout), alone.stdout

    created = _run([sys.executable, str(EXAMPLES / "runner_study.py")], _env(server, server.key))
    assert created.returncode == 0, created.stderr
    study_id = created.stdout.strip()
    npx = shutil.which("npx")
    assert npx
    agent = _run(
        [
            npx,
            "--no-install",
            "stride",
            "agent",
            "--study",
            study_id,
            "--gpus",
            "0,1",
            "--",
            sys.executable,
            str(train),
        ],
        _env(server, server.runner_key),
    )
    assert agent.returncode == 0, agent.stdout + agent.stderr
    done = re.search(r"done: 8 trials \((\d+) complete, (\d+) pruned, 0 failed\)", agent.stderr)
    assert done, agent.stderr
    assert "[gpu 0]" in agent.stderr and "[gpu 1]" in agent.stderr
    trials = stride.Client(server.url, server.key).study(study_id).trials
    assert len(trials) == 8
    assert sum(t.state == "complete" for t in trials) == int(done.group(1))
    for t in trials:
        if t.state == "complete":
            # The told value is the last loss the script reported, at epoch 19.
            assert t.intermediate[-1]["step"] == 19 and t.value == t.intermediate[-1]["value"]
            assert (
                f"trial {t.number}: lr={t.params['lr']:.3g} momentum={t.params['momentum']:.3g} loss={t.value:.4f}"
                in agent.stdout
            )


# --- every block of the guides ---------------------------------------------------------------

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

#: Blocks marked ``<!-- example not run: ... -->``, per page (the reasons are on the pages).
NOT_RUN = {
    "README.md": 3,  # npm ci/start/test; export STRIDE_URL; pip install
    "docs/API.md": 2,  # an elided curve; a placeholder range test id
    "docs/benchmark.md": 1,  # npm run bench
    "docs/deploying.md": 1,  # wrangler login and deploy
    "docs/python.md": 1,  # pip install
}

#: The examples/python/ files the tests above run by name (the others run in the guides' sh blocks).
RUN_HERE = (
    "optimize.py",
    "optuna_quickstart.py",
    "multiobjective.py",
    "lr_find.py",
    "lr_suggest.py",
    "train.py",
    "runner_study.py",
)

_MARKER = re.compile(r"^<!-- (example(?: not run)?:.*?) -->$")
_JSON_KIND = re.compile(
    r"^example: (?:(?P<answer>answer of )?(?P<method>GET|POST|PUT|DELETE) (?P<path>/\S+)|(?P<space>space))$"
)


@dataclass
class Block:
    page: str  # from the repository's root
    line: int  # the opening fence's, from 1
    lang: str
    text: str
    marker: Optional[str]  # "example...: ..." from the comment on the line above, if any

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"

    @property
    def not_run(self) -> bool:
        return self.marker is not None and self.marker.startswith("example not run:")


def _blocks(page: Path) -> Tuple[List[Block], List[str]]:
    """The fenced blocks of a page, and its problems (an unclosed fence, a marker above no block)."""
    rel = str(page.relative_to(ROOT))
    lines = page.read_text().split("\n")
    out: List[Block] = []
    problems: List[str] = []
    i = 0
    while i < len(lines):
        fence = re.match(r"^```(.*)$", lines[i])
        if _MARKER.match(lines[i]) and not (i + 1 < len(lines) and lines[i + 1].startswith("```")):
            problems.append(f"{rel}:{i + 1}: an example marker that is not right above a block")
        if not fence:
            i += 1
            continue
        end = next((j for j in range(i + 1, len(lines)) if lines[j] == "```"), None)
        if end is None:
            problems.append(f"{rel}:{i + 1}: a block that is never closed")
            break
        marker = _MARKER.match(lines[i - 1]) if i > 0 else None
        text = "\n".join(lines[i + 1 : end]) + "\n"
        out.append(Block(rel, i + 1, fence.group(1).strip(), text, marker.group(1) if marker else None))
        i = end + 1
    return out, problems


def _all_blocks() -> List[Block]:
    return [b for page in PAGES for b in _blocks(page)[0]]


def _runnable_sh(page: str) -> List[Block]:
    return [b for b in _all_blocks() if b.page == page and b.lang == "sh" and not b.not_run]


def _json_kind(b: Block) -> Optional[re.Match]:
    return _JSON_KIND.match(b.marker or "")


def test_every_guide_block_is_run_or_marked() -> None:
    """Every block of the README and docs/ is an example a test here runs or checks, a figure, or
    marked not run with its reason; the marks per page are NOT_RUN's."""
    problems: List[str] = []
    files = {p.name: p.read_text() for p in sorted(EXAMPLES.glob("*.py"))}
    not_run: Dict[str, int] = {}
    blocks = []
    for page in PAGES:
        found, page_problems = _blocks(page)
        blocks += found
        problems += page_problems
    for b in blocks:
        if b.not_run:
            assert b.marker is not None
            if not b.marker.split(":", 1)[1].strip():
                problems.append(f"{b.where}: not run, without a reason")
            not_run[b.page] = not_run.get(b.page, 0) + 1
        elif b.lang == "text":
            if b.marker:
                problems.append(f"{b.where}: a figure (text) with an example marker")
        elif b.lang == "python":
            if b.marker:
                problems.append(f"{b.where}: a python block's marker (only 'not run' applies)")
            if b.text not in files.values():
                problems.append(f"{b.where}: a python block that is no file of examples/python/ as it is")
        elif b.lang == "sh":
            if b.marker:
                problems.append(f"{b.where}: an sh block's marker (only 'not run' applies)")
        elif b.lang == "json":
            if not _json_kind(b):
                problems.append(
                    f"{b.where}: a json block needs <!-- example: METHOD /path -->, <!-- example: answer of "
                    f"METHOD /path -->, <!-- example: space --> or <!-- example not run: why --> above it"
                )
        else:
            problems.append(
                f"{b.where}: a block in {b.lang or 'no language'}: write python, sh, json or text"
            )
    assert problems == []
    assert not_run == NOT_RUN
    # Every example file runs: here by name, or in a guide's sh block.
    shell = "".join(b.text for b in blocks if b.lang == "sh" and not b.not_run)
    for name in files:
        assert name in RUN_HERE or f"examples/python/{name}" in shell, f"examples/python/{name} runs nowhere"


# --- the sh blocks -----------------------------------------------------------------------------

_PRELUDE = r"""
set -euo pipefail
# Every curl call's block, method, status and URL (and its answer) in $STRIDE_EXAMPLE_LOG.
curl() {
  local out
  out="$STRIDE_EXAMPLE_LOG/$(date +%s%N).$BASHPID"
  command curl --write-out "%{stderr}$STRIDE_EXAMPLE_BLOCK %{method} %{http_code} %{url_effective}\n" "$@" \
    2>>"$out.meta" | tee "$out.body"
}
"""

_EXIT = re.compile(r"^(?P<cmd>[^#\n]*?\S)\s+# exit (?P<n>\d+)\b.*$")


#: Names the service keeps unique (a project's): each run of the test gets its own.
UNIQUE_NAMES = ('"ci-demo"',)


def _script(b: Block, server: Server, run_id: str) -> str:
    """The block as the test runs it: the Worker's keys, UNIQUE_NAMES suffixed with `run_id`, and
    `# exit N` lines held to N."""
    text = (
        b.text.replace("stride-dev-key", server.key)
        .replace("stride-runner-key", server.runner_key)
        .replace("stride-admin-token", server.admin_token)
    )
    for name in UNIQUE_NAMES:
        text = text.replace(name, f'{name[:-1]}-{run_id}"')
    lines = text.rstrip("\n").split("\n")
    out = [f"export STRIDE_EXAMPLE_BLOCK={b.line}"]
    for k, line in enumerate(lines):
        m = _EXIT.match(line)
        continued = line.rstrip().endswith("\\") or (k > 0 and lines[k - 1].rstrip().endswith("\\"))
        if m and not continued:
            where = f"{b.page}:{b.line + 1 + k}"
            out.append(
                f"if {m['cmd']}; then __rc=0; else __rc=$?; fi; "
                f"[ \"$__rc\" = {m['n']} ] || {{ echo \"{where}: exit $__rc where the guide says {m['n']}\" >&2; exit 1; }}"
            )
        else:
            out.append(line)
    return "\n".join(out) + "\n"


def _statuses_shown(b: Block) -> set:
    """The HTTP error statuses a block's comments show (its answers may have them)."""
    comments = " ".join(line.split("#", 1)[1] for line in b.text.split("\n") if "#" in line)
    return {int(s) for s in re.findall(r"\b([45]\d\d)\b", comments)}


@pytest.mark.parametrize("page", sorted({b.page for b in _all_blocks() if b.lang == "sh" and not b.not_run}))
def test_the_guides_shell_examples_run(server: Server, page: str, tmp_path: Path) -> None:
    blocks = _runnable_sh(page)
    log = tmp_path / "log"
    log.mkdir()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(sys.executable)
    env = _env(server, server.key)
    env.update(STRIDE_EXAMPLE_LOG=str(log), PATH=f"{bin_dir}{os.pathsep}{env['PATH']}")
    script = _PRELUDE + "".join(_script(b, server, os.urandom(4).hex()) for b in blocks)
    run = subprocess.run(
        ["bash", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900
    )
    assert (
        run.returncode == 0
    ), f"{page}'s sh blocks exited {run.returncode}:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    calls = [
        (meta.read_text().strip().split("\n")[-1].split(" ", 3), meta) for meta in sorted(log.glob("*.meta"))
    ]
    assert calls, f"{page}'s sh blocks called no curl"
    by_line = {b.line: b for b in blocks}
    for (line, method, status, url), meta in calls:
        allowed = _statuses_shown(by_line[int(line)])
        body = meta.with_suffix(".body").read_text() if meta.with_suffix(".body").exists() else ""
        assert (
            200 <= int(status) < 300 or int(status) in allowed
        ), f"{page}:{line}: {method} {url} answered {status}: {body[:500]}"


# --- the json blocks ---------------------------------------------------------------------------


def _shape_problems(doc: Any, got: Any, at: str = "") -> List[str]:
    """Where `doc` (a guide's answer) names a field `got` (the service's) lacks, or a value of another type."""
    if doc is None or got is None or doc == "...":
        return []
    if isinstance(doc, dict):
        if not isinstance(got, dict):
            return [f"{at or '.'}: an object in the guide, {type(got).__name__} in the answer"]
        return [
            p
            for k, v in doc.items()
            for p in (
                _shape_problems(v, got[k], f"{at}.{k}") if k in got else [f"{at}.{k}: not in the answer"]
            )
        ]
    if isinstance(doc, list):
        if not isinstance(got, list):
            return [f"{at}: a list in the guide, {type(got).__name__} in the answer"]
        shown = [d for d in doc if d != "..."]
        return _shape_problems(shown[0], got[0], f"{at}[0]") if shown and got else []
    if isinstance(doc, bool) or isinstance(got, bool):
        same = isinstance(doc, bool) and isinstance(got, bool)
    elif isinstance(doc, (int, float)):
        same = isinstance(got, (int, float))
    else:
        same = isinstance(doc, str) and isinstance(got, str)
    return [] if same else [f"{at}: {type(doc).__name__} in the guide, {type(got).__name__} in the answer"]


def _requests_shown(b: Block) -> List[Tuple[str, str, Any]]:
    """The requests a block shows: a json request block's, or each curl of an sh block whose -d is JSON."""
    kind = _json_kind(b) if b.lang == "json" else None
    if kind and kind["method"] and not kind["answer"]:
        return [(kind["method"], kind["path"], json.loads(b.text))]
    shown = []
    if b.lang == "sh":
        for m in re.finditer(
            r"curl -s \$STRIDE_URL(?P<path>/v1/[^\s\\]*).*?-d '(?P<body>\{.*?\})'", b.text, re.S
        ):
            try:
                shown.append(("POST", m["path"], json.loads(m["body"])))
            except ValueError:
                pass  # a body the shell completes ("'$PROJECT'"): the sh test sends it
    return shown


@pytest.mark.parametrize(
    "page", sorted({b.page for b in _all_blocks() if b.lang == "json" and not b.not_run})
)
def test_the_guides_json_examples(client: stride.Client, page: str) -> None:
    shown: Dict[Tuple[str, str], Any] = {}
    checked = 0
    for b in [b for b in _all_blocks() if b.page == page and not b.not_run]:
        kind = _json_kind(b) if b.lang == "json" else None
        if kind and kind["space"]:
            space = {f"p{i}": json.loads(line) for i, line in enumerate(b.text.strip().split("\n"))}
            study = client.request("POST", "/v1/studies", {"name": f"guide {b.where}", "space": space})
            assert study["space"].keys() == space.keys(), b.where
            checked += 1
        elif kind and kind["answer"]:
            route = (kind["method"], kind["path"])
            assert route in shown, f"{b.where}: no {' '.join(route)} shown before this answer"
            got = client.request(*route, shown[route])
            assert _shape_problems(json.loads(b.text), got) == [], b.where
            checked += 1
        for method, path, body in _requests_shown(b):
            if b.lang == "json":
                client.request(method, path, body)  # a StrideError unless 2xx
                checked += 1
            shown.setdefault((method, path), body)
    assert checked > 0
