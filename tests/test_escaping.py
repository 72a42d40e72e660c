"""Variables holding HTML or script reach the statements page, its feed and the email's
HTML part escaped, never as live markup; the plain-text payloads stay verbatim."""
from __future__ import annotations

import xml.etree.ElementTree as ElementTree

import pytest

from tests.fakes.smtp_server import SmtpServer

pytestmark = pytest.mark.servers

SCRIPT = '<script>alert("pwned")</script> & <img src=x onerror=alert(1)>'


def test_html_in_variables_is_escaped_on_the_site_and_in_email(workspace):
    with SmtpServer("none") as smtp:
        workspace.write_config(extra=f"""
[channels.press]
type = "email"
host = "127.0.0.1"
port = {smtp.port}
security = "none"
sender = "Acme <press@acme.example>"
recipients = ["newsroom@example.org"]
""")
        workspace.open_incident(case=2)
        draft = workspace.render("--case", "2", "--template", "apology", "--var", f"what={SCRIPT}")
        result = workspace.run("approve", draft, "--as", "ana")
        assert result.exit_code == 0, result.output
        message = smtp.received[0].message

    html_part = message.get_body(("html",)).get_content()
    text_part = message.get_body(("plain",)).get_content()
    assert SCRIPT in text_part
    site = workspace.path / "var" / "site"
    pages = [html_part, (site / "index.html").read_text(), *(p.read_text() for p in (site / "statements").glob("*"))]
    for page in pages:
        assert "<script>" not in page and "<img" not in page
        assert "&lt;script&gt;" in page
    feed = ElementTree.parse(site / "feed.xml")
    content = feed.find("{http://www.w3.org/2005/Atom}entry/{http://www.w3.org/2005/Atom}content")
    assert "<script>" not in (content.text or "") or content.get("type") == "text"
    assert "<script>" not in (site / "feed.xml").read_text()
    outbox = (workspace.path / "var" / "outbox" / f"{draft}--outbox.txt").read_text()
    assert SCRIPT in outbox
    report = workspace.path / "report.html"
    assert workspace.run("report", "1", "--format", "html", "-o", str(report)).exit_code == 0
    page = report.read_text()
    assert "&lt;script&gt;" in page and "<script" not in page and "<img" not in page
