"""The id -> path hints of cloud_base/lib/path_cache.py."""
from odoo.addons.cloud_base.lib.path_cache import (
    PathCache, is_below, join_path, parent_path, rebased, relative_path,
)


def test_path_helpers():
    assert is_below("/a/b", "/a") and is_below("/a", "/a") and not is_below("/ab", "/a")
    assert is_below("/x", "/") and is_below("x/y", "")  # both tops hold everything
    assert is_below("a/b", "a") and not is_below("ab", "a")
    assert relative_path("/r/a/b", "/r") == "a/b" and relative_path("/r", "/r") == ""
    assert relative_path("/rx/a", "/r") is None
    assert rebased("/a/b/c", "/a/b", "/z") == "/z/c" and rebased("/q", "/a", "/z") == "/q"
    assert parent_path("/a/b") == "/a" and parent_path("/a") == "/" and parent_path("/") is None
    assert parent_path("/a", top="") == "" and parent_path("") is None
    assert join_path("/", "a") == "/a" and join_path("/a/", "b") == "/a/b"


def test_remember_get_and_reverse_lookup():
    cache = PathCache()
    cache.remember("1", "/a")
    cache.remember("2", "/a/b")
    assert cache.get("1") == "/a" and cache.id_at("/a/b") == "2" and cache.id_at("/z") is None
    assert "1" in cache and len(cache) == 2 and cache.get("9") is None
    cache.remember("1", "/moved")  # one path per id
    assert cache.get("1") == "/moved" and cache.id_at("/a") is None
    # a stale hint and the item now there may share a path; the newest answers id_at
    cache.remember("3", "/moved")
    assert cache.get("1") == cache.get("3") == "/moved" and cache.id_at("/moved") == "3"
    cache.forget("3")
    assert cache.id_at("/moved") == "1"
    assert cache.setdefault("1", "/other") == "/moved" and cache.setdefault("4", "/d") == "/d"
    assert [i for i, _ in cache.items()] == ["1", "2", "4"]  # first-remembered order


def test_forget_below_and_rebase():
    cache = PathCache({"r": "/r", "a": "/r/a", "b": "/r/a/b", "c": "/r/c", "x": "/rx"})
    assert cache.rebase("/r/a", "/r/c/a") == ["a", "b"]
    assert cache.get("b") == "/r/c/a/b" and cache.id_at("/r/c/a") == "a"
    assert cache.id_at("/r/a") is None
    assert cache.forget_below("/r/c") == ["a", "b", "c"]
    assert dict(cache.items()) == {"r": "/r", "x": "/rx"}
    assert cache.forget_below("/") == ["r", "x"] and len(cache) == 0


def test_claim_and_path_maps():
    cache = PathCache.from_path_map({"": "root", "a": "1", "a/f": "2"})
    assert cache.id_at("a/f") == "2" and cache.get("root") == ""
    cache.claim("a/f", "3")  # the path now holds another item: the old id is gone
    assert cache.get("2") is None and cache.id_at("a/f") == "3"
    cache.claim("b", "1")  # an id claimed elsewhere moves
    assert cache.get("1") == "b" and cache.id_at("a") is None
    assert cache.as_path_map() == {"": "root", "b": "1", "a/f": "3"}
    assert cache.forget_below("") == ["root", "1", "3"]
