"""Cloud item names: NFC, limits in characters or UTF-8 bytes, stable de-duplication."""
import unicodedata

from odoo.addons.cloud_base.lib.names import (
    assign_unique, clean_name, cut, name_key, name_length, with_counter)


def test_nfc_normalised_so_both_spellings_are_one_name():
    decomposed = unicodedata.normalize("NFD", "Café")
    assert decomposed != "Café"
    assert clean_name(decomposed) == "Café"
    assert name_key(decomposed) == name_key("CAFÉ")
    names = assign_unique({1: ("Café", None), 2: (decomposed, None)})
    assert names == {1: "Café", 2: unicodedata.normalize("NFD", "Café") + " (2)"}


def test_case_sensitive_key_only_where_the_storage_tells_case_apart():
    assert name_key("Report.pdf") == name_key("report.PDF")
    assert name_key("Report.pdf", case_sensitive=True) != name_key("report.pdf",
                                                                   case_sensitive=True)


def test_cut_by_bytes_never_splits_a_character():
    name = "é" * 200  # 400 bytes of UTF-8
    cleaned = clean_name(name, max_length=255, unit="bytes")
    assert name_length(cleaned, "bytes") <= 255
    assert set(cleaned) == {"é"}
    assert len(cleaned) == 127
    assert cut("aé", 2, "bytes") == "a"
    # characters: the old behaviour
    assert len(clean_name(name, max_length=255)) == 200


def test_extension_kept_when_cut_by_bytes():
    name = "日本語" * 40 + ".pdf"  # 364 bytes
    cleaned = clean_name(name, max_length=250, unit="bytes", keep_extension=True)
    assert cleaned.endswith(".pdf")
    assert name_length(cleaned, "bytes") <= 250


def test_counter_fits_the_byte_limit_and_keeps_names_stable():
    base = clean_name("ü" * 200, max_length=250, unit="bytes")
    second = with_counter(base, 2, max_length=250, unit="bytes")
    assert second.endswith(" (2)")
    assert name_length(second, "bytes") <= 250
    taken = [base]
    first_run = assign_unique({1: (base, None)}, taken, max_length=250, unit="bytes")
    assert first_run == {1: second}
    again = assign_unique({1: (base, first_run[1])}, taken, max_length=250, unit="bytes")
    assert again == first_run


def test_names_windows_onedrive_and_sharepoint_reserve_are_changed_deterministically():
    expected = {
        "CON": "CON_", "con.txt": "con_.txt", "COM1.pdf": "COM1_.pdf",
        "NUL.tar.gz": "NUL_.tar.gz", "desktop.ini": "desktop_.ini", "Desktop.INI": "Desktop_.INI",
        "~$offer.docx": "~-offer.docx", "plan_vti_2.xlsx": "plan_vti-2.xlsx",
        # not reserved: left alone
        "Conference.pdf": "Conference.pdf", "CONTRACTS": "CONTRACTS", "lpt10.txt": "lpt10.txt",
    }
    for name, cleaned in expected.items():
        assert clean_name(name, keep_extension=True) == cleaned, name
        assert clean_name(cleaned, keep_extension=True) == cleaned  # stable
