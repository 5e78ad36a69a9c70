"""An employer's name in the reader's language (employers/display.py): the Chinese name on Chinese
pages when one is stored, the registered name otherwise; lists show the other one beside it."""

from __future__ import annotations

from django.utils import translation

from expatsi.employers.display import display_name, other_name
from expatsi.employers.models import Employer

EN = "Rhine Precision (Beijing) Co., Ltd."
ZH = "莱茵精密（北京）有限公司"


def test_each_language_shows_its_name_and_lists_show_the_other_beside_it() -> None:
    both = Employer(name=EN, name_zh=ZH)
    assert (display_name(both, "zh-hans"), other_name(both, "zh-hans")) == (ZH, EN)
    assert (display_name(both, "en"), other_name(both, "en")) == (EN, ZH)


def test_without_a_chinese_name_chinese_pages_show_the_registered_one_alone() -> None:
    only_en = Employer(name=EN, name_zh="")
    assert (display_name(only_en, "zh-hans"), other_name(only_en, "zh-hans")) == (EN, "")
    assert (display_name(only_en, "en"), other_name(only_en, "en")) == (EN, "")


def test_the_active_language_decides_when_none_is_given() -> None:
    both = Employer(name=EN, name_zh=ZH)
    with translation.override("zh-hans"):
        assert (display_name(both), other_name(both)) == (ZH, EN)
    with translation.override("en"):
        assert (display_name(both), other_name(both)) == (EN, ZH)


def test_a_name_signed_into_a_card_is_shown_as_it_is_and_nothing_is_blank() -> None:
    assert display_name("Example Technology (Beijing) Co., Ltd.", "zh-hans") == (
        "Example Technology (Beijing) Co., Ltd."
    )
    assert display_name(None) == "" and other_name(None) == ""
