"""The item pool CSV reader (pure): every problem reported by row, valid rows kept."""

from survey.item_csv import MAX_ROWS, read_item_csv


def messages(data: bytes) -> list[str]:
    return [str(e) for e in read_item_csv(data)[1]]


def test_rows_are_read_with_quoted_commas_paragraphs_and_any_column_order():
    data = (
        b"Source,Response,Scenario,Title\r\n"
        b'reddit,"Tell her, kindly.","My sister, again...\n\nSecond paragraph.",AITA?\r\n'
        b'reddit,Ignore it.,"My sister, again...\n\nSecond paragraph.",AITA?\r\n'
        b"\r\n"
    )
    rows, errors = read_item_csv(data)
    assert errors == []
    assert [r.response for r in rows] == ["Tell her, kindly.", "Ignore it."]
    assert rows[0].scenario == "My sister, again...\n\nSecond paragraph."
    assert rows[0].scenario_key == rows[1].scenario_key and rows[0].row == 2


def test_semicolon_files_and_a_byte_order_mark_are_read():
    rows, errors = read_item_csv("\ufeffscenario;response;source\nQ, with comma;A;chat\n".encode())
    assert errors == [] and rows[0].scenario == "Q, with comma"


def test_every_problem_is_listed_by_row():
    data = (
        b"scenario,response,source,scenario_id,style\n"
        b"Q1,A1,reddit,s1,\n"
        b",A2,reddit,,\n"  # row 3: empty scenario
        b"Q1,A1,reddit,s1,\n"  # row 4: duplicate of row 2
        b"Q2,A3,reddit,s1,\n"  # row 5: s1 with another text
        b"Q3,A4,reddit\n"  # row 6: too few fields
        b"Q4,A5,blog,,poem\n"  # row 7: bad style
    )
    rows, errors = read_item_csv(data)
    assert [r.row for r in rows] == [2]
    assert [str(e) for e in errors] == [
        "row 3: scenario is empty",
        "row 4: the same response to the same scenario is in row 2",
        "row 5: scenario_id 's1' has another source, title or text in row 2",
        "row 6: 3 fields where the header has 5",
        "row 7: style 'poem' is not one of titled, chat",
    ]


def test_header_encoding_and_size_problems():
    assert messages(b"text,answer\n1,2\n") == [
        "row 1: missing column(s): scenario, response, source",
        "row 1: unknown column(s): text, answer (known: scenario, response, source, title, "
        "scenario_id, style)",
    ]
    assert messages(b"") == ["the file is empty"]
    assert messages(b"scenario,response,source\n") == ["the file has a header but no items"]
    assert messages("scenario,response,source\nQ,\u00e9,s\n".encode("latin-1")) == [
        "the file is not UTF-8 text (byte 27 cannot be read)"
    ]
    big = "scenario,response,source\n" + "".join(f"Q,A{i},s\n" for i in range(MAX_ROWS + 1))
    assert messages(big.encode()) == [f"row {MAX_ROWS + 2}: more than {MAX_ROWS} items in one file"]
