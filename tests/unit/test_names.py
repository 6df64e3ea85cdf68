"""Cloud item names: NFC, limits in characters or UTF-8 bytes, stable de-duplication."""
import unicodedata

from odoo.addons.cloud_base.lib.names import (
    TEMPORARY_ROOM, assign_unique, clean_name, cut, default_folder_cap, file_name_cap,
    level_cap, name_key, name_length, temporary_name, with_counter)


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


def test_path_limit_caps_each_level_so_the_longest_path_fits():
    """Root, rule, record folder and file, each at its cap, stay within the path limit, the
    temporary name of a file's next version too; the caps depend on the level only."""
    limit = 348  # 400 less a drive path like /personal/<user>/Documents
    caps = [level_cap(limit, kind) for kind in ("root", "rule", "object")]
    assert caps == [33, 51, 103]
    levels = [(kind, "x" * cap) for kind, cap in zip(("root", "rule", "object"), caps, strict=True)]
    final = file_name_cap(limit, levels)
    temporary = file_name_cap(limit, levels, temporary=True)
    assert temporary - final == TEMPORARY_ROOM
    longest = "/".join([""] + ["x" * cap for cap in caps] + [
        temporary_name(9999999999, "y" * final)])
    assert len(longest) <= limit
    # a shorter name above leaves the caps below as they are (renames stay within them)
    assert file_name_cap(limit, [("root", "Odoo"), ("rule", "C"), ("object", "A")]) == final
    # a subfolder made in the cloud counts by its name
    assert file_name_cap(limit, levels + [("subfolder", "z" * 20)]) == final - 21
    # no path limit: the name limit alone
    assert level_cap(None, "rule", 255) == 255 and file_name_cap(None, levels, 255) == 255


def test_deep_default_folder_tree_shares_what_the_record_folder_leaves():
    limit = 348
    above = sum(level_cap(limit, kind) + 1 for kind in ("root", "rule", "object"))
    for depth in (1, 3, 12):
        cap = default_folder_cap(limit, depth)
        assert above + depth * (cap + 1) <= limit
    assert default_folder_cap(limit, 1) == limit - above - 1
    assert default_folder_cap(None, 12, 100) == 100
