"""What people type into the records (issue 14, point 8): codes and names in NFC, control and
format characters refused (NUL, terminal escapes, zero-width and bidi marks that make two codes
look alike), the same length limits on SQLite and PostgreSQL, clip names cleaned."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from tests.records_data import squats, write_clip
from valgus.core.clearance import Override
from valgus.store.errors import RecordError
from valgus.store.service import Records


@pytest.fixture
def records(tmp_path: Path, database_url: str | None) -> Iterator[Records]:
    with Records.open(tmp_path / "data", url=database_url) as rec:
        yield rec


@pytest.mark.parametrize("code", ["RUN\u200b-1", "RUN-\u202e1", "RUN\x00-1", "RUN\x1b[31m-1",
                                  "RUN\u2060-1"])
def test_invisible_and_control_characters_are_refused(records: Records, code: str) -> None:
    with pytest.raises(RecordError, match="invisible or control character"):
        records.add_person(code)
    with pytest.raises(RecordError, match="invisible or control character"):
        records.ensure_person(code)
    assert records.list_people() == []


def test_codes_are_nfc_and_limits_are_the_same_everywhere(
    records: Records, tmp_path: Path
) -> None:
    composed = records.add_person("CAF\u00c9-1")
    assert records.ensure_person("CAFE\u0301-1").id == composed.id  # decomposed: same person
    with pytest.raises(RecordError, match="longer than 64 characters"):
        records.add_person("R" * 65)
    with pytest.raises(RecordError, match="longer than 10000 characters"):
        records.add_person("RUN-2", notes="x" * 10_001)
    records.add_person("RUN-3", notes="line one\nline two\tend")
    sid = records.create_session("RUN-3", date(2025, 3, 4)).id
    result, _ = squats("left", 5.0, 3)
    saved = records.save_analysis(sid, write_clip(tmp_path / "c.mp4"), result,
                                  original_name="left\u200b\x00 clip\u202e.mp4")
    assert saved.clip.original_name == "left clip.mp4"
    with pytest.raises(RecordError, match="invisible or control character"):
        records.save_review(sid, "Dr Vega", "ok", [Override(saved.id, 1, "fine", "x\x1b[2J")])
    with pytest.raises(RecordError, match="longer than 1000 characters"):
        records.save_review(sid, "Dr Vega", "ok", [Override(saved.id, 1, "fine", "y" * 1001)])
    with pytest.raises(RecordError, match="invisible or control character"):
        records.save_review(sid, "Dr\u200bVega", "ok")
    review = records.save_review(sid, "Dr  Vega", "notes\r\nsecond line ")
    assert review.reviewer == "Dr Vega" and review.notes == "notes\nsecond line"



def test_every_text_column_takes_its_limit_and_refuses_one_more(
    records: Records, tmp_path: Path
) -> None:
    """The checker's limits are the columns' (one constant each, in ``store.models``): a code,
    a name, notes and a reason one over the limit are refused with the one-line RecordError,
    one at the limit is stored, on SQLite (which ignores VARCHAR lengths) and on PostgreSQL
    (which refuses a longer value)."""
    from valgus.store.info import MAX_TEXT_CHARS
    from valgus.store.models import MAX_CODE_CHARS, MAX_NAME_CHARS, Base
    from valgus.store.signing import MAX_REASON_CHARS

    tables = Base.metadata.tables
    assert tables["people"].c.code.type.length == MAX_CODE_CHARS  # type: ignore[attr-defined]
    for table, column in (("reviews", "reviewer"), ("clearance_records", "signed_by"),
                          ("clearance_records", "updated_by"), ("signatures", "signed_by")):
        assert tables[table].c[column].type.length == MAX_NAME_CHARS  # type: ignore[attr-defined]

    def refused(call: object, message: str) -> None:
        with pytest.raises(RecordError) as err:
            call()  # type: ignore[operator]
        assert str(err.value).splitlines() == [message]

    over = "C" * (MAX_CODE_CHARS + 1)
    refused(lambda: records.add_person(over),
            f"person code is longer than {MAX_CODE_CHARS} characters")
    refused(lambda: records.ensure_person(over),
            f"person code is longer than {MAX_CODE_CHARS} characters")
    refused(lambda: records.add_person("RUN-1", notes="n" * (MAX_TEXT_CHARS + 1)),
            f"the notes is longer than {MAX_TEXT_CHARS} characters")
    assert records.list_people() == []
    code = "C" * MAX_CODE_CHARS
    person = records.add_person(code, notes="n" * MAX_TEXT_CHARS)
    assert records.get_person(code).id == person.id and records.get_person(code).code == code
    sid = records.create_session(code, date(2025, 3, 4)).id
    result, _ = squats("left", 5.0, 3)
    saved = records.save_analysis(sid, write_clip(tmp_path / "c.mp4"), result)
    refused(lambda: records.save_review(sid, "R" * (MAX_NAME_CHARS + 1), "ok"),
            f"name is longer than {MAX_NAME_CHARS} characters")
    refused(lambda: records.save_review(
        sid, "Dr Vega", "ok", [Override(saved.id, 1, "fine", "r" * (MAX_REASON_CHARS + 1))]),
        f"the reason for rep 1 is longer than {MAX_REASON_CHARS} characters")
    name = "R" * MAX_NAME_CHARS
    review = records.save_review(sid, name, "n" * MAX_TEXT_CHARS,
                                 [Override(saved.id, 1, "fine", "r" * MAX_REASON_CHARS)])
    assert review.reviewer == name and len(review.notes) == MAX_TEXT_CHARS
    assert records.sign_clearance(sid, name).decision.status == "NOT YET"
