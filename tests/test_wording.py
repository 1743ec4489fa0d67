"""The words of the catalogs: an address is not an IP address unless it is one, Vietnamese
reads as Vietnamese (no word-for-word "ở quá khứ"), and one name for the demo data."""

from __future__ import annotations

import re

import pytest

from tests.test_translations import load_catalog

CALQUES = ("ở quá khứ", "ở tương lai", "đang trước", "đang sau", "dữ liệu minh họa", "dữ liệu minh hoạ")


def entries(lang: str):
    for message in load_catalog(lang):
        if not message.id:
            continue
        source = message.id[0] if isinstance(message.id, tuple) else message.id
        targets = message.string if isinstance(message.string, tuple) else (message.string,)
        yield source, [target for target in targets if target]


@pytest.mark.parametrize(("lang", "ip"), [("vi", "IP"), ("bn", "আইপি")])
def test_an_address_is_an_ip_address_only_when_the_english_says_so(lang, ip):
    wrong = [
        source
        for source, targets in entries(lang)
        if re.search(r"address", source, re.I) and "IP" not in source and any(ip in t for t in targets)
    ]
    assert not wrong
    catalog = load_catalog(lang)
    assert catalog.get("Address").string == {"vi": "Địa chỉ", "bn": "ঠিকানা"}[lang]
    assert ip in catalog.get("IP address").string


def test_vietnamese_has_no_word_for_word_calques():
    found = [(source, t) for source, targets in entries("vi") for t in targets if any(c in t.lower() for c in CALQUES)]
    assert not found


def test_the_past_and_the_order_of_dates_in_natural_vietnamese():
    catalog = load_catalog("vi")
    assert catalog.get("The start time is in the past.").string == "Giờ bắt đầu đã qua."
    assert catalog.get("The due date cannot be in the past.").string == "Hạn hoàn thành không được là ngày đã qua."
    ends = catalog.get("The campaign ends before it starts.").string
    assert ends == "Ngày kết thúc chiến dịch phải sau ngày bắt đầu."


def test_the_walk_list_prints_the_address_and_the_audit_log_the_ip_address(client, login_as, make_user):
    admin = make_user("admin")
    login_as(admin)
    text = client.get("/audit/?lang=vi").get_data(as_text=True)
    assert '<th scope="col">Địa chỉ IP</th>' in text
