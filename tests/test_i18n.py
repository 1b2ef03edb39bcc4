import pytest

from cnnviz import i18n
from cnnviz.errors import CnnvizError


def test_both_catalogs_have_the_same_keys():
    en, pt = i18n.catalog("en"), i18n.catalog("pt_BR")
    assert set(en) == set(pt), set(en) ^ set(pt)
    assert len(en) > 100


def test_both_catalogs_have_the_same_placeholders():
    en, pt = i18n.catalog("en"), i18n.catalog("pt_BR")
    diffs = {k: (i18n.placeholders(en[k]), i18n.placeholders(pt[k])) for k in en
             if i18n.placeholders(en[k]) != i18n.placeholders(pt[k])}
    assert not diffs


def test_catalog_files_pair_up():
    en_files = {p.name for p in (i18n._HERE / "en").glob("*.toml")}
    pt_files = {p.name for p in (i18n._HERE / "pt_BR").glob("*.toml")}
    assert en_files == pt_files


def test_every_message_formats_with_its_placeholders():
    for lang in i18n.LANGUAGES:
        for key, msg in i18n.catalog(lang).items():
            kw = {name: 1 for name in i18n.placeholders(msg)}
            assert i18n.t(key, lang, **kw)


def test_no_untranslated_copies():
    """A Portuguese message identical to a long English one was probably forgotten."""
    en, pt = i18n.catalog("en"), i18n.catalog("pt_BR")
    proper_names = (".name.", ".classes.")  # model names are the same in both languages
    same = [k for k in en if len(en[k]) > 25 and en[k] == pt[k] and not any(p in k for p in proper_names)]
    assert not same, same


@pytest.mark.parametrize("locale,lang", [("pt-BR", "pt_BR"), ("pt_PT", "pt_BR"), ("pt", "pt_BR"),
                                         ("en-US", "en"), ("de-DE", "en"), (None, "en"), ("", "en")])
def test_detect_language(locale, lang):
    assert i18n.detect_language(locale) == lang


def test_missing_key_falls_back_without_crashing():
    assert i18n.t("no.such.key", "pt_BR") == "no.such.key"
    assert i18n.t("conv.title", "xx") == i18n.t("conv.title", "en")


def test_errors_translate():
    err = CnnvizError("kernels.error.empty_cell", row=2, col=3)
    assert "Row 2, column 3" in str(err)
    assert "Linha 2, coluna 3" in err.message("pt_BR")
    assert isinstance(err, ValueError)


def test_numbers_follow_the_language():
    assert i18n.number(12288, "en") == "12,288"
    assert i18n.number(12288, "pt_BR") == "12.288"
    assert i18n.number(4294967296, "pt_BR") == "4.294.967.296"
    assert i18n.number(0.5, "pt_BR", 1) == "0,5"


def test_numbers_in_messages_follow_the_language():
    from cnnviz.i18n import number, t

    assert "25,3 MB" in t("images.error.too_big_file", "pt_BR", mb=25.3, max_mb=20.0)
    assert "25.3 MB" in t("images.error.too_big_file", "en", mb=25.3, max_mb=20.0)
    assert "12.000 milhões" in t("images.error.bomb", "pt_BR", mp=12000.4, max_mp=40.0)
    assert "12,000 million" in t("images.error.bomb", "en", mp=12000.4, max_mp=40.0)
    assert number(1234.5, "pt_BR", 1) == "1.234,5" and number(1234.5, "en", 1) == "1,234.5"
    # already formatted text and plain integers pass through untouched
    assert t("train.split", "pt_BR", train="1.234", val=5, test="2.000", classes=10).startswith("**1.234**")
