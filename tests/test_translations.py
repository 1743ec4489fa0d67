"""Every message in the code and templates has a real translation in Vietnamese and Bengali."""

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None, "lazy_ngettext": (1, 2)}


def extracted_messages() -> set[str]:
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords={**KEYWORDS}
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def load_catalog(lang: str):
    with (ROOT / "translations" / lang / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po, locale=lang)


@pytest.fixture(scope="module")
def messages():
    found = extracted_messages()
    assert len(found) > 100
    return found


@pytest.mark.parametrize("lang", ["vi", "bn"])
def test_every_message_is_translated(messages, lang):
    catalog = load_catalog(lang)
    missing = []
    for msgid in sorted(messages):
        entry = catalog.get(msgid)
        strings = entry.string if entry is not None else None
        if isinstance(strings, tuple):
            ok = all(strings)
        else:
            ok = bool(strings)
        if entry is None or not ok or entry.fuzzy:
            missing.append(msgid)
    assert not missing, (
        f"{len(missing)} message(s) lack a {lang} translation "
        f"(run flask translations update, then translate): {missing[:10]}"
    )


@pytest.mark.parametrize("lang", ["vi", "bn"])
def test_translations_keep_the_placeholders(messages, lang):
    import re

    catalog = load_catalog(lang)
    pattern = re.compile(r"%\(\w+\)[sd]")
    wrong = []
    for message in catalog:
        if not message.id or not message.string:
            continue
        source = message.id[0] if isinstance(message.id, tuple) else message.id
        targets = message.string if isinstance(message.string, tuple) else (message.string,)
        for target in targets:
            if set(pattern.findall(source)) != set(pattern.findall(target)):
                wrong.append(source)
    assert not wrong, f"placeholders differ in {lang}: {wrong[:5]}"


@pytest.mark.parametrize("lang", ["vi", "bn"])
def test_translations_are_not_copies_of_the_english(messages, lang):
    catalog = load_catalog(lang)
    copies = [m.id for m in catalog if m.id and m.string and m.string == m.id and len(m.id) > 12]
    # Names such as "English" may stay as they are; whole sentences may not.
    assert len(copies) <= 3, f"{lang} entries identical to the English: {copies[:10]}"


def test_pages_are_shown_in_the_chosen_language(client, make_user):
    html = client.get("/login?lang=vi").get_data(as_text=True)
    assert 'lang="vi"' in html
    assert "Đăng nhập" in html
    html = client.get("/login?lang=bn").get_data(as_text=True)
    assert 'lang="bn"' in html
    assert "সাইন ইন" in html or "প্রবেশ" in html
