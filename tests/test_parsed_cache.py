"""The parsed form of a shipped file is kept between runs, and only ever used for the
very file it was made from."""
from __future__ import annotations

import os

from publisher.parsed_cache import parsed


def counting_parser(calls):
    def parse(text):
        calls.append(text)
        return {"lines": text.splitlines()}
    return parse


def test_a_kept_form_is_reused_until_the_file_changes(tmp_path):
    source = tmp_path / "catalogue.po"
    source.write_text("one\ntwo\n", encoding="utf-8")
    calls = []
    assert parsed(source, counting_parser(calls), "test") == {"lines": ["one", "two"]}
    assert parsed(source, counting_parser(calls), "test") == {"lines": ["one", "two"]}
    assert len(calls) == 1
    assert (tmp_path / "__pycache__" / "catalogue.po.test.marshal").exists()

    source.write_text("one\ntwo\nthree\n", encoding="utf-8")
    assert parsed(source, counting_parser(calls), "test") == {"lines": ["one", "two", "three"]}
    assert len(calls) == 2


def test_an_edit_of_the_same_size_is_seen_by_its_modification_time(tmp_path):
    source = tmp_path / "playbooks.toml"
    source.write_text("alpha\n", encoding="utf-8")
    calls = []
    parsed(source, counting_parser(calls), "test")
    stat = source.stat()
    source.write_text("omega\n", encoding="utf-8")
    os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))
    assert parsed(source, counting_parser(calls), "test") == {"lines": ["omega"]}


def test_a_damaged_kept_form_is_parsed_again(tmp_path):
    source = tmp_path / "catalogue.po"
    source.write_text("one\n", encoding="utf-8")
    calls = []
    parsed(source, counting_parser(calls), "test")
    (tmp_path / "__pycache__" / "catalogue.po.test.marshal").write_bytes(b"\x00garbage")
    assert parsed(source, counting_parser(calls), "test") == {"lines": ["one"]}
    assert len(calls) == 2


def test_a_folder_that_cannot_be_written_only_means_nothing_is_kept(tmp_path):
    source = tmp_path / "catalogue.po"
    source.write_text("one\n", encoding="utf-8")
    (tmp_path / "__pycache__").write_text("a file where the folder would be", encoding="utf-8")
    calls = []
    assert parsed(source, counting_parser(calls), "test") == {"lines": ["one"]}
    assert parsed(source, counting_parser(calls), "test") == {"lines": ["one"]}
    assert len(calls) == 2


def test_a_result_that_is_not_plain_is_returned_but_not_kept(tmp_path):
    source = tmp_path / "catalogue.po"
    source.write_text("one\n", encoding="utf-8")
    marker = object()
    assert parsed(source, lambda text: {"value": marker}, "test") == {"value": marker}
    assert not (tmp_path / "__pycache__" / "catalogue.po.test.marshal").exists()
