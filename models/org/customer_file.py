"""A customer file's row (户号, 户名, 联系电话, 用电地址, 供电单位编码, 供电区域类型, 重要客户) read
into the columns of `customers`, or one reason in Chinese why not. Pure."""

import re
from functools import cache
from typing import Any, NamedTuple

import phonenumbers

from models.core.enums import AreaKind
from models.core.errors import InputError
from models.org.org_file import NO, YES, word
from models.tickets.intake import normalise_phone

# (Chinese header, English alias, field)
HEADERS = [("户号", "account_no", "account_no"), ("户名", "name", "name"),
           ("联系电话", "phones", "phones"), ("用电地址", "address", "address"),
           ("供电单位编码", "unit_code", "unit"), ("供电区域类型", "area_kind", "area_kind"),
           ("重要客户", "important", "important")]
REQUIRED = ("account_no", "name", "phones", "address", "unit")
PHONE_SEPARATORS = re.compile(r"[,，;；/、\s]+")
LIMITS = {"account_no": 32, "name": 100, "address": 300}
MOBILE = re.compile(r"^1\d{10}$")


@cache
def _mobile_pattern() -> re.Pattern:
    return re.compile(phonenumbers.PhoneMetadata.metadata_for_region("CN")
                      .mobile.national_number_pattern)


def phone_number(raw: str) -> str:
    """A customer's number in national form. A mobile that phonenumbers' own CN mobile pattern
    takes is valid as it stands; anything else goes through the whole parse (80% of an import's
    time when every number did)."""
    if MOBILE.match(raw) and _mobile_pattern().fullmatch(raw):
        return raw
    return normalise_phone(raw)


class CustomerRow(NamedTuple):
    """Plain values only: rows are spooled to disk between the check and the write."""

    account_no: str
    name: str
    phone: str
    alt_phone: str | None
    address: str
    region_id: int
    area_kind: str
    important: bool


def missing_headers(headers: set[str]) -> list[str]:
    return [zh for zh, en, name in HEADERS if name in REQUIRED and zh not in headers
            and en not in headers]


def _cell(values: dict[str, Any], zh: str, en: str) -> str:
    value = values.get(zh, values.get(en))
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # an account number typed as a number in Excel
    return "" if value is None else str(value).strip()


def read_customer(values: dict[str, Any], units: dict[str, tuple[int, str]]) -> CustomerRow:
    """`units`: unit code -> (region id, the unit's usual area kind). Raises ValueError."""
    cells = {name: _cell(values, zh, en) for zh, en, name in HEADERS}
    missing = [zh for zh, _, name in HEADERS if name in REQUIRED and not cells[name]]
    if missing:
        raise ValueError(f"缺少{'、'.join(missing)}")
    for name, limit in LIMITS.items():
        if len(cells[name]) > limit:
            label = next(zh for zh, _, n in HEADERS if n == name)
            raise ValueError(f"{label}太长，最多 {limit} 个字")
    phones = [p for p in PHONE_SEPARATORS.split(cells["phones"]) if p]
    if len(phones) > 2:
        raise ValueError("联系电话最多两个")
    try:
        phones = [phone_number(p) for p in phones]
    except InputError:
        raise ValueError(f"联系电话“{cells['phones']}”无效") from None
    unit = units.get(cells["unit"])
    if unit is None:
        raise ValueError(f"供电单位“{cells['unit']}”不存在")
    area = word(AreaKind, cells["area_kind"]).value if cells["area_kind"] else unit[1]
    important = cells["important"].lower() or "否"
    if important not in YES | NO:
        raise ValueError(f"重要客户“{cells['important']}”无效，可选：是/否")
    return CustomerRow(cells["account_no"], cells["name"], phones[0],
                       phones[1] if len(phones) > 1 else None, cells["address"], unit[0], area,
                       important in YES)
