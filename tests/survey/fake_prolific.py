"""A fake Prolific researcher API: a real HTTP server on 127.0.0.1 in a thread.

It speaks the endpoints the platform uses in Prolific's wire format (``/api/v1/...``,
``Authorization: Token <token>``, its field names and statuses, ``_links.next`` pagination)
and keeps what a test checks afterwards: studies, submissions, bonus set-ups and **how many
times each set-up was paid**. Failures are injected per endpoint: a status (429 with
``Retry-After``, 5xx) before or *after* the work was done, or a dropped connection after it
(the answer is lost, as when the network or our process dies between "paid" and hearing so).

As on Prolific, a paid bonus shows on its submission (``GET /submissions/{id}/``, field
``bonus_payments``, in cents) once the payment is processed: at once, or, with
``settle_later``, only when the test calls ``settle()`` (Prolific pays asynchronously).
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REJECTION_CATEGORIES = {
    "TOO_QUICKLY", "TOO_SLOWLY", "FAILED_INSTRUCTIONS", "INCOMP_LONGITUDINAL", "FAILED_CHECK",
    "LOW_EFFORT", "MALINGERING", "NO_CODE", "BAD_CODE", "NO_DATA", "UNSUPP_DEVICE", "OTHER",
}  # fmt: skip
STUDY_TRANSITIONS = {
    "PUBLISH": "ACTIVE",
    "PAUSE": "PAUSED",
    "START": "ACTIVE",
    "STOP": "AWAITING REVIEW",
}
PLACEHOLDERS = ("{{%PROLIFIC_PID%}}", "{{%STUDY_ID%}}", "{{%SESSION_ID%}}")
PAGE_SIZE = 2  # small, so that listing follows the pagination links


@dataclass
class Fault:
    method: str
    path: re.Pattern
    status: int = 500
    times: int = 1
    retry_after: str | None = None
    after_work: bool = False  # do the work, then fail (the answer is lost)
    drop: bool = False  # close the connection instead of answering


@dataclass
class FakeProlific:
    token: str = "test-prolific-token"
    studies: dict = field(default_factory=dict)
    submissions: dict = field(default_factory=dict)
    bonus_setups: dict = field(default_factory=dict)
    payments: dict = field(default_factory=dict)  # bulk id -> times paid
    settle_later: bool = False  # paid bonuses show on submissions only after settle()
    unsettled: list = field(default_factory=list)  # (submission id, cents) not shown yet
    requests: list = field(default_factory=list)  # (method, path, body)
    faults: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self):
        self.ids = (f"{n:024x}" for n in itertools.count(0x6100000000000000000000))

    # --- test controls -------------------------------------------------------------------

    def fail(self, method: str, path: str, **kwargs) -> None:
        """Make the next request(s) to ``method path`` (a regex) fail; see ``Fault``."""
        self.faults.append(Fault(method=method, path=re.compile(path), **kwargs))

    def add_submission(self, *, study_id: str, participant_id: str, status="ACTIVE") -> str:
        """A participant starts the study on Prolific: returns the submission (session) id."""
        sid = next(self.ids)
        self.submissions[sid] = {
            "id": sid,
            "participant_id": participant_id,
            "study_id": study_id,
            "status": status,
            "started_at": "2026-11-30T10:00:00Z",
            "completed_at": None,
            "time_taken": None,
            "study_code": "",
            "return_requested": None,
            "bonus_payments": [],
        }
        return sid

    def settle(self) -> None:
        """Prolific's asynchronous processing catches up: pending bonuses show."""
        with self.lock:
            for sid, cents in self.unsettled:
                self.submissions[sid]["bonus_payments"].append(cents)
            self.unsettled.clear()

    def submit(self, sid: str, *, code: str, time_taken: int = 900) -> None:
        """The participant comes back to Prolific with ``code``: awaiting review."""
        self.submissions[sid].update(
            status="AWAITING REVIEW",
            study_code=code,
            completed_at="2026-11-30T10:15:00Z",
            time_taken=time_taken,
        )

    def bonuses_paid(self) -> dict[str, Decimal]:
        """Total bonus each submission received (set-ups times the times they were paid)."""
        paid: dict[str, Decimal] = {}
        for bulk_id, times in self.payments.items():
            for sid, amount in self.bonus_setups[bulk_id]["rows"]:
                paid[sid] = paid.get(sid, Decimal(0)) + Decimal(amount) * times
        return paid

    # --- the API -------------------------------------------------------------------------

    def handle(self, method: str, path: str, body, base: str):
        """(status, answer) for one request; raises KeyError for an unknown object (404)."""
        m = re.fullmatch
        if method == "POST" and path == "/api/v1/studies/":
            return self.create_study(body)
        if g := m(r"/api/v1/studies/(\w+)/", path):
            return 200, self.studies[g[1]]
        if method == "POST" and (g := m(r"/api/v1/studies/(\w+)/transition/", path)):
            study = self.studies[g[1]]
            if body.get("action") not in STUDY_TRANSITIONS:
                return 400, {"error": {"detail": "Unknown action"}}
            study["status"] = STUDY_TRANSITIONS[body["action"]]
            return 200, study
        if g := m(r"/api/v1/studies/(\w+)/submissions/", path.split("?")[0]):
            self.studies[g[1]]
            page = int(re.search(r"page=(\d+)", path)[1]) if "page=" in path else 1
            rows = [s for s in self.submissions.values() if s["study_id"] == g[1]]
            chunk = rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
            more = page * PAGE_SIZE < len(rows)
            href = f"{base}/api/v1/studies/{g[1]}/submissions/?page={page + 1}" if more else None
            return 200, {
                "results": chunk,
                "_links": {"next": {"href": href, "title": "Next page"}},
                "meta": {"count": len(rows)},
            }
        if method == "GET" and (g := m(r"/api/v1/submissions/(\w+)/", path)):
            return 200, self.submissions[g[1]]
        if method == "POST" and path == "/api/v1/submissions/bulk-approve/":
            ids = body.get("submission_ids") or []
            if not ids or any(self.submissions[i]["status"] != "AWAITING REVIEW" for i in ids):
                return 400, {"error": {"detail": "Only submissions awaiting review."}}
            for i in ids:
                self.submissions[i]["status"] = "APPROVED"
            return 200, "Bulk approve in progress"
        if method == "POST" and (g := m(r"/api/v1/submissions/(\w+)/transition/", path)):
            return self.transition_submission(self.submissions[g[1]], body)
        if method == "POST" and (g := m(r"/api/v1/submissions/(\w+)/request-return/", path)):
            submission = self.submissions[g[1]]
            if not body.get("request_return_reasons"):
                return 400, {"error": {"detail": "request_return_reasons is required"}}
            submission["return_requested"] = "2026-11-30T11:00:00Z"
            return 200, {k: submission[k] for k in ("id", "status", "return_requested")}
        if method == "POST" and path == "/api/v1/submissions/bonus-payments/":
            return self.set_up_bonuses(body)
        if method == "POST" and (g := m(r"/api/v1/bulk-bonus-payments/(\w+)/pay/", path)):
            rows = self.bonus_setups[g[1]]["rows"]
            self.payments[g[1]] = self.payments.get(g[1], 0) + 1
            paid = [(sid, int(Decimal(amount) * 100)) for sid, amount in rows]
            if self.settle_later:
                self.unsettled.extend(paid)
            else:
                for sid, cents in paid:
                    self.submissions[sid]["bonus_payments"].append(cents)
            return 202, f"Bulk bonus payment with ID {g[1]} is being processed asynchronously."
        return 404, {"error": {"detail": "Not found."}}

    def create_study(self, body):
        missing = [
            k
            for k in ("name", "description", "external_study_url", "completion_codes",
                      "estimated_completion_time", "reward", "total_available_places")
            if not body.get(k)
        ]  # fmt: skip
        if missing:
            return 400, {"error": {"detail": {k: ["This field is required."] for k in missing}}}
        if not all(p in body["external_study_url"] for p in PLACEHOLDERS):
            return 400, {"error": {"detail": "external_study_url lacks the URL parameters"}}
        for code in body["completion_codes"]:
            if not code.get("code") or not code.get("code_type") or "actions" not in code:
                return 400, {"error": {"detail": "completion code needs code, type, actions"}}
        study = {**body, "id": next(self.ids), "status": "UNPUBLISHED"}
        self.studies[study["id"]] = study
        return 201, study

    def transition_submission(self, submission, body):
        action = body.get("action")
        if submission["status"] != "AWAITING REVIEW":
            return 400, {"error": {"detail": f"Submission is {submission['status']}."}}
        if action == "APPROVE":
            submission["status"] = "APPROVED"
        elif action == "REJECT":
            if body.get("rejection_category") not in REJECTION_CATEGORIES:
                return 400, {"error": {"detail": "rejection_category is invalid"}}
            if len(body.get("message") or "") < 100:
                return 400, {"error": {"detail": "message must be at least 100 characters"}}
            submission["status"] = "REJECTED"
        else:
            return 400, {"error": {"detail": "Unknown action"}}
        return 200, submission

    def set_up_bonuses(self, body):
        study_id, rows = body.get("study_id"), []
        for line in (body.get("csv_bonuses") or "").strip().splitlines():
            sid, amount = line.split(",")
            submission = self.submissions.get(sid)
            if submission is None or submission["study_id"] != study_id:
                return 400, {"error": {"detail": f"{sid} did not take part in this study"}}
            rows.append((sid, amount))
        if not rows:
            return 400, {"error": {"detail": "csv_bonuses is empty"}}
        amount = sum(Decimal(a) for _, a in rows) * 100
        bulk = {
            "id": next(self.ids),
            "study": study_id,
            "amount": float(amount),
            "fees": float(amount / 3),
            "vat": 0,
            "total_amount": float(amount * 4 / 3),
        }
        self.bonus_setups[bulk["id"]] = {**bulk, "rows": rows}
        return 201, bulk

    # --- serving -------------------------------------------------------------------------

    def start(self, port: int = 0) -> FakeProlific:
        """Serve on 127.0.0.1:``port`` (0: a free port) in a thread."""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def do_GET(self):
                self.serve("GET")

            def do_POST(self):
                self.serve("POST")

            def serve(self, method):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else {}
                if self.headers.get("Authorization") != f"Token {fake.token}":
                    return self.answer(401, {"error": {"detail": "Invalid token."}})
                with fake.lock:
                    fake.requests.append((method, self.path, body))
                    fault = next(
                        (f for f in fake.faults if f.method == method and f.path.search(self.path)),
                        None,
                    )
                    if fault:
                        fault.times -= 1
                        if fault.times <= 0:
                            fake.faults.remove(fault)
                    status, answer = 0, None
                    if fault is None or fault.after_work:
                        try:
                            status, answer = fake.handle(method, self.path, body, fake.url)
                        except KeyError:
                            status, answer = 404, {"error": {"detail": "Not found."}}
                if fault is None:
                    return self.answer(status, answer)
                if fault.drop:
                    self.close_connection = True
                    self.connection.close()
                    return None
                headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                return self.answer(fault.status, {"error": {"detail": "injected"}}, headers)

            def answer(self, status, answer, headers=None):
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
