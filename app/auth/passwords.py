"""Is a new password good enough to use?

NIST SP 800-63B: at least 8 characters and a check against passwords that are common or easy to
guess, but no composition rules ("a capital, a digit and a symbol"), which people who seldom
write cannot follow and which do not make passwords stronger. The check is zxcvbn (with the
person's name and username as context) plus what zxcvbn does not know: common Vietnamese
passwords, and dates such as a birthday. A refusal says why, in the person's language, with an
example of a good passphrase.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from flask_babel import gettext as _

MIN_LENGTH = 8
# zxcvbn's score 3 means about 10^8 guesses or more ("safely unguessable"). The sign-in limits
# stop online guessing long before that; 3 also keeps the stored scrypt hashes costly to crack
# should the database ever leak, while a short phrase of three ordinary words ("correct horse
# battery", "con mèo đen") still passes. Score 4 (10^10) would refuse many such phrases.
MIN_SCORE = 3
# zxcvbn's own limit; it judges the beginning of a longer password.
_ZXCVBN_MAX_LENGTH = 72

#: Common passwords in Vietnam that zxcvbn's English lists miss, written without accents or
#: spaces (as `_fold` writes a password before comparing).
COMMON_VIETNAMESE = frozenset(
    {
        "matkhau", "matkhau1", "matkhau12", "matkhau123", "matkhau1234", "matkhaumoi", "doimatkhau",
        "anhyeuem", "emyeuanh", "yeuem", "yeuanh", "anhyeuemnhieu", "emyeuanhnhieu", "tinhyeu",
        "iloveyou", "iloveu", "yeuemmaimai", "motconvit", "xinchao", "chaoban", "vietnam",
        "vietnamvodich", "hanoi", "saigon", "hochiminh", "conmeo", "concho", "hoangtu", "congchua",
        "baby", "quehuong", "giadinh", "hanhphuc", "thanhcong", "tienbac", "phattai", "maiyeu",
        "12345678", "123456789", "1234567890", "0123456789", "87654321", "987654321", "123123123",
        "11111111", "22222222", "66666666", "68686868", "86868686", "88888888", "99999999",
        "00000000", "12341234", "11223344", "147258369", "123456789a", "a123456789", "abc12345",
        "abcd1234", "1q2w3e4r", "qwertyui", "qwertyuiop", "asdfghjk", "zxcvbnm", "aaaaaaaa",
        "password", "password1", "passw0rd", "admin123", "admin1234", "taikhoan",
    }
)  # fmt: skip
#: Words of that list that stay as easy with digits after them ("matkhau2024", "anhyeuem99").
_COMMON_WORDS = frozenset(word for word in COMMON_VIETNAMESE if word.isalpha())
_DATE_PARTS = re.compile(r"^(\d{1,4})[-/. ](\d{1,2})[-/. ](\d{1,4})$")


def _fold(text: str) -> str:
    """Lower case, without accents, spaces or punctuation: 'Mật khẩu 123' -> 'matkhau123'."""
    text = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in text.lower() if ch.isascii() and ch.isalnum())


def _is_date(day: int, month: int, year: int, *, short_year: bool = True) -> bool:
    years = range(100) if short_year and year < 100 else range(1900, 2100)
    return 1 <= day <= 31 and 1 <= month <= 12 and year in years


def looks_like_a_date(password: str) -> bool:
    """01011990, 19900101, 010190, 1990-01-01, 1/1/1990 and the like."""
    text = password.strip()
    match = _DATE_PARTS.match(text)
    if match:
        first, second, third = (int(part) for part in match.groups())
        orders = [(first, second, third), (second, first, third), (third, second, first)]
        return any(_is_date(*order) for order in orders)
    if not text.isdigit() or len(text) not in (6, 8):
        return False
    if len(text) == 8:
        orders = [
            (int(text[:2]), int(text[2:4]), int(text[4:])),  # DDMMYYYY
            (int(text[2:4]), int(text[:2]), int(text[4:])),  # MMDDYYYY
            (int(text[6:]), int(text[4:6]), int(text[:4])),  # YYYYMMDD
        ]
        return any(_is_date(*order, short_year=False) for order in orders)
    orders = [
        (int(text[:2]), int(text[2:4]), int(text[4:])),  # DDMMYY
        (int(text[4:]), int(text[2:4]), int(text[:2])),  # YYMMDD
    ]
    return any(_is_date(*order) for order in orders)


def is_common(password: str) -> bool:
    if len(set(password.lower().replace(" ", ""))) <= 1:  # aaaaaaaa, 11111111
        return True
    folded = _fold(password)
    return folded in COMMON_VIETNAMESE or folded.rstrip("0123456789") in _COMMON_WORDS


def _names(user_inputs: Iterable[str | None]) -> set[str]:
    return {_fold(text) for text in user_inputs if text and len(_fold(text)) >= 3}


def _is_a_name(password: str, names: set[str]) -> bool:
    """The person's name or username, also without accents or with digits after it."""
    folded = _fold(password)
    return folded in names or folded.rstrip("0123456789") in names


def passphrase_tip() -> str:
    return _(
        "A short sentence of four or more words is strong and easy to remember, for example: %(example)s",
        example=_("the old buffalo grazes beside the dike"),
    )


def weakness(password: str, *, user_inputs: Iterable[str | None] = ()) -> str | None:
    """Why `password` should not be used, in the request's language (with a tip), or None.

    `user_inputs` are what someone who knows the person would try first: their name and
    username.
    """
    password = password or ""
    inputs = [text for text in user_inputs if text]
    if len(password) < MIN_LENGTH:
        reason = _("The password must have at least %(n)d characters.", n=MIN_LENGTH)
    elif _is_a_name(password, _names(inputs)):
        reason = _("The password must not be your name or username.")
    elif looks_like_a_date(password):
        reason = _("A date, such as a birthday, is easy to guess.")
    elif is_common(password) or _score(password, inputs) < MIN_SCORE:
        reason = _("This password is too easy to guess. Choose another one.")
    else:
        return None
    return f"{reason} {passphrase_tip()}"


def _score(password: str, user_inputs: list[str]) -> int:
    # Imported here, when a password is chosen: its word lists weigh about 12 MB in every worker.
    from zxcvbn import zxcvbn

    # The folded forms too: people type their name without accents.
    context = user_inputs + [_fold(text) for text in user_inputs]
    context += [part for text in user_inputs for part in _fold_words(text)]
    return zxcvbn(password[:_ZXCVBN_MAX_LENGTH], user_inputs=context)["score"]


def _fold_words(text: str) -> list[str]:
    return [_fold(word) for word in re.split(r"[\s._-]+", text) if len(_fold(word)) >= 2]
