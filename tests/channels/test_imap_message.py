"""Reading one e-mail's bytes (channels.imap_message), without a server: hostile input never raises."""
from __future__ import annotations

from channels.imap_message import read_message


def test_garbage_is_read_without_raising():
    for raw in (b"", b"\xff\xfe\x00garbage", b"Date: 99 Foo 99999 99:99\r\nFrom: =?bogus?Q?x?=\r\n\r\n\xff",
                b"Content-Type: multipart/mixed; boundary=\r\n\r\n--\r\n", b"Subject: " + b"x" * 100_000):
        read = read_message(raw)
        assert read.platform_time is None and len(read.subject) <= 500


def test_a_cut_message_keeps_what_arrived():
    raw = (b"From: Ana <ana@example.net>\r\nDate: Sat, 5 Dec 2026 10:00:00 -0000\r\n"
           b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\nSG9sYSBtdW5k")
    read = read_message(raw)
    assert read.author == "Ana <ana@example.net>" and read.platform_time == "2026-12-05T10:00:00+00:00"
    assert read.text.startswith("Hola")
    assert read.message_id is None and read.answers is None
