from channels.heard_text import CUT_MARK, clean_line, clean_text, plain_text


def test_html_becomes_the_text_a_reader_sees():
    html = '<p>Hola <a href="https://x">@acme</a>,</p><p>¿&iquest;Qué pasa&#33;</p><script>alert(1)</script>'
    assert plain_text(html) == "Hola @acme,\n\n¿¿Qué pasa!"


def test_broken_markup_and_control_characters_are_read_safely():
    text = plain_text("<div>uno<br>dos <b>tres")
    assert text == "uno\ndos tres"
    assert clean_text("a\x00b\x1bc\u202egnp.exe") == "abcgnp.exe"


def test_long_text_is_cut_and_says_so():
    text = clean_text("x" * 50, limit=20)
    assert len(text) == 20 and text.endswith(CUT_MARK)


def test_a_line_value_has_no_breaks():
    assert clean_line("<Mallory>\n\n  Evil\tname") == "<Mallory> Evil name"
