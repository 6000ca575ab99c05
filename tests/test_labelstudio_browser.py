"""Headless Chromium against the real server: the labeling UI shows the schema's labels and the pre-annotations."""

from __future__ import annotations

import re
import time

import pytest

from conflict_spans.annotation.labelstudio.client import export_tasks, push_documents, users_by_id
from conflict_spans.annotation.labelstudio.config import schema_names
from conflict_spans.annotation.labelstudio.tasks import pull_documents
from conflict_spans.document import Document, Span
from conflict_spans.schema import LABEL_NAMES

from ls_fixtures import *  # noqa: F403

pytestmark = [pytest.mark.labelstudio, pytest.mark.browser, pytest.mark.slow]

DOCS = [
    Document("browser-plain", "Gunmen killed 12 people in Goma, officials said.",
             [Span(0, 6, "ACTOR", None, 0.9), Span(14, 23, "CASUALTY", "killed", 0.8), Span(27, 31, "LOCATION", None, 0.7), Span(33, 42, "ATTRIBUTION", None, 0.6)], {}),
    Document("browser-emoji", "🇺🇦 👩‍👩‍👧 Kyiv said 3 people died 😢 in Kharkiv.",
             [Span(9, 13, "ATTRIBUTION", None, 0.9), Span(19, 27, "CASUALTY", "injured", 0.8), Span(38, 45, "LOCATION", None, 0.7)], {}),
]


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run .ci/labelstudio.sh (apt-get install chromium), or deselect with -m 'not browser'")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, ls_server):
    info, creds = ls_server
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    hosts: set[str] = set()
    page.on("request", lambda req: hosts.add(req.url.split("/")[2]))
    page.goto(f"{info.url}/user/login/")
    page.fill("input[name=email]", creds.username)
    page.fill("input[name=password]", creds.password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/user/login" not in url, timeout=60_000)
    yield page
    context.close()
    assert hosts <= {info.url.split("/")[2]}, f"the UI reached outside the local server: {sorted(hosts)}"


@pytest.mark.parametrize("doc", DOCS, ids=[d.id for d in DOCS])
def test_task_with_pre_annotations_renders(ls_client, ls_server, page, project_title, doc):
    info, _ = ls_server
    report = push_documents(ls_client, project_title, [doc], annotations=False, spans_model_version="corpus-check")
    page.goto(f"{info.url}/projects/{report.project_id}/data?task={report.task_ids[doc.id]}")
    page.wait_for_selector(".htx-highlight", timeout=60_000)

    assert [t.strip() for t in page.locator(".lsf-label__text").all_inner_texts()] == list(LABEL_NAMES)
    highlights = page.locator(".htx-highlight")
    assert highlights.all_inner_texts() == [doc.text[s.start:s.end] for s in doc.spans]  # code-point offsets land on the words
    assert [h.get_attribute("data-label").split(":", 1)[1] for h in highlights.all()] == [s.label for s in doc.spans]
    assert page.locator(".lsf-tree__node_type_richtextregion").count() == len(doc.spans)

    # the status choice appears only for a selected CASUALTY region, with the predicted value chosen
    casualty = next(s for s in doc.spans if s.label == "CASUALTY")
    status_header = page.get_by_text("CASUALTY status")
    assert not status_header.is_visible()
    page.locator(".htx-highlight").nth(doc.spans.index(casualty)).click()
    status_header.wait_for(state="visible", timeout=10_000)
    for value in ("killed", "injured"):
        assert page.get_by_label(re.compile(f"^{value}")).is_checked() == (value == casualty.status)

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"labelstudio-{doc.id}.png"))

    # submitting the pre-annotation in the browser gives an annotation that pulls back as the same spans
    page.get_by_test_id("bottombar-submit-button").click()
    project_id = report.project_id
    deadline = time.monotonic() + 30
    tasks = export_tasks(ls_client, project_id)
    while not tasks[0]["annotations"] and time.monotonic() < deadline:
        time.sleep(0.2)
        tasks = export_tasks(ls_client, project_id)
    assert tasks[0]["annotations"], "the annotation submitted in the browser never reached the server"
    (pulled,), _ = pull_documents(tasks, schema_names(), users_by_id(ls_client))
    assert pulled.document.spans == [Span(s.start, s.end, s.label, s.status) for s in doc.spans]


def _log_in(browser, url: str, email: str, password: str, hosts: set[str]):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.on("request", lambda req: hosts.add(req.url.split("/")[2]))
    page.goto(f"{url}/user/login/")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda u: "/user/login" not in u, timeout=60_000)
    return page


def _label_all_tasks(page, url: str, project: str, n: int, delete: dict[int, str], annotated) -> None:
    """As an annotator does: the projects list, their project, Label All Tasks, and Submit on each task in turn
    (``delete``: the highlighted text to remove first, by the task's place in the stream; ``annotated()``: how many tasks
    of the project the server holds an annotation of)."""
    page.goto(f"{url}/projects/")
    page.get_by_text(project, exact=True).first.click()
    page.get_by_text("Label All Tasks").first.click()
    for i in range(n):
        page.wait_for_selector(".htx-highlight", timeout=60_000)
        page.wait_for_function("document.querySelectorAll('.htx-highlight').length >= 4", timeout=30_000)
        if i in delete:
            page.locator(".htx-highlight", has_text=delete[i]).click()
            page.keyboard.press("Backspace")
            page.wait_for_function("document.querySelectorAll('.htx-highlight').length == 3", timeout=10_000)
        page.get_by_test_id("bottombar-submit-button").click()
        deadline = time.monotonic() + 30
        while annotated() < i + 1:
            assert time.monotonic() < deadline, f"task {i + 1} of {project!r} submitted in the browser never reached the server"
            time.sleep(0.3)
    page.context.close()


def test_a_team_follows_the_readme_section_in_the_browser(browser, ls_server, ls_client, project_title, tmp_path, capsys):
    """annotation/README.md, "Set up a team", steps 1 to 5 as people do them: accounts with `ls annotators add`; a blind
    overlap push; each annotator logs in with the printed password, finds their own project in the list and submits every
    task from "Label All Tasks" (one of them removes a region); agreement; `ls adjudicate`; the adjudicator opens the disputed
    task from the review project's Data Manager, sees each annotator's version in its tabs and side by side (Compare All),
    decides and submits; `ls pull --policy adjudicated` returns both documents as decided.
    Steps 6 to 8 (uncertainty order, a serving and learning backend) are tested through the API in test_labelstudio_integration.py."""
    import json
    import secrets

    from conflict_spans.annotation.labelstudio.client import find_project, list_tasks
    from conflict_spans.annotation.labelstudio.team import annotator_project
    from conflict_spans.cli import main
    from conflict_spans.corpus.io import read_documents, write_jsonl

    info, creds = ls_server
    url, conn = info.url, ["--url", info.url, "--token", creds.token]
    tag = secrets.token_hex(3)
    ann, bob, judge = (f"{who}-{tag}@example.org" for who in ("ann", "bob", "judge"))
    hosts: set[str] = set()

    # 1. Accounts: each password is printed once
    assert main(["ls", "annotators", "add", *conn, ann, bob, judge]) == 0
    passwords = dict(re.findall(r"created (\S+)  password: (\S+)  API token", capsys.readouterr().out))
    assert sorted(passwords) == sorted([ann, bob, judge])

    # 2. Blind overlap: a project per annotator, each document in both, the same pre-annotations
    text, spans = DOCS[0].text, [Span(s.start, s.end, s.label, s.status) for s in DOCS[0].spans]
    source = tmp_path / "batch.jsonl"
    write_jsonl(source, [Document(f"team-{i}", text, spans, {}) for i in range(2)])
    assert main(["ls", "push", *conn, str(source), "--spans-as", "predictions", "--project", project_title,
                 "--annotators", f"{ann},{bob}", "--overlap", "2"]) == 0

    # 3. Annotate: each in their own browser session, from their own project; bob removes "Goma" from his first task
    def annotated(who):
        project_id = find_project(ls_client, annotator_project(project_title, who))["id"]
        return lambda: sum(bool(t["annotations"]) for t in list_tasks(ls_client, project_id))

    _label_all_tasks(_log_in(browser, url, ann, passwords[ann], hosts), url, annotator_project(project_title, ann), 2, {}, annotated(ann))
    _label_all_tasks(_log_in(browser, url, bob, passwords[bob], hosts), url, annotator_project(project_title, bob), 2, {0: "Goma"}, annotated(bob))
    for who in (ann, bob):  # blind: each project holds its annotator's annotations only
        tasks = list_tasks(ls_client, find_project(ls_client, annotator_project(project_title, who))["id"])
        assert len(tasks) == 2 and all(len(t["annotations"]) == 1 for t in tasks)
        assert {a["completed_by"] for t in tasks for a in t["annotations"]} == {next(u.id for u in ls_client.users.list() if u.email == who)}
    capsys.readouterr()
    assert main(["ls", "agreement", *conn, "--project", project_title, "--annotators", f"{ann},{bob}"]) == 0
    assert re.search(r"LOCATION\s+2\s+1 \|", capsys.readouterr().out)

    # 4. Adjudicate: the agreed document is decided; the disputed one waits in the review project
    assert main(["ls", "adjudicate", *conn, "--project", project_title, "--annotators", f"{ann},{bob}", "--json", str(tmp_path / "before.json")]) == 0
    assert "1 document(s) agreed (decided), 1 disputed" in capsys.readouterr().out
    assert json.loads((tmp_path / "before.json").read_text(encoding="utf-8"))[0]["labels"]["LOCATION"]["strict"]["f1"] < 1
    review = find_project(ls_client, annotator_project(project_title, "review"))
    (disputed,) = [t for t in list_tasks(ls_client, review["id"]) if not t["annotations"]]
    page = _log_in(browser, url, judge, passwords[judge], hosts)
    page.goto(f"{url}/projects/")
    page.get_by_text(annotator_project(project_title, "review"), exact=True).first.click()
    page.wait_for_url(lambda u: f"/projects/{review['id']}/" in u, timeout=30_000)
    page.goto(f"{url}/projects/{review['id']}/data?task={disputed['id']}")  # the task's row in the Data Manager
    page.wait_for_selector(".htx-highlight", timeout=60_000)
    versions = {}
    for who in (ann, bob):  # each annotator's version is a tab named after them
        page.get_by_text(who[:8], exact=False).first.click()
        page.wait_for_timeout(1000)
        versions[who] = page.locator(".htx-highlight").all_inner_texts()
    assert versions == {ann: ["Gunmen", "12 people", "Goma", "officials"], bob: ["Gunmen", "12 people", "officials"]}
    page.get_by_text("Compare All").click()  # side by side
    page.wait_for_function("document.querySelectorAll('.htx-highlight').length >= 7", timeout=30_000)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "labelstudio-adjudication-compare.png"))
    page.get_by_text(judge[:8], exact=False).first.click()  # the adjudicator's own draft: decide for bob's version
    page.wait_for_function("document.querySelectorAll('.htx-highlight').length == 4", timeout=30_000)
    page.locator(".htx-highlight", has_text="Goma").click()
    page.keyboard.press("Backspace")
    page.wait_for_function("document.querySelectorAll('.htx-highlight').length == 3", timeout=10_000)
    page.get_by_test_id("bottombar-submit-button").click()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not next(t for t in list_tasks(ls_client, review["id"]) if t["id"] == disputed["id"])["annotations"]:
        time.sleep(0.5)
    page.context.close()

    # 5. Pull the decided documents
    decided = tmp_path / "decided.jsonl"
    assert main(["ls", "pull", *conn, "--project", project_title, "--policy", "adjudicated", "--output", str(decided),
                 "--skip-invalid", str(tmp_path / "rejected.jsonl")]) == 0
    without_goma = [s for s in spans if text[s.start:s.end] != "Goma"]
    got = {d.id: d.spans for d in read_documents(decided)}
    assert got == {disputed["data"]["doc_id"]: without_goma, ({"team-0", "team-1"} - {disputed["data"]["doc_id"]}).pop(): spans}
    assert (tmp_path / "rejected.jsonl").read_text(encoding="utf-8") == ""
    assert hosts <= {url.split("/")[2]}, f"the UI reached outside the local server: {sorted(hosts)}"


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    from support import make_tiny_model

    return make_tiny_model(tmp_path_factory.mktemp("tiny-model") / "model")


def test_uncertain_first_and_a_backend_that_learns_from_a_browser_submission(browser, ls_server, ls_client, project_title, tiny_model,
                                                                             tmp_path, capsys):
    """"Set up a team", steps 6 to 8 in the browser: `ls push --model M --uncertainty-sampling`, then "Label All Tasks" opens
    the least confident task first; `ls backend start --train --train-every 1` keeps the model serving; the annotator's
    submission in the browser makes the backend retrain, and the next task the annotator opens shows the new model's
    pre-annotation (the project's model version follows the retrained model)."""
    import json
    import secrets
    import urllib.request

    from conflict_spans.annotation.labelstudio.backend_process import read_backend_info
    from conflict_spans.annotation.labelstudio.client import find_project, list_tasks
    from conflict_spans.annotation.labelstudio.tasks import prediction_spans
    from conflict_spans.cli import main
    from conflict_spans.corpus.io import write_jsonl
    from conflict_spans.model.predict import load_predictor

    from support import tiny_documents

    info, creds = ls_server
    url, conn = info.url, ["--url", info.url, "--token", creds.token]
    ann = f"ann-{secrets.token_hex(3)}@example.org"
    assert main(["ls", "annotators", "add", *conn, ann]) == 0
    (password,) = re.findall(r"created \S+  password: (\S+)  API token", capsys.readouterr().out)
    texts = ["GOMA — Gunmen killed at least 12 civilians in Goma on Sunday, the army said.",
             "Rebels attacked Goma and the army said 12 people were killed.",
             "Nothing was reported from the hills on Monday.",
             "Officials in Bunia said 3 people were wounded."]
    source = tmp_path / "docs.jsonl"
    write_jsonl(source, [Document(f"al-{i}", t, [], {}) for i, t in enumerate(texts)])

    # 6. Most uncertain first
    assert main(["ls", "push", *conn, str(source), "--project", project_title, "--spans-as", "none", "--model", str(tiny_model),
                 "--uncertainty-sampling"]) == 0
    project = find_project(ls_client, project_title)
    scores = {t["id"]: t["predictions"][0]["score"] for t in list_tasks(ls_client, project["id"])}
    assert len(set(scores.values())) == len(scores), "ties would make the order below prove nothing"

    # 7 and 8. A backend that serves and learns
    validation = tmp_path / "validation.jsonl"
    write_jsonl(validation, tiny_documents()[3:])
    state = tmp_path / "backend"
    assert main(["ls", "backend", "start", *conn, "--model", str(tiny_model), "--port", "0", "--project", project_title, "--state-dir", str(state),
                 "--train", "--train-every", "1", "--train-epochs", "1", "--train-validation", str(validation)]) == 0
    backend = read_backend_info(state)
    hosts: set[str] = set()
    try:
        page = _log_in(browser, url, ann, password, hosts)
        page.goto(f"{url}/projects/")
        page.get_by_text(project_title, exact=True).first.click()
        page.get_by_text("Label All Tasks").first.click()
        page.wait_for_url(lambda u: "labeling=1" in u, timeout=30_000)
        page.wait_for_selector(".lsf-main-view__annotation", timeout=60_000)
        page.wait_for_timeout(1500)
        shown = page.locator(".lsf-main-view__annotation").inner_text()
        first = min(scores, key=scores.get)
        task_text = {t["id"]: t["data"]["text"] for t in list_tasks(ls_client, project["id"])}
        assert task_text[first] in shown, f"Label All Tasks opened another task than the least confident ({scores})"
        page.get_by_test_id("bottombar-submit-button").click()  # the pre-annotation as it is

        deadline, health = time.monotonic() + 300, {}
        while time.monotonic() < deadline:
            with urllib.request.urlopen(f"{backend.url}/health", timeout=10) as resp:
                health = json.loads(resp.read())
            done = [j for j in health.get("training", {}).get("jobs", []) if j["state"] in ("done", "failed")]
            if done and health["training"]["state"] == "idle":
                break
            time.sleep(1)
        (job,) = [j for j in health["training"]["jobs"] if j["state"] != "skipped"]
        assert job["state"] == "done" and job["documents"] == 1, job
        new = load_predictor(job["model_dir"])
        assert find_project(ls_client, project_title)["model_version"] == new.model_version

        # the next task the annotator opens carries the retrained model's pre-annotation
        page.goto(f"{url}/projects/{project['id']}/data?labeling=1")
        page.wait_for_selector(".lsf-main-view__annotation", timeout=60_000)
        page.wait_for_timeout(1500)
        shown = page.locator(".lsf-main-view__annotation").inner_text()
        (next_id,) = [tid for tid, text in task_text.items() if tid != first and text in shown]
        (task,) = [t for t in list_tasks(ls_client, project["id"]) if t["id"] == next_id]
        ((version, spans),) = prediction_spans(task, schema_names())
        assert version == new.model_version
        assert page.locator(".htx-highlight").all_inner_texts() == [task_text[next_id][s.start:s.end] for s in spans]
        page.context.close()
    finally:
        assert main(["ls", "backend", "stop", "--state-dir", str(state)]) == 0
    assert hosts <= {url.split("/")[2]}, f"the UI reached outside the local server: {sorted(hosts)}"
