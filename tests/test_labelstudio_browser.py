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
