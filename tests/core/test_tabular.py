import csv
import io

from core.tabular import rows_to_csv, spreadsheet_safe


def test_formulas_are_neutralised_and_numbers_kept():
    assert spreadsheet_safe("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert spreadsheet_safe("@SUM(A1)") == "'@SUM(A1)"
    assert spreadsheet_safe("-2+3") == "'-2+3"
    assert spreadsheet_safe("Germany") == "Germany"
    assert spreadsheet_safe(-0.5) == -0.5 and spreadsheet_safe(None) is None


def test_rows_to_csv_unions_columns_and_quotes_text():
    text = rows_to_csv([{"a": 1, "b": 'x "y", z'}, {"a": -2, "c": "=1+1"}])
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [["a", "b", "c"], ["1", 'x "y", z', ""], ["-2", "", "'=1+1"]]
    assert rows_to_csv([]) == "\r\n"
