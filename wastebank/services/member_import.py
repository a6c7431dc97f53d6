"""Import a unit's member list from its paper books: CSV or .xlsx → preview → confirm (issue 3).

The file is read into rows of text (cells are never evaluated: an ``=HYPERLINK(…)`` cell is the
text ``=HYPERLINK(…)``, and is refused as a formula). ``preview_import`` checks every row and
writes nothing; ``confirm_import`` re-reads the same bytes, refuses if any row is bad, and
creates the new members, each with one journal entry for a positive opening balance
(Dr opening_equity / Cr member savings). Rows matching an existing member (same member number
and name, or same name and phone) are skipped, and the file's SHA-256 is recorded per unit, so
importing the same file again changes nothing.

Columns (header row; English or Indonesian, case-insensitive): ``name``/``nama`` (required),
``address``/``alamat``, ``rt``, ``rw`` (or one ``rt/rw`` column like ``003/005``),
``phone``/``telepon``/``no hp``, ``member_no``/``no nasabah``, ``opening_balance``/``saldo
awal`` (rupiah text like ``Rp 125.000``; empty or 0 means none), ``kind``/``jenis``
(person/household/institution or perorangan/keluarga/lembaga). A leading ``no``/``#`` column
(row counter) is ignored; any other column is refused, so a wrong file is not half-read.
"""
from __future__ import annotations

import csv
import hashlib
import io
import re
import warnings
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..extensions import db
from ..models import Member, MemberImport, Unit
from ..money import InputError, parse_rupiah
from .audit import audit
from .errors import Conflict, DomainError
from .ledger import Leg, member_savings_account, post_journal, system_account
from .members import clean_member_no, create_member, normalise_phone

MAX_IMPORT_BYTES = 5 * 1024 * 1024   # a list of 10 000 members is well under 1 MB
MAX_IMPORT_ROWS = 10_000
MAX_OPENING_IDR = 1_000_000_000      # a passbook balance above Rp 1 milyar is a typo

_ALIASES = {
    "name": ("name", "nama", "nama nasabah", "nama lengkap", "full name"),
    "address": ("address", "alamat"),
    "rt": ("rt",),
    "rw": ("rw",),
    "rt_rw": ("rt/rw", "rt rw", "rt-rw"),
    "phone": ("phone", "telepon", "telp", "no telp", "hp", "no hp", "nomor hp", "no wa", "whatsapp",
              "phone number", "mobile"),
    "member_no": ("member no", "member number", "no nasabah", "nomor nasabah", "no anggota",
                  "nomor anggota", "no rekening", "id nasabah"),
    "opening_balance": ("opening balance", "balance", "saldo", "saldo awal", "saldo tabungan"),
    "kind": ("kind", "type", "jenis", "jenis nasabah"),
}
_IGNORED = ("no", "#", "nomor", "no urut")
_KINDS = {
    "": "person", "person": "person", "perorangan": "person", "pribadi": "person", "individu": "person",
    "household": "household", "keluarga": "household", "rumah tangga": "household", "kk": "household",
    "institution": "institution", "lembaga": "institution", "institusi": "institution",
    "sekolah": "institution", "masjid": "institution", "kantor": "institution", "mushola": "institution",
}


class ImportFileError(DomainError):
    """The file as a whole cannot be read (empty, too large, wrong format or columns)."""

    status = 422
    code = "bad_import_file"

    def __init__(self, message):
        super().__init__(message, field="file")


class ImportRejected(DomainError):
    """Confirming a file whose preview has errors; ``preview`` lists them."""

    status = 422
    code = "import_has_errors"

    def __init__(self, preview: "ImportPreview"):
        self.preview = preview
        super().__init__(_l("The file has rows with errors; fix them and upload it again."), field="file")


@dataclass
class ImportRow:
    """One data row: ``row_no`` as the spreadsheet numbers it (header = 1), cleaned values,
    ``opening_idr`` rupiah, ``status`` ``new`` / ``skip`` (already registered) / ``error``,
    ``messages`` the reasons (translatable), ``existing_no`` the matching member's number."""

    row_no: int
    name: str = ""
    address: str = ""
    rt: str = ""
    rw: str = ""
    phone: str = ""
    member_no: str = ""
    kind: str = "person"
    opening_idr: int = 0
    status: str = "new"
    messages: list = field(default_factory=list)
    existing_no: str = ""

    def fail(self, message) -> None:
        self.status = "error"
        self.messages.append(message)


@dataclass
class ImportPreview:
    """What confirming would do: the rows, and the earlier import of this very file if any."""

    sha256: str
    filename: str
    rows: list[ImportRow]
    previous: MemberImport | None = None

    @property
    def errors(self) -> list[ImportRow]:
        return [r for r in self.rows if r.status == "error"]

    @property
    def new_rows(self) -> list[ImportRow]:
        return [r for r in self.rows if r.status == "new"]

    @property
    def skipped(self) -> list[ImportRow]:
        return [r for r in self.rows if r.status == "skip"]

    @property
    def opening_total_idr(self) -> int:
        return sum(r.opening_idr for r in self.new_rows)

    @property
    def can_confirm(self) -> bool:
        return self.previous is None and not self.errors and bool(self.new_rows)


@dataclass
class ImportResult:
    """What ``confirm_import`` wrote: ``created`` as (member, opening rupiah) pairs."""

    created: list[tuple[Member, int]]
    skipped: int
    previous: MemberImport | None = None

    @property
    def opening_total_idr(self) -> int:
        return sum(amount for _member, amount in self.created)


def file_sha256(data: bytes) -> str:
    """Hex SHA-256 of the uploaded bytes."""
    return hashlib.sha256(data).hexdigest()


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float, str)):
        return str(value)
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d")
    # openpyxl formula objects (array formulas, data-table formulas): keep as formula text.
    return "=" + str(getattr(value, "text", value))


def _read_xlsx(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about unsupported extensions
            # data_only=False: a formula cell yields its formula text, never a computed value.
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
            try:
                sheet = book.worksheets[0]
                rows = []
                for values in sheet.iter_rows(values_only=True):
                    rows.append([_cell_text(v) for v in values])
                    if len(rows) > MAX_IMPORT_ROWS + 1:
                        break
            finally:
                book.close()
    except Exception as exc:  # noqa: BLE001 - any damage inside the zip is the same answer
        raise ImportFileError(_l("This is not a readable .xlsx file. Save it again from the "
                                 "spreadsheet as .xlsx or CSV.")) from exc
    return rows


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    elif b"\x00" not in data:
        for encoding in ("utf-8-sig", "cp1252"):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                continue
    raise ImportFileError(_l("The file is not readable text. Save it as CSV (UTF-8) or .xlsx."))


def _read_csv(data: bytes) -> list[list[str]]:
    text = _decode(data)
    controls = sum(1 for ch in text[:20000] if ord(ch) < 32 and ch not in "\t\r\n")
    if controls > 10:
        raise ImportFileError(_l("The file is not readable text. Save it as CSV (UTF-8) or .xlsx."))
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count) if any(d in first for d in ",;\t") else ","
    rows = []
    try:
        for record in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            rows.append(record)
            if len(rows) > MAX_IMPORT_ROWS + 1:
                break
    except csv.Error as exc:
        raise ImportFileError(_l("The CSV file is damaged: %(detail)s", detail=str(exc)[:100])) from exc
    return rows


def read_member_table(data: bytes, filename: str = "") -> list[list[str]]:
    """The file's first sheet (xlsx) or its records (CSV; UTF-8, UTF-8 with BOM, UTF-16 with
    BOM or Windows-1252; comma, semicolon or tab separated) as rows of text, header first.

    Raises ImportFileError for an empty, too large, binary, old-format (.xls) or damaged file.
    """
    name = (filename or "").lower()
    if not data or not data.strip():
        raise ImportFileError(_l("The file is empty."))
    if len(data) > MAX_IMPORT_BYTES:
        raise ImportFileError(_l("The file is too large for a member list (at most %(mb)d MB).",
                                 mb=MAX_IMPORT_BYTES // (1024 * 1024)))
    if data.startswith(b"\xd0\xcf\x11\xe0") or name.endswith(".xls"):
        raise ImportFileError(_l("Old Excel files (.xls) are not read; save it as .xlsx or CSV."))
    if data.startswith(b"PK\x03\x04") or name.endswith(".xlsx"):
        rows = _read_xlsx(data)
    else:
        rows = _read_csv(data)
    if len(rows) > MAX_IMPORT_ROWS + 1:
        raise ImportFileError(_l("The file has more than %(n)d rows.", n=MAX_IMPORT_ROWS))
    return rows


def _header_key(text: str) -> str:
    return " ".join(re.sub(r"[_.:]", " ", (text or "").strip().lower()).split())


def _map_columns(header: list[str]) -> dict[str, int]:
    aliases = {alias: key for key, names in _ALIASES.items() for alias in names}
    found: dict[str, int] = {}
    unknown = []
    for index, raw in enumerate(header):
        key = _header_key(raw)
        if key in aliases:
            if aliases[key] in found:
                raise ImportFileError(_l("The column “%(col)s” appears twice.", col=raw.strip()))
            found[aliases[key]] = index
        elif key and key not in _IGNORED:
            unknown.append(raw.strip()[:40])
    if "name" not in found:
        raise ImportFileError(_l("The first row must name the columns, with at least “name” (or "
                                 "“nama”). Expected columns: name, address, rt, rw, phone, "
                                 "member_no, opening_balance, kind."))
    if unknown:
        raise ImportFileError(_l("Unknown columns: %(cols)s. Expected columns: name, address, rt, rw, "
                                 "phone, member_no, opening_balance, kind.", cols=", ".join(unknown[:5])))
    return found


def _parse_opening(text: str) -> int:
    raw = text.strip().lower().replace("rp", "").replace(" ", "")
    if raw in ("", "-", "0", "0,00", "0.00", "0,0", "0.0"):
        return 0
    return parse_rupiah(text)


def _check_place(row: ImportRow, cells: dict[str, str]) -> None:
    """Address, RT and RW (either two columns or one ``003/005`` column)."""
    row.address = " ".join(cells.get("address", "").split())[:300]
    row.rt, row.rw = cells.get("rt", "").strip(), cells.get("rw", "").strip()
    if cells.get("rt_rw", "").strip():
        parts = re.split(r"\s*[/\-]\s*", cells["rt_rw"].strip())
        if len(parts) == 2:
            row.rt, row.rw = parts
        else:
            row.fail(_l("RT/RW must look like 003/005."))
    if len(row.rt) > 10 or len(row.rw) > 10:
        row.fail(_l("RT or RW is too long."))


def _check_opening(row: ImportRow, cells: dict[str, str]) -> None:
    """The opening balance: rupiah, 0 when blank, at most MAX_OPENING_IDR."""
    try:
        row.opening_idr = _parse_opening(cells.get("opening_balance", ""))
        if row.opening_idr > MAX_OPENING_IDR:
            row.fail(_l("The opening balance is over Rp 1.000.000.000; check the amount."))
    except InputError as exc:
        row.fail(_l("Opening balance “%(text)s”: %(reason)s",
                    text=cells.get("opening_balance", "")[:30], reason=exc.message))


def _check_row(row: ImportRow, cells: dict[str, str]) -> None:
    for key, value in cells.items():
        if value.startswith("="):
            row.fail(_l("Column %(col)s holds a spreadsheet formula (%(text)s); type the value instead.",
                        col=key, text=value[:30]))
            return
    row.name = " ".join(cells.get("name", "").split())
    if not row.name:
        row.fail(_l("The name is missing."))
    elif len(row.name) > 200:
        row.fail(_l("The name is longer than 200 characters."))
    _check_place(row, cells)
    try:
        row.phone = normalise_phone(cells.get("phone", ""))
    except DomainError as exc:
        row.phone = cells.get("phone", "")
        row.fail(_l("Phone “%(phone)s”: %(reason)s", phone=row.phone[:30], reason=exc.message))
    row.member_no = cells.get("member_no", "").strip().upper()
    try:
        clean_member_no(row.member_no)  # the one member-number rule (docs/member-numbers.md)
    except DomainError as exc:
        row.fail(exc.message)  # the preview prefixes "Row <n>:"
    kind = " ".join(cells.get("kind", "").strip().lower().split())
    if kind in _KINDS:
        row.kind = _KINDS[kind]
    else:
        row.fail(_l("Kind “%(kind)s”: use person, household or institution.", kind=kind[:30]))
    _check_opening(row, cells)


def _check_duplicate_in_file(row: ImportRow, seen_no: dict[str, int],
                             seen_name_phone: dict[tuple[str, str], int]) -> None:
    """Refuse a row repeating an earlier row's member number, or its name and phone."""
    key = (row.name.casefold(), row.phone)
    if row.member_no and row.member_no in seen_no:
        row.fail(_l("Duplicate of row %(row)d (same member number %(no)s).",
                    row=seen_no[row.member_no], no=row.member_no))
    elif key in seen_name_phone:
        row.fail(_l("Duplicate of row %(row)d (same name and phone).", row=seen_name_phone[key]))
    if row.member_no:
        seen_no.setdefault(row.member_no, row.row_no)
    seen_name_phone.setdefault(key, row.row_no)


def _match_existing(row: ImportRow, by_no: dict[str, Member],
                    by_name_phone: dict[tuple[str, str], Member]) -> None:
    """Mark a row already registered at the unit as ``skip``, or refuse one whose number or
    name and phone belong to another member."""
    key = (row.name.casefold(), row.phone)
    match = by_no.get(row.member_no) if row.member_no else None
    if match is not None:
        if match.name.casefold() == row.name.casefold():
            row.status, row.existing_no = "skip", match.member_no
        else:
            row.fail(_l("Member number %(no)s already belongs to %(name)s.", no=match.member_no,
                        name=match.name))
    elif key in by_name_phone:
        match = by_name_phone[key]
        if row.member_no:
            row.fail(_l("%(name)s with this phone is already registered as %(no)s.",
                        name=row.name, no=match.member_no))
        else:
            row.status, row.existing_no = "skip", match.member_no


def preview_import(unit: Unit, data: bytes, filename: str = "") -> ImportPreview:
    """Check every row of the file against the rules and against the unit's members; write
    nothing. Row errors are collected per row (``ImportRow.messages``); whole-file problems
    raise ImportFileError."""
    table = read_member_table(data, filename)
    header, records = table[0], table[1:]
    columns = _map_columns(header)
    existing = list(db.session.scalars(select(Member).where(Member.unit_id == unit.id)))
    by_no = {m.member_no.upper(): m for m in existing}
    by_name_phone = {(m.name.casefold(), m.phone): m for m in existing}
    seen_no: dict[str, int] = {}
    seen_name_phone: dict[tuple[str, str], int] = {}
    rows: list[ImportRow] = []
    for offset, record in enumerate(records):
        if not any((cell or "").strip() for cell in record):
            continue
        row = ImportRow(row_no=offset + 2)
        cells = {key: (record[index] if index < len(record) else "") or "" for key, index in columns.items()}
        _check_row(row, cells)
        rows.append(row)
        if row.status == "error":
            continue
        _check_duplicate_in_file(row, seen_no, seen_name_phone)
        if row.status != "error":
            _match_existing(row, by_no, by_name_phone)
    if not rows:
        raise ImportFileError(_l("The file has a header but no members."))
    sha = file_sha256(data)
    previous = db.session.scalar(select(MemberImport).where(MemberImport.unit_id == unit.id,
                                                            MemberImport.sha256 == sha))
    return ImportPreview(sha256=sha, filename=(filename or "")[:200], rows=rows, previous=previous)


def confirm_import(unit: Unit, data: bytes, filename: str = "", *, user_id: int | None) -> ImportResult:
    """Create the file's new members at ``unit``, each with a live card and, for an opening
    balance above 0, one journal entry ``opening_balance``: Dr opening_equity / Cr the member's
    savings. Records the file's SHA-256; the same file again returns ``previous`` and writes
    nothing. Flushes; the caller commits (one transaction for the whole file).

    Raises ImportFileError, ImportRejected (some row is bad; nothing written), and Conflict
    when a concurrent import of the same file won.
    """
    preview = preview_import(unit, data, filename)
    if preview.previous is not None:
        return ImportResult(created=[], skipped=len(preview.rows), previous=preview.previous)
    if preview.errors:
        raise ImportRejected(preview)
    record = MemberImport(unit_id=unit.id, sha256=preview.sha256, filename=preview.filename,
                          members_created=0, opening_total_idr=0, created_by_id=user_id)
    db.session.add(record)
    db.session.flush()  # claims (unit, sha256) first: a concurrent twin fails here
    equity = system_account(unit.id, "opening_equity")
    created: list[tuple[Member, int]] = []
    # Rows with their own number first, so that generated numbers go past them.
    for row in sorted(preview.new_rows, key=lambda r: (not r.member_no, r.row_no)):
        member = create_member(unit, row.name, phone=row.phone, address=row.address, rt=row.rt,
                               rw=row.rw, kind=row.kind, member_no=row.member_no or None, user_id=user_id)
        if row.opening_idr > 0:
            post_journal(unit.id, "opening_balance",
                         [Leg(equity, row.opening_idr), Leg(member_savings_account(member), -row.opening_idr)],
                         created_by_id=user_id,
                         memo=f"Saldo awal {member.member_no} (impor {preview.filename[:80]} baris {row.row_no})")
        created.append((member, row.opening_idr))
    if not created:
        raise Conflict(_l("Every member in this file is already registered; nothing to import."))
    record.members_created = len(created)
    record.opening_total_idr = sum(amount for _m, amount in created)
    db.session.flush()
    audit("member.import", unit_id=unit.id, user_id=user_id, object_type="member_import", object_id=record.id,
          details={"sha256": record.sha256, "filename": record.filename, "members": len(created),
                   "opening_total_idr": record.opening_total_idr, "skipped": len(preview.skipped)})
    return ImportResult(created=created, skipped=len(preview.skipped))
