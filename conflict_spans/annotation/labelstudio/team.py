"""A team on one Label Studio server: accounts for annotators (issue 13).

``add_annotators`` creates each account through the organization's invite
link, the way a person who opens the link signs up (Label Studio 1.23.2's
community edition has no API that creates a user who can log in: ``POST
/api/users/`` stores neither a usable password nor the organization), with a
generated password, then logs in as that person once to read their API token,
for annotators who work through the SDK. The password and token are returned
once; Label Studio keeps only the password's hash.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass

from conflict_spans import problems as catalogue
from conflict_spans.annotation.labelstudio.client import Connection, call
from conflict_spans.problems import CorpusError

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Annotator:
    email: str
    created: bool  # False: the account existed and was left as it was
    password: str | None = None  # only for an account created now
    token: str | None = None


def check_emails(emails: list[str]) -> list[str]:
    """The emails, checked before the server is asked: each well formed, none given twice. Raises with every problem."""
    problems = [catalogue.annotator_email_invalid(e) for e in emails if not EMAIL.match(e)]
    seen: set[str] = set()
    for email in emails:
        if email.lower() in seen:
            problems.append(catalogue.annotator_email_twice(email))
        seen.add(email.lower())
    if problems:
        raise CorpusError(problems)
    return emails


def invite_link(conn: Connection) -> str:
    """The organization's invite link (anyone who opens it can sign up as an annotator)."""
    import httpx

    try:
        resp = httpx.get(f"{conn.url}/api/invite", headers={"Authorization": f"Token {conn.token}"}, timeout=30)
        resp.raise_for_status()
    except httpx.HTTPError as exc:
        raise CorpusError(catalogue.api_failed("read the invite link", getattr(getattr(exc, "response", None), "status_code", "-"), str(exc))) from None
    return conn.url + resp.json()["invite_url"]


def _form_post(client, path: str, data: dict, referer: str):
    client.get(path)  # sets the csrftoken cookie
    return client.post(path, data={**data, "csrfmiddlewaretoken": client.cookies.get("csrftoken", "")}, headers={"Referer": referer})


def sign_up(conn: Connection, link: str, email: str) -> Annotator:
    """One account through the invite link, with a generated password; its API token read by logging in once."""
    import httpx

    password = secrets.token_urlsafe(12)
    path = link[len(conn.url):]
    with httpx.Client(base_url=conn.url, follow_redirects=False, timeout=60) as browser:
        resp = _form_post(browser, path, {"email": email, "password": password, "allow_newsletters": "false", "how_find_us": "", "elaborate": ""},
                          link)
        if resp.status_code != 302:
            errors = re.findall(r'class="[^"]*error[^"]*"[^>]*>\s*([^<]+?)\s*<', resp.text)
            raise CorpusError(catalogue.annotator_signup_failed(email, resp.status_code, "; ".join(errors) or "no message"))
    with httpx.Client(base_url=conn.url, follow_redirects=False, timeout=60) as browser:
        resp = _form_post(browser, "/user/login/", {"email": email, "password": password}, f"{conn.url}/user/login/")
        if resp.status_code != 302:
            raise CorpusError(catalogue.annotator_signup_failed(email, resp.status_code, "the new account could not log in"))
        token = browser.get("/api/current-user/token").json().get("token")
    return Annotator(email, True, password, token)


def add_annotators(ls, conn: Connection, emails: list[str]) -> Iterator[Annotator]:
    """An account for every email that has none, yielded as it is made (so that a failure part-way loses no password
    already made); existing accounts are reported, never changed."""
    check_emails(emails)
    existing = {(u.email or "").lower() for u in call("list users", lambda: list(ls.users.list()))}
    link = invite_link(conn)
    for email in emails:
        yield Annotator(email, False) if email.lower() in existing else sign_up(conn, link, email)


# ---- blind overlap: one project per annotator -----------------------------------------------------------

MAX_TITLE = 50  # Label Studio 1.23.2 refuses longer project titles


def annotator_project(title: str, email: str) -> str:
    """The title of ``email``'s own copy of project ``title``: ``TITLE / EMAIL``, or, when that is longer than Label Studio
    allows, both shortened and a hash of the full title appended, so that titles stay distinct and the same every time."""
    full = f"{title} / {email}"
    if len(full) <= MAX_TITLE:
        return full
    import hashlib

    tag = hashlib.sha1(full.encode("utf-8")).hexdigest()[:6]
    room = MAX_TITLE - len(" / ") - len(" #") - len(tag)
    who = email[: max(room // 2, room - len(title))]
    return f"{title[: room - len(who)]} / {who} #{tag}"


def assign(n_docs: int, annotators: list[str], overlap: int) -> dict[str, list[int]]:
    """Document indices per annotator: document i goes to the ``overlap`` annotators after position i (round robin),
    so each document has exactly ``overlap`` annotators and the load differs by at most one document."""
    if not 1 <= overlap <= len(annotators):
        raise CorpusError(catalogue.overlap_out_of_range(overlap, len(annotators)))
    out: dict[str, list[int]] = {a: [] for a in annotators}
    for i in range(n_docs):
        for j in range(overlap):
            out[annotators[(i + j) % len(annotators)]].append(i)
    return out


# ---- adjudication ---------------------------------------------------------------------------------------

REVIEW = "review"  # the adjudicator's project: annotator_project(title, REVIEW)


def _content(doc) -> tuple:
    spans = tuple(sorted((s.start, s.end, s.label, s.status) for s in doc.spans))
    links = tuple(sorted((r.head.start, r.head.end, r.type, r.tail.start, r.tail.end) for r in doc.relations))
    return spans, links


@dataclass
class Plan:
    agreed: list  # documents every annotator of them labelled alike (two at least): decided
    disputed: dict  # doc id -> {annotator: document}: two or more versions that differ
    single: dict  # doc id -> {annotator: document}: one version only, nothing to compare it with


def adjudication_plan(versions: dict[str, list]) -> Plan:
    """Sort the documents of the annotators' versions: the same spans, statuses and links from every annotator who
    labelled a document (two or more) make it agreed; otherwise it goes to review with each version."""
    by_doc: dict[str, dict] = {}
    for who in sorted(versions):
        for doc in versions[who]:
            by_doc.setdefault(doc.id, {})[who] = doc
    plan = Plan([], {}, {})
    for doc_id in sorted(by_doc):
        docs = by_doc[doc_id]
        if len(docs) < 2:
            plan.single[doc_id] = docs
        elif len({_content(d) for d in docs.values()}) == 1:
            plan.agreed.append(next(iter(docs.values())))
        else:
            plan.disputed[doc_id] = docs
    return plan


__all__ = ["Annotator", "Plan", "REVIEW", "adjudication_plan", "add_annotators", "annotator_project", "assign", "check_emails", "invite_link", "sign_up"]
