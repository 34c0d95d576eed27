"""CSV cells: nested values as compact JSON, and text a spreadsheet would run as a formula made text."""

from __future__ import annotations

import csv
import io

import pytest

from gateway.exports.contents import csv_record


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("Amara", "Amara"),
        ('=HYPERLINK("https://evil.example")', '\'=HYPERLINK("https://evil.example")'),
        ("+44 20 7946 0000", "'+44 20 7946 0000"),
        ("-1+1", "'-1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTab", "'\tTab"),
        ("a=b", "a=b"),
        (-5, "-5"),
        (True, "true"),
        ({"line1": "1 High St"}, '{"line1":"1 High St"}'),
        (None, ""),
    ],
)
def test_a_cell_is_text_a_spreadsheet_shows_as_it_is(value: object, cell: str) -> None:
    [row] = list(csv.reader(io.StringIO(csv_record(["v"], {"v": value}).decode())))
    assert row == [cell]
