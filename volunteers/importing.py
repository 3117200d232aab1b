"""Bulk import of grids and people from XLSX spreadsheets, for staff.

The flow is upload → preview → confirm:

1. `do_upload_import` reads the first worksheet (never evaluating anything: formulas come back as text and
   are refused), validates every row against the database and the uploader's scope, and stores the result
   in an `ImportBatch`. Nothing else is written.
2. The preview shows what would be created and, for every bad row, its row number and the reasons.
3. `do_confirm_import` locks the batch, validates the same rows again (the database may have changed since
   the preview) and creates everything in one transaction — all rows or none.

A whole file is refused (a 4xx, nothing stored) when it is too big, has too many rows, is not an XLSX,
has an empty sheet or lacks a required column. A row is bad when a cell is missing, too long, looks like
a formula, duplicates another row or the database, names something unknown or outside the uploader's area.
"""

import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from io import BytesIO

import openpyxl
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from core import xlsx
from core.exceptions import Conflict, GongzhiError, NotAllowed, NotFound
from core.phones import normalize_cn_mobile

from .models import (
    Community,
    District,
    Grid,
    IdentityClaim,
    IdentityEvent,
    IdentityKind,
    ImportBatch,
    Skill,
    Street,
    User,
)
from .scopes import Scope, scope_for

GRIDS = ImportBatch.Kind.GRIDS
PEOPLE = ImportBatch.Kind.PEOPLE

# Columns past this are never read: a sheet with thousands of formatted empty columns stays cheap.
MAX_COLUMNS = 40
# A title row or two above the headers is common in the sheets staff keep; look a little way down.
HEADER_SEARCH_ROWS = 10
# Longer cells are stored cut short (they are refused as too long anyway), so a batch stays small.
STORED_CELL_CHARS = 300
# XLSX is a zip archive: a small upload can unpack to gigabytes. Real sheets compress about 5-10x.
MAX_UNPACK_RATIO = 20


# --- errors that refuse the whole file or the whole confirmation ----------------------------------------
class ImportRefused(GongzhiError):
    code = "import_refused"
    status = 400
    default_message = gettext_lazy("This file cannot be imported.")


class FileTooLarge(ImportRefused):
    code = "import_file_too_large"
    status = 413


class NotAnXlsx(ImportRefused):
    code = "import_not_xlsx"
    default_message = gettext_lazy(
        "This file is not an Excel workbook (.xlsx). If it is an old .xls file or a CSV file, open it in "
        "Excel or WPS and save it as .xlsx, or start from the template."
    )


class EmptySheet(ImportRefused):
    code = "import_empty_sheet"
    default_message = gettext_lazy("The first worksheet of this file is empty.")


class MissingColumns(ImportRefused):
    code = "import_missing_columns"


class TooManyRows(ImportRefused):
    code = "import_too_many_rows"


class NotImporter(NotAllowed):
    code = "import_not_allowed"
    default_message = gettext_lazy("Only service-centre staff can import spreadsheets.")


class BatchNotFound(NotFound):
    code = "import_not_found"
    default_message = gettext_lazy("This import does not exist or was uploaded by someone else.")


class BatchHasBadRows(Conflict):
    code = "import_has_bad_rows"
    default_message = gettext_lazy(
        "Nothing was imported: some rows are bad. Correct them in the spreadsheet and upload it again."
    )


class BatchAlreadyConfirmed(Conflict):
    code = "import_already_confirmed"
    default_message = gettext_lazy("This import has already been confirmed; its rows were created once.")


class BatchOutdated(Conflict):
    code = "import_outdated"


# --- columns --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Column:
    key: str
    header: str  # the header the template uses (the sheets staff keep are in Chinese)
    label: Promise
    aliases: tuple[str, ...]
    max_length: int
    required: bool = False
    help: Promise | str = ""
    example: str = ""


GRID_COLUMNS = (
    Column(
        "street",
        "街道",
        gettext_lazy("Street"),
        ("街道名称", "街道编码", "街道名称或编码", "street", "street name", "street code"),
        60,
        required=True,
        help=gettext_lazy(
            "Name or code of the street. A street or community that does not exist yet is created only "
            "when a district administrator imports."
        ),
        example="江浦街道",
    ),
    Column(
        "community",
        "社区",
        gettext_lazy("Community"),
        (
            "社区(村)",
            "社区名称",
            "社区编码",
            "村",
            "community",
            "community name",
            "community code",
            "village",
        ),
        60,
        required=True,
        help=gettext_lazy("Name or code of the community (or village) in that street."),
        example="求雨山社区",
    ),
    Column(
        "name",
        "网格名称",
        gettext_lazy("Grid name"),
        ("网格", "grid name", "grid"),
        60,
        required=True,
        example="第一网格",
    ),
    Column(
        "code",
        "网格编码",
        gettext_lazy("Grid code"),
        ("网格代码", "grid code", "code"),
        40,
        required=True,
        help=gettext_lazy("Letters, digits, hyphens and underscores; no two grids may share a code."),
        example="jp-qys-01",
    ),
    Column(
        "households",
        "户数",
        gettext_lazy("Households"),
        ("住户数", "households", "household count"),
        10,
        help=gettext_lazy("A whole number; empty means 0."),
        example="420",
    ),
    Column(
        "party_org_kind",
        "党组织类型",
        gettext_lazy("Party organisation type"),
        ("党组织", "party organisation type", "party org type", "party organization type"),
        10,
        help=gettext_lazy("支部 (party branch) or 小组 (party group); empty means 小组."),
        example="支部",
    ),
    Column(
        "party_org_name",
        "党组织名称",
        gettext_lazy("Party organisation name"),
        ("党支部名称", "党小组名称", "party organisation name", "party org name", "party organization name"),
        100,
        example="求雨山社区第一网格党支部",
    ),
)

PEOPLE_COLUMNS = (
    Column(
        "name",
        "姓名",
        gettext_lazy("Name"),
        ("名字", "name", "full name"),
        40,
        required=True,
        example="张三",
    ),
    Column(
        "phone",
        "手机号",
        gettext_lazy("Mobile number"),
        ("手机号码", "手机", "联系电话", "电话", "mobile", "phone", "mobile number", "phone number"),
        30,
        required=True,
        help=gettext_lazy(
            "11-digit mainland mobile number. The person signs in with an SMS code; no password."
        ),
        example="138 0013 8000",
    ),
    Column(
        "grid",
        "所属网格编码",
        gettext_lazy("Grid code"),
        ("所属网格", "网格编码", "grid code", "grid"),
        40,
        required=True,
        help=gettext_lazy("Code of an existing grid in the area you manage."),
        example="jp-qys-01",
    ),
    Column(
        "identities",
        "身份",
        gettext_lazy("Identities"),
        ("身份标签", "identity", "identities"),
        200,
        help=gettext_lazy(
            'One or more "1+3+N" identities separated by ; (see the list below). They are recorded as '
            "verified by you."
        ),
        example="党员;楼栋长",
    ),
    Column(
        "skills",
        "技能",
        gettext_lazy("Skills"),
        ("特长", "skill", "skills"),
        200,
        help=gettext_lazy("Optional, separated by ;"),
        example="理发;电工",
    ),
)

COLUMNS = {GRIDS: GRID_COLUMNS, PEOPLE: PEOPLE_COLUMNS}

# The names people write for each "1+3+N" identity; the first one is the one the template suggests.
IDENTITY_ALIASES = {
    IdentityKind.PARTY_MEMBER: ("党员", "中共党员", "共产党员"),
    IdentityKind.DEPUTY: ("两代表一委员", "代表", "委员", "人大代表", "党代表", "政协委员"),
    IdentityKind.LEGAL_OFFICER: ("政法网格员", "三官一律", "法官", "检察官", "警官", "民警", "律师"),
    IdentityKind.GRID_WORKER_FULL: ("专职网格员",),
    IdentityKind.MASS_ORG: ("群团组织", "群团组织成员"),
    IdentityKind.SOCIAL_ORG: ("社会组织", "社会组织成员"),
    IdentityKind.VOLUNTEER_TEAM: ("志愿服务团队", "志愿服务团队成员", "志愿服务队"),
    IdentityKind.LOCAL_WORTHY: ("乡贤",),
    IdentityKind.COMMUNITY_DOCTOR: ("社区医生", "社区全科助理医生", "全科助理医生", "乡村医生"),
    IdentityKind.BUILDING_HEAD: ("楼栋长",),
    IdentityKind.GRID_WORKER_PART: ("兼职网格员",),
    IdentityKind.VOLUNTEER: ("志愿者",),
}
PARTY_ORG_KINDS = {
    "支部": Grid.PartyOrgKind.BRANCH,
    "党支部": Grid.PartyOrgKind.BRANCH,
    "branch": Grid.PartyOrgKind.BRANCH,
    "party branch": Grid.PartyOrgKind.BRANCH,
    "小组": Grid.PartyOrgKind.GROUP,
    "党小组": Grid.PartyOrgKind.GROUP,
    "group": Grid.PartyOrgKind.GROUP,
    "party group": Grid.PartyOrgKind.GROUP,
}
LIST_SEPARATORS = re.compile(r"[;；,，、/|\n]+")
_HEADER_NOISE = re.compile(r"[\s*＊_\-]+")
_HEADER_NOTE = re.compile(r"[（(][^）)]*[）)]$")
# A cell that is nothing but a number cannot be a formula, whatever its sign.
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")
_PLAIN_PHONE = re.compile(r"\+[\d\s\-()（）]+")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_SPACES = " \u3000\t\r\n"  # \u3000 is the full-width space Chinese input methods type


def _normalise_header(value) -> str:
    text = _HEADER_NOISE.sub("", str(value or "")).lower()
    return _HEADER_NOTE.sub("", text)


def _header_lookup(columns) -> dict[str, str]:
    lookup = {}
    for column in columns:
        for name in (column.header, *column.aliases):
            lookup[_normalise_header(name)] = column.key
    return lookup


def column_label(kind: str, key: str | None) -> str:
    """The column as the person sees it in their sheet: its Chinese header, explained in other languages."""
    for column in COLUMNS[kind]:
        if column.key == key:
            if (translation.get_language() or "").startswith("zh"):
                return column.header
            return f"{column.label} ({column.header})"
    return ""


# --- reading the file -----------------------------------------------------------------------------------
@dataclass
class Sheet:
    rows: list[dict]  # {"row": spreadsheet row number, "values": {column key: cell text}}
    ignored_columns: list[str]


def _cell_text(value) -> str:
    """The cell as text, exactly as typed. Formulas arrive as their text ("=…"), never evaluated."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, str):
        return value
    # openpyxl's ArrayFormula / DataTableFormula: keep their formula text so the row is refused as one.
    return str(getattr(value, "text", None) or "=")


def read_sheet(data: bytes, *, kind: str) -> Sheet:
    """Read the first worksheet into rows of cell texts, or raise ImportRefused (nothing is stored)."""
    columns = COLUMNS[kind]
    buffer = BytesIO(data)
    if not zipfile.is_zipfile(buffer):
        raise NotAnXlsx()
    try:
        with zipfile.ZipFile(buffer) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise NotAnXlsx() from exc
    if unpacked > settings.IMPORT_MAX_BYTES * MAX_UNPACK_RATIO:
        raise FileTooLarge(_("This file unpacks to far more data than a spreadsheet of its size should."))
    buffer.seek(0)
    try:
        workbook = openpyxl.load_workbook(buffer, read_only=True, data_only=False)
    except Exception as exc:
        # openpyxl raises a zoo of exception types (KeyError, InvalidFileException, XML parse errors…)
        # for a damaged or non-spreadsheet archive; all of them mean the same thing to the person.
        raise NotAnXlsx() from exc
    try:
        return _read_rows(workbook, columns)
    except ImportRefused:
        raise
    except Exception as exc:
        # The sheet XML is read lazily, so a damaged sheet only shows up while iterating.
        raise NotAnXlsx() from exc
    finally:
        workbook.close()


def _read_rows(workbook, columns) -> Sheet:
    if not workbook.worksheets:
        raise EmptySheet()
    lookup = _header_lookup(columns)
    positions: dict[str, int] | None = None
    ignored: list[str] = []
    rows: list[dict] = []
    saw_anything = False
    for number, values in enumerate(
        workbook.worksheets[0].iter_rows(values_only=True, max_col=MAX_COLUMNS), 1
    ):
        blank = all(_cell_text(value).strip(_SPACES) == "" for value in values)
        saw_anything = saw_anything or not blank
        if positions is None:
            if number > HEADER_SEARCH_ROWS:
                break
            positions, ignored = _match_header(values, lookup, columns)
            if positions is not None and any(c.required and c.key not in positions for c in columns):
                raise MissingColumns(_missing_message(columns, set(positions)))
            continue
        if blank:
            continue
        if len(rows) >= settings.IMPORT_MAX_ROWS:
            raise TooManyRows(
                ngettext(
                    "This file has more than %(max)d row; split it into smaller files.",
                    "This file has more than %(max)d rows; split it into smaller files.",
                    settings.IMPORT_MAX_ROWS,
                )
                % {"max": settings.IMPORT_MAX_ROWS}
            )
        cells = {
            key: _cell_text(values[index])[:STORED_CELL_CHARS]
            for key, index in positions.items()
            if index < len(values)
        }
        rows.append({"row": number, "values": cells})
    if not saw_anything:
        raise EmptySheet()
    if positions is None:
        raise MissingColumns(_missing_message(columns, set()))
    if not rows:
        raise EmptySheet(_("The sheet has column headers but no rows to import."))
    return Sheet(rows=rows, ignored_columns=ignored)


def _match_header(values, lookup, columns) -> tuple[dict[str, int] | None, list[str]]:
    """Return the column positions if this row is the header row (two or more known column names)."""
    positions: dict[str, int] = {}
    ignored: list[str] = []
    for index, value in enumerate(values):
        text = _cell_text(value).strip(_SPACES)
        if not text:
            continue
        key = lookup.get(_normalise_header(text))
        if key is None:
            ignored.append(text[:40])
        elif key in positions:
            header = next(column.header for column in columns if column.key == key)
            raise ImportRefused(
                _('The column "%(column)s" appears twice in the header row; keep one.') % {"column": header},
                code="import_duplicate_column",
            )
        else:
            positions[key] = index
    if len(positions) < 2:
        return None, []
    return positions, ignored


def _missing_message(columns, present: set[str]) -> str:
    missing = "、".join(column.header for column in columns if column.required and column.key not in present)
    return _(
        "The header row must name these columns: %(columns)s. "
        "Download the template to see the expected layout."
    ) % {"columns": missing}


# --- row errors -----------------------------------------------------------------------------------------
# Stored as codes with parameters and worded when shown, so the preview speaks the viewer's language.
ROW_ERRORS = {
    "required": gettext_lazy("%(column)s is empty."),
    "formula": gettext_lazy(
        "%(column)s starts with =, +, -, @, a tab or a line break, which a spreadsheet would run as a "
        "formula. Type it as plain text."
    ),
    "too_long": gettext_lazy("%(column)s is longer than %(max)s characters."),
    "duplicate_in_file": gettext_lazy('%(column)s "%(value)s" also appears in row %(other)s.'),
    "bad_code": gettext_lazy(
        '%(column)s "%(value)s" may contain only letters, digits, hyphens and underscores.'
    ),
    "bad_households": gettext_lazy("%(column)s must be a whole number from 0 to 100000."),
    "bad_party_kind": gettext_lazy("%(column)s must be 支部 (party branch) or 小组 (party group)."),
    "grid_code_exists": gettext_lazy('A grid with code "%(value)s" already exists.'),
    "grid_name_exists": gettext_lazy('Community "%(community)s" already has a grid named "%(value)s".'),
    "unknown_street": gettext_lazy(
        'There is no street "%(value)s". Only a district administrator can create streets by import.'
    ),
    "ambiguous_street": gettext_lazy('Several streets are called "%(value)s"; use the street code instead.'),
    "no_district": gettext_lazy(
        'Street "%(value)s" does not exist and it is not clear which district it belongs to; create it first.'
    ),
    "unknown_community": gettext_lazy(
        'Street "%(street)s" has no community "%(value)s". Only a district administrator can create '
        "communities by import."
    ),
    "ambiguous_community": gettext_lazy(
        'Several communities in this street are called "%(value)s"; use the community code instead.'
    ),
    "community_out_of_scope": gettext_lazy('Community "%(value)s" is outside the area you manage.'),
    "bad_phone": gettext_lazy('%(column)s "%(value)s" is not an 11-digit mainland mobile number.'),
    "phone_exists": gettext_lazy(
        "%(value)s is already registered. An import never changes existing accounts; remove this row and "
        "update the person's profile instead."
    ),
    "unknown_grid": gettext_lazy('There is no grid with code "%(value)s".'),
    "grid_out_of_scope": gettext_lazy('Grid "%(value)s" is outside the area you manage.'),
    "unknown_identity": gettext_lazy('Unknown identity "%(value)s". Use one of: %(choices)s.'),
    "skill_too_long": gettext_lazy('Skill "%(value)s" is longer than %(max)s characters.'),
}


def describe_error(kind: str, error: dict) -> str:
    params = {key: value for key, value in error.items() if key != "code"}
    params["column"] = column_label(kind, error.get("column"))
    if error["code"] == "unknown_identity":
        params["choices"] = "、".join(aliases[0] for aliases in IDENTITY_ALIASES.values())
    template = ROW_ERRORS.get(error["code"])
    if template is None:
        return str(error["code"])
    return str(template) % params


def _error(code: str, column: str | None = None, **params) -> dict:
    if isinstance(params.get("value"), str) and len(params["value"]) > 60:
        params["value"] = params["value"][:60] + "…"
    return {"code": code, "column": column, **params}


def _looks_like_formula(text: str, column: Column) -> bool:
    stripped = text.strip(_SPACES)
    if not text.startswith(_FORMULA_START) and not stripped.startswith(_FORMULA_START):
        return False
    if _PLAIN_NUMBER.fullmatch(stripped):
        return False
    # "+86 138 0013 8000" is how many people write a mobile number; digits alone can't run anything.
    return not (column.key == "phone" and _PLAIN_PHONE.fullmatch(stripped))


def _clean_cells(kind: str, row: dict) -> tuple[dict, list[dict]]:
    """Strip each cell and check the rules every column shares. A refused cell is cleaned to None."""
    clean: dict[str, str | None] = {}
    errors: list[dict] = []
    for column in COLUMNS[kind]:
        raw = row["values"].get(column.key, "")
        if _looks_like_formula(raw, column):
            errors.append(_error("formula", column.key))
            clean[column.key] = None
            continue
        text = raw.strip(_SPACES)
        if not text:
            if column.required:
                errors.append(_error("required", column.key))
                clean[column.key] = None
            else:
                clean[column.key] = ""
            continue
        if len(text) > column.max_length:
            errors.append(_error("too_long", column.key, max=column.max_length))
            clean[column.key] = None
            continue
        clean[column.key] = text
    return clean, errors


def _split_list(text: str) -> list[str]:
    seen: dict[str, None] = {}
    for part in LIST_SEPARATORS.split(text or ""):
        part = part.strip(_SPACES)
        if part:
            seen.setdefault(part, None)
    return list(seen)


# --- validation -----------------------------------------------------------------------------------------
def require_importer(actor) -> Scope:
    scope = scope_for(actor)
    if not scope.is_staff:
        raise NotImporter()
    return scope


def validate_rows(*, kind: str, rows: list[dict], actor) -> list[dict]:
    """Check every row; return them with "errors" (codes) and, for good rows, the "plan" to create."""
    scope = require_importer(actor)
    validator = _validate_grids if kind == GRIDS else _validate_people
    return validator(rows, scope)


def _target_district(scope: Scope) -> District | None:
    """The district a new street goes into: the importer's only district (or the only one there is)."""
    if scope.superuser:
        districts = list(District.objects.all()[:2])
    else:
        districts = list(District.objects.filter(pk__in=scope.district_ids)[:2])
    return districts[0] if len(districts) == 1 else None


def _pick(candidates: list, value: str):
    """One match by code wins over matches by name; several name matches are ambiguous."""
    by_code = [item for item in candidates if item.code == value]
    if len(by_code) == 1:
        return by_code[0], False
    by_name = [item for item in candidates if item.name == value]
    if len(by_name) == 1:
        return by_name[0], False
    return None, len(by_name) > 1


def _validate_grids(rows: list[dict], scope: Scope) -> list[dict]:
    cleaned = [(row, *_clean_cells(GRIDS, row)) for row in rows]
    street_values = {clean["street"] for _row, clean, _errors in cleaned if clean["street"]}
    codes = {clean["code"] for _row, clean, _errors in cleaned if clean["code"]}
    streets = list(Street.objects.filter(Q(code__in=street_values) | Q(name__in=street_values)))
    communities_by_street: dict[int, list[Community]] = {}
    for community in Community.objects.filter(street__in=streets):
        communities_by_street.setdefault(community.street_id, []).append(community)
    # Several streets of one name (in different districts): the ones the importer works in win.
    mine = (
        Q(pk__in=scope.street_ids)
        | Q(district__in=scope.district_ids)
        | Q(communities__in=scope.community_ids)
    )
    my_street_ids = (
        set(Street.objects.filter(mine).values_list("pk", flat=True)) if not scope.superuser else set()
    )
    changeable_streets = set(
        scope.changeable(Street.objects.filter(pk__in=[s.pk for s in streets])).values_list("pk", flat=True)
    )
    all_communities = [c for group in communities_by_street.values() for c in group]
    changeable_communities = set(
        scope.changeable(Community.objects.filter(pk__in=[c.pk for c in all_communities])).values_list(
            "pk", flat=True
        )
    )
    existing_codes = set(Grid.objects.filter(code__in=codes).values_list("code", flat=True))
    existing_names = set(
        Grid.objects.filter(community__in=all_communities).values_list("community_id", "name")
    )
    # Only district administrators create places; the new street goes into their district.
    may_create = scope.superuser or bool(scope.district_ids)
    district = _target_district(scope) if may_create else None

    seen_codes: dict[str, int] = {}
    seen_names: dict[tuple[str, str, str], int] = {}
    result = []
    for row, clean, errors in cleaned:
        plan = None
        households = 0
        if clean["households"]:
            if re.fullmatch(r"\d{1,6}", clean["households"]) and int(clean["households"]) <= 100000:
                households = int(clean["households"])
            else:
                errors.append(_error("bad_households", "households"))
        party_kind = Grid.PartyOrgKind.GROUP
        if clean["party_org_kind"]:
            party_kind = PARTY_ORG_KINDS.get(clean["party_org_kind"].lower())
            if party_kind is None:
                errors.append(_error("bad_party_kind", "party_org_kind"))
        code = clean["code"]
        if code:
            try:
                validate_slug(code)
            except ValidationError:
                errors.append(_error("bad_code", "code", value=code))
            if code in seen_codes:
                errors.append(_error("duplicate_in_file", "code", value=code, other=seen_codes[code]))
            else:
                seen_codes[code] = row["row"]
            if code in existing_codes:
                errors.append(_error("grid_code_exists", "code", value=code))
        if clean["street"] and clean["community"] and clean["name"]:
            key = (clean["street"], clean["community"], clean["name"])
            if key in seen_names:
                errors.append(_error("duplicate_in_file", "name", value=clean["name"], other=seen_names[key]))
            else:
                seen_names[key] = row["row"]

        street = community = None
        new_street = new_community = False
        if clean["street"]:
            candidates = [s for s in streets if clean["street"] in (s.code, s.name)]
            if len(candidates) > 1 and my_street_ids:
                candidates = [s for s in candidates if s.pk in my_street_ids] or candidates
            street, ambiguous = _pick(candidates, clean["street"])
            if ambiguous:
                errors.append(_error("ambiguous_street", "street", value=clean["street"]))
            elif street is None:
                if not may_create:
                    errors.append(_error("unknown_street", "street", value=clean["street"]))
                elif district is None:
                    errors.append(_error("no_district", "street", value=clean["street"]))
                else:
                    new_street = True
        if clean["community"] and street is not None:
            community, ambiguous = _pick(communities_by_street.get(street.pk, []), clean["community"])
            if ambiguous:
                errors.append(_error("ambiguous_community", "community", value=clean["community"]))
            elif community is None:
                if may_create and street.pk in changeable_streets:
                    new_community = True
                else:
                    errors.append(
                        _error("unknown_community", "community", value=clean["community"], street=street.name)
                    )
            elif community.pk not in changeable_communities:
                errors.append(_error("community_out_of_scope", "community", value=community.name))
            elif clean["name"] and (community.pk, clean["name"]) in existing_names:
                errors.append(
                    _error("grid_name_exists", "name", value=clean["name"], community=community.name)
                )
        elif clean["community"] and new_street:
            new_community = True

        if not errors:
            plan = {
                "street_id": street.pk if street else None,
                "street": street.name if street else clean["street"],
                "district_id": street.district_id if street else district.pk,
                "community_id": community.pk if community else None,
                "community": community.name if community else clean["community"],
                "new_street": new_street,
                "new_community": new_community,
                "name": clean["name"],
                "code": code,
                "households": households,
                "party_org_kind": party_kind,
                "party_org_name": clean["party_org_name"],
            }
        result.append({"row": row["row"], "values": row["values"], "errors": errors, "plan": plan})
    return result


def _identity_lookup() -> dict[str, str]:
    lookup = {}
    for kind, aliases in IDENTITY_ALIASES.items():
        names = [*aliases, kind.value, str(kind.label)]
        with translation.override(None):  # the English name too, whatever language the admin uses
            names.append(str(kind.label))
        for name in names:
            lookup[name.lower()] = kind.value
    return lookup


def _validate_people(rows: list[dict], scope: Scope) -> list[dict]:
    cleaned = [(row, *_clean_cells(PEOPLE, row)) for row in rows]
    phones: dict[int, str] = {}
    for row, clean, errors in cleaned:
        if clean["phone"]:
            try:
                phones[row["row"]] = normalize_cn_mobile(clean["phone"])
            except ValidationError:
                errors.append(_error("bad_phone", "phone", value=clean["phone"]))
    codes = {clean["grid"] for _row, clean, _errors in cleaned if clean["grid"]}
    grids = {grid.code: grid for grid in Grid.objects.filter(code__in=codes).select_related("community")}
    changeable_grids = set(scope.changeable(Grid.objects.filter(code__in=codes)).values_list("pk", flat=True))
    registered = set(User.objects.filter(phone__in=set(phones.values())).values_list("phone", flat=True))
    identities = _identity_lookup()
    skill_max = Skill._meta.get_field("name").max_length

    seen_phones: dict[str, int] = {}
    result = []
    for row, clean, errors in cleaned:
        plan = None
        phone = phones.get(row["row"])
        if phone:
            if phone in seen_phones:
                errors.append(
                    _error("duplicate_in_file", "phone", value=clean["phone"], other=seen_phones[phone])
                )
            else:
                seen_phones[phone] = row["row"]
            if phone in registered:
                errors.append(_error("phone_exists", "phone", value=clean["phone"]))
        grid = None
        if clean["grid"]:
            grid = grids.get(clean["grid"])
            if grid is None:
                errors.append(_error("unknown_grid", "grid", value=clean["grid"]))
            elif grid.pk not in changeable_grids:
                errors.append(_error("grid_out_of_scope", "grid", value=clean["grid"]))
        kinds: list[str] = []
        for label in _split_list(clean["identities"] or ""):
            kind = identities.get(label.lower())
            if kind is None:
                errors.append(_error("unknown_identity", "identities", value=label))
            elif kind not in kinds:
                kinds.append(kind)
        skills = _split_list(clean["skills"] or "")
        for skill in skills:
            if len(skill) > skill_max:
                errors.append(_error("skill_too_long", "skills", value=skill, max=skill_max))
        if not errors:
            plan = {
                "name": clean["name"],
                "phone": phone,
                "grid_id": grid.pk,
                "grid": str(grid),
                "grid_code": grid.code,
                "identities": kinds,
                "skills": skills,
            }
        result.append({"row": row["row"], "values": row["values"], "errors": errors, "plan": plan})
    return result


# --- the services ---------------------------------------------------------------------------------------
def do_upload_import(*, actor: User, kind: str, upload) -> ImportBatch:
    """Parse and validate an uploaded spreadsheet and keep the result for the preview. Creates nothing else.

    Raises ImportRefused (4xx) for a file that cannot be read as a whole; bad rows are kept and shown.
    """
    require_importer(actor)
    if kind not in ImportBatch.Kind.values:
        raise ImportRefused(_("Choose what the file contains: grids or people."), code="import_unknown_kind")
    if upload is None:
        raise ImportRefused(_("Choose a spreadsheet file to upload."), code="import_no_file")
    too_large = FileTooLarge(
        _("This file is larger than %(size)s MB; split it into smaller files.")
        % {"size": f"{settings.IMPORT_MAX_BYTES / (1024 * 1024):g}"}
    )
    if upload.size is not None and upload.size > settings.IMPORT_MAX_BYTES:
        raise too_large
    data = upload.read(settings.IMPORT_MAX_BYTES + 1)
    if len(data) > settings.IMPORT_MAX_BYTES:
        raise too_large
    sheet = read_sheet(data, kind=kind)
    rows = validate_rows(kind=kind, rows=sheet.rows, actor=actor)
    return ImportBatch.objects.create(
        kind=kind,
        file_name=(getattr(upload, "name", "") or "")[:255],
        rows=rows,
        ignored_columns=sheet.ignored_columns,
        uploaded_by=actor,
    )


def access_batch(*, batch_id: int, actor: User) -> ImportBatch:
    """The batch, if `actor` uploaded it (superusers may open any). Others get 404, not a hint it exists."""
    require_importer(actor)
    batch = ImportBatch.objects.select_related("uploaded_by", "confirmed_by").filter(pk=batch_id).first()
    if batch is None or (batch.uploaded_by_id != actor.pk and not actor.is_superuser):
        raise BatchNotFound()
    return batch


def do_confirm_import(*, batch_id: int, actor: User) -> ImportBatch:
    """Create every row of the batch in one transaction, or nothing.

    Locks the batch row first, so a second confirmation (a double click, another tab) waits and then finds
    it confirmed. The rows are validated again under that lock: if the database changed since the preview
    (say a phone number was registered meanwhile), the new reasons are saved on the batch for the preview
    and BatchOutdated is raised — nothing is created.
    """
    require_importer(actor)
    outdated = 0
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().filter(pk=batch_id).first()
        if batch is None or (batch.uploaded_by_id != actor.pk and not actor.is_superuser):
            raise BatchNotFound()
        if batch.status == ImportBatch.Status.CONFIRMED:
            raise BatchAlreadyConfirmed()
        if batch.bad_rows:
            raise BatchHasBadRows()
        rows = validate_rows(
            kind=batch.kind, rows=[{"row": r["row"], "values": r["values"]} for r in batch.rows], actor=actor
        )
        outdated = sum(1 for row in rows if row["errors"])
        if outdated:
            # Committed on purpose (with nothing else): the preview then shows why the rows went bad.
            batch.rows = rows
            batch.save(update_fields=["rows"])
        else:
            try:
                with transaction.atomic():
                    create = _create_grids if batch.kind == GRIDS else _create_people
                    summary = create(rows=rows, actor=actor, batch=batch)
            except IntegrityError:
                # Someone saved the same phone number or code between our check and our insert.
                raise BatchOutdated(
                    _(
                        "Nothing was imported: someone saved conflicting data at the same moment. "
                        "Upload the file again."
                    )
                ) from None
            batch.rows = rows
            batch.status = ImportBatch.Status.CONFIRMED
            batch.confirmed_by = actor
            batch.confirmed_at = timezone.now()
            batch.summary = summary
            batch.save(update_fields=["rows", "status", "confirmed_by", "confirmed_at", "summary"])
    if outdated:
        raise BatchOutdated(
            ngettext(
                "Nothing was imported: since the preview, %(count)d row has become invalid. "
                "See the reasons below.",
                "Nothing was imported: since the preview, %(count)d rows have become invalid. "
                "See the reasons below.",
                outdated,
            )
            % {"count": outdated}
        )
    return batch


def _free_code(model, prefix: str) -> str:
    taken = set(model.objects.filter(code__startswith=prefix).values_list("code", flat=True))
    number = 1
    while f"{prefix}{number}" in taken:
        number += 1
    return f"{prefix}{number}"


def _create_grids(*, rows: list[dict], actor: User, batch: ImportBatch) -> dict:
    new_streets: dict[tuple[int, str], Street] = {}
    new_communities: dict[tuple[str, str], Community] = {}
    grids = []
    for row in rows:
        plan = row["plan"]
        street_id = plan["street_id"]
        if street_id is None:
            key = (plan["district_id"], plan["street"])
            if key not in new_streets:
                district = District.objects.get(pk=plan["district_id"])
                new_streets[key] = Street.objects.create(
                    district=district,
                    name=plan["street"],
                    code=_free_code(Street, f"{district.code}-street-"),
                )
            street = new_streets[key]
            street_id = street.pk
        community_id = plan["community_id"]
        if community_id is None:
            key = (street_id, plan["community"])
            if key not in new_communities:
                street = Street.objects.get(pk=street_id)
                new_communities[key] = Community.objects.create(
                    street=street,
                    name=plan["community"],
                    code=_free_code(Community, f"{street.code}-c"),
                    kind=Community.Kind.VILLAGE
                    if plan["community"].endswith("村")
                    else Community.Kind.COMMUNITY,
                )
            community_id = new_communities[key].pk
        grids.append(
            Grid(
                community_id=community_id,
                name=plan["name"],
                code=plan["code"],
                households=plan["households"],
                party_org_kind=plan["party_org_kind"],
                party_org_name=plan["party_org_name"],
            )
        )
    Grid.objects.bulk_create(grids)
    return {"grids": len(grids), "streets": len(new_streets), "communities": len(new_communities)}


def _create_people(*, rows: list[dict], actor: User, batch: ImportBatch) -> dict:
    """Accounts without a password (they sign in with an SMS code), their identities verified by `actor`.

    The claims are written here rather than through do_claim_identity/do_verify_identity: those notify
    the person by SMS for every identity, and an import of 3 000 people must not send 6 000 messages.
    The history row still says who verified and why.
    """
    now = timezone.now()
    people = []
    for row in rows:
        plan = row["plan"]
        person = User(name=plan["name"], phone=plan["phone"], home_grid_id=plan["grid_id"])
        person.set_unusable_password()
        people.append(person)
    User.objects.bulk_create(people)

    skill_names = {name for row in rows for name in row["plan"]["skills"]}
    skills = {skill.name: skill for skill in Skill.objects.filter(name__in=skill_names)}
    missing = [Skill(name=name) for name in sorted(skill_names - set(skills))]
    Skill.objects.bulk_create(missing)
    skills.update({skill.name: skill for skill in Skill.objects.filter(name__in=[s.name for s in missing])})
    through = User.skills.through
    through.objects.bulk_create(
        [
            through(user_id=person.pk, skill_id=skills[name].pk)
            for person, row in zip(people, rows, strict=True)
            for name in row["plan"]["skills"]
        ]
    )

    claims = [
        IdentityClaim(
            person=person,
            kind=kind,
            # Like do_claim_identity: an identity not bound to a grid is handled by the home grid's staff.
            grid_id=row["plan"]["grid_id"],
            status=IdentityClaim.Status.VERIFIED,
            decided_at=now,
            decided_by=actor,
        )
        for person, row in zip(people, rows, strict=True)
        for kind in row["plan"]["identities"]
    ]
    IdentityClaim.objects.bulk_create(claims)
    reason = _('Imported from spreadsheet "%(file)s" (import #%(id)s)') % {
        "file": batch.file_name,
        "id": batch.pk,
    }
    IdentityEvent.objects.bulk_create(
        [
            IdentityEvent(claim=claim, status=IdentityClaim.Status.VERIFIED, actor=actor, reason=reason[:200])
            for claim in claims
        ]
    )
    return {"people": len(people), "identities": len(claims), "skills": len(missing)}


def purge_stale_batches(*, older_than: timedelta = timedelta(days=2)) -> int:
    """Delete unconfirmed batches (they hold personal data) that nobody confirmed in time."""
    deleted, _per_model = ImportBatch.objects.filter(
        status=ImportBatch.Status.PENDING, created_at__lt=timezone.now() - older_than
    ).delete()
    return deleted


# What an upload is and what the template download is: the one XLSX content type.
XLSX_CONTENT_TYPE = xlsx.CONTENT_TYPE


# --- the template workbooks -----------------------------------------------------------------------------
def template_workbook(kind: str) -> xlsx.Workbook:
    """An empty sheet with the expected headers (cells formatted as text) and a sheet explaining them."""
    columns = COLUMNS[kind]
    workbook = xlsx.Workbook()
    sheet = workbook.sheet(_("Data"))
    data = sheet.ws
    bold = Font(bold=True)
    required_fill = PatternFill("solid", fgColor="FDE7E7")
    headers = sheet.append([column.header for column in columns])
    for cell, column in zip(headers, columns, strict=True):
        cell.font = bold
        if column.required:
            cell.fill = required_fill
        letter = cell.column_letter
        # Text format, so Excel keeps phone numbers and codes as typed instead of 1.38E+10.
        data.column_dimensions[letter].number_format = "@"
        data.column_dimensions[letter].width = max(14, min(40, len(column.example) * 2 + 4))
    data.freeze_panes = "A2"
    if kind == GRIDS:
        letter = data.cell(row=1, column=[c.key for c in columns].index("party_org_kind") + 1).column_letter
        choices = DataValidation(type="list", formula1='"支部,小组"', allow_blank=True)
        choices.add(f"{letter}2:{letter}{settings.IMPORT_MAX_ROWS + 1}")
        data.add_data_validation(choices)

    instructions = workbook.sheet(_("Instructions"))
    notes = instructions.ws
    for cell in instructions.append([_("Column"), _("Required"), _("What to enter"), _("Example")]):
        cell.font = bold
    for column in columns:
        instructions.append(
            [
                column.header,
                _("yes") if column.required else _("no"),
                str(column.help or column.label),
                column.example,
            ]
        )
    instructions.append([])
    instructions.append(
        [
            _(
                "Fill in the first sheet, one row per %(thing)s. Cells are read as plain text; formulas "
                "(starting with =, +, -, @) are refused. At most %(rows)d rows per file."
            )
            % {"thing": _("grid") if kind == GRIDS else _("person"), "rows": settings.IMPORT_MAX_ROWS}
        ]
    )
    if kind == PEOPLE:
        instructions.append([_("Identities you can enter:")])
        for identity, aliases in IDENTITY_ALIASES.items():
            instructions.append([aliases[0], "", str(identity.label), "、".join(aliases[1:])])
    notes.column_dimensions["A"].width = 18
    notes.column_dimensions["B"].width = 10
    notes.column_dimensions["C"].width = 70
    notes.column_dimensions["D"].width = 30
    for row in notes.iter_rows(min_row=2):
        row[0].alignment = Alignment(wrap_text=True, vertical="top")
        if len(row) > 2:
            row[2].alignment = Alignment(wrap_text=True, vertical="top")
    return workbook
