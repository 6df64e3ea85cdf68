"""The snapshot-diff change feed of cloud_base/lib/snapshot_feed.py, over a small fake tree
whose folder version tags change when anything below them changes (as WebDAV ETags do),
compared with an in-memory merge base."""
import collections
import itertools

import pytest

from odoo.addons.cloud_base.lib.adapter import FILE, FOLDER, CloudItem
from odoo.addons.cloud_base.lib.errors import InvalidRequest, NotFound, ResetNeeded, Transient
from odoo.addons.cloud_base.lib.cursors import encode_state
from odoo.addons.cloud_base.lib.merge_base import MemoryMergeBase
from odoo.addons.cloud_base.lib.snapshot_feed import SnapshotFeed, dump_change, load_change

_ids = itertools.count(100)


class Node:
    def __init__(self, tree, item_id, name, parent, is_folder, size=0):
        self.tree, self.id, self.name, self.parent = tree, item_id, name, parent
        self.is_folder, self.size = is_folder, size
        self.etag = "e0"

    @property
    def path(self):
        if self.parent is None:
            return "/"
        parent = self.tree.nodes[self.parent].path
        return parent.rstrip("/") + "/" + self.name

    @property
    def fingerprint(self):
        return self.tree.fingerprint

    def item(self, parent_id):
        return CloudItem(self.id, self.name, FOLDER if self.is_folder else FILE, parent_id,
                         size=self.size, etag=self.etag, path=self.path)


class Tree:
    """A storage: nodes by id; a change bumps the tags of the item and of its ancestors."""

    def __init__(self, recursive=True):
        self.nodes = {}
        self.recursive = recursive
        self.fingerprint = "fp1"
        self.listed = collections.Counter()
        self.base = MemoryMergeBase()
        self.top = self._add("top", "", None, True)

    def _add(self, item_id, name, parent, is_folder, size=0):
        self.nodes[item_id] = Node(self, item_id, name, parent, is_folder, size)
        self.touch(item_id)
        return item_id

    def touch(self, item_id):
        node = self.nodes.get(item_id)
        while node is not None:
            node.etag = "e%d" % next(_ids)
            if not self.recursive:
                return
            node = self.nodes.get(node.parent)

    def folder(self, parent, name):
        return self._add(str(next(_ids)), name, parent, True)

    def file(self, parent, name, size=1):
        return self._add(str(next(_ids)), name, parent, False, size)

    def edit(self, item_id, size):
        self.nodes[item_id].size = size
        self.touch(item_id)

    def move(self, item_id, parent, name=None):
        old = self.nodes[item_id].parent
        self.nodes[item_id].parent = parent
        self.nodes[item_id].name = name or self.nodes[item_id].name
        self.touch(old)
        self.touch(item_id)

    def delete(self, item_id):
        parent = self.nodes[item_id].parent
        doomed = [item_id]
        while doomed:
            current = doomed.pop()
            doomed += [i for i, n in self.nodes.items() if n.parent == current]
            self.nodes.pop(current)
        self.touch(parent)

    # -- what the feed is given --------------------------------------------------------------
    def listing(self, item_id):
        self.listed[item_id] += 1
        node = self.nodes.get(item_id)
        if node is None:
            raise NotFound("gone")
        return [node] + sorted((n for n in self.nodes.values() if n.parent == item_id),
                               key=lambda n: n.name)

    def list_root(self, state):
        try:
            return self.listing(state["r"])
        except NotFound:
            return None

    def read(self, feed, root_id, cursor):
        """One page, recorded in the merge base as the core records it."""
        page = feed.changes(root_id, cursor, self.base)
        self.base.apply_changes(page.changes)
        return page

    def made_by_odoo(self, item_id):
        """Record an item as the engines record what they create (folder tags unknown)."""
        node = self.nodes[item_id]
        self.base.record(node.item(node.parent))

    def feed(self, page_size=100):
        return SnapshotFeed("t1:", list_root=self.list_root,
                            list_folder=lambda node: self.listing(node.id),
                            parent_id=lambda node: node.parent, page_size=page_size,
                            recursive_tags=self.recursive)


@pytest.fixture
def tree():
    tree = Tree()
    tree.root = tree.folder(tree.top, "Odoo")
    tree.a = tree.folder(tree.root, "A")
    tree.b = tree.folder(tree.root, "B")
    tree.deep = tree.folder(tree.b, "Deep")
    tree.f1 = tree.file(tree.a, "one.txt")
    tree.f2 = tree.file(tree.deep, "two.txt")
    return tree


def _summary(page):
    return {c.id: ("deleted" if c.deleted else (c.item.name, c.item.parent_id))
            for c in page.changes}


def test_first_snapshot_lists_everything_once_then_nothing_changed_costs_one_listing(tree):
    feed = tree.feed()
    cursor = feed.latest_cursor(tree.nodes[tree.root], tree.base)
    assert cursor.startswith("t1:")
    assert tree.listed == {tree.root: 1, tree.a: 1, tree.b: 1, tree.deep: 1}
    tree.listed.clear()
    page = tree.read(feed, tree.root, cursor)
    assert page.changes == [] and not page.has_more
    assert tree.listed == {tree.root: 1}  # the root's tag did not change: nothing below read


def test_changes_descend_only_into_changed_folders(tree):
    feed = tree.feed()
    cursor = feed.latest_cursor(tree.nodes[tree.root], tree.base)
    tree.edit(tree.f2, 5)
    new = tree.file(tree.a, "new.txt")
    tree.listed.clear()
    page = tree.read(feed, tree.root, cursor)
    assert _summary(page) == {tree.f2: ("two.txt", tree.deep), new: ("new.txt", tree.a)}
    assert set(tree.listed) == {tree.root, tree.a, tree.b, tree.deep}
    # the next call from the new cursor: nothing
    tree.listed.clear()
    assert tree.read(feed, tree.root, page.cursor).changes == []
    tree.edit(tree.f1, 9)
    tree.listed.clear()
    page = tree.read(feed, tree.root, page.cursor)
    assert _summary(page) == {tree.f1: ("one.txt", tree.a)}
    assert set(tree.listed) == {tree.root, tree.a}  # B and Deep carried over unread


def test_moves_renames_and_deletions(tree):
    feed = tree.feed()
    cursor = feed.latest_cursor(tree.nodes[tree.root], tree.base)
    tree.move(tree.deep, tree.a, "Deeper")
    tree.move(tree.f1, tree.b)
    tree.delete(tree.a)  # with Deeper and two.txt inside
    page = tree.read(feed, tree.root, cursor)
    assert _summary(page) == {tree.f1: ("one.txt", tree.b), tree.a: "deleted",
                              tree.deep: "deleted", tree.f2: "deleted"}


def test_the_root_renamed_or_moved_is_reported_not_deleted(tree):
    feed = tree.feed()
    cursor = feed.latest_cursor(tree.nodes[tree.root], tree.base)
    other = tree.folder(tree.top, "Elsewhere")
    tree.move(tree.root, other, "Renamed")
    page = tree.read(feed, tree.root, cursor)
    assert _summary(page) == {tree.root: ("Renamed", other)}
    assert feed.decode(page.cursor)["rp"] == "/Elsewhere/Renamed"


def test_the_root_gone_deletes_everything(tree):
    feed = tree.feed()
    cursor = feed.latest_cursor(tree.nodes[tree.root], tree.base)
    tree.delete(tree.root)
    page = tree.read(feed, tree.root, cursor)
    assert set(_summary(page)) == {tree.root, tree.a, tree.b, tree.deep, tree.f1, tree.f2}
    assert all(c.deleted for c in page.changes)


def test_pages_wait_in_the_cursor_without_a_new_walk(tree):
    feed = tree.feed(page_size=2)
    cursor = feed.latest_cursor(tree.nodes[tree.root], tree.base)
    made = {tree.file(tree.a, "f%d.txt" % i) for i in range(5)}
    seen, pages = set(), 0
    while True:
        tree.listed.clear()
        page = tree.read(feed, tree.root, cursor)
        pages += 1
        seen |= {c.id for c in page.changes}
        cursor = page.cursor
        if not page.has_more:
            break
        assert len(page.changes) == 2
    assert seen == made and pages == 3
    assert not tree.listed  # the last pages came out of the cursor


def test_cursor_checks_and_resets(tree):
    feed = tree.feed()
    cursor = feed.latest_cursor(tree.nodes[tree.root], tree.base)
    with pytest.raises(ResetNeeded):
        tree.read(feed, tree.a, cursor)  # another folder's cursor
    for bad in ("garbage", "t1:xxxx", cursor.replace("t1:", "t2:")):
        with pytest.raises(ResetNeeded):
            tree.read(feed, tree.root, bad)
    tree.fingerprint = "fp2"  # restored from a backup
    tree.touch(tree.a)
    with pytest.raises(ResetNeeded) as err:
        tree.read(feed, tree.root, cursor)
    assert err.value.code == "fingerprint"


def test_a_folder_vanishing_during_the_walk_is_transient(tree):
    feed = tree.feed()
    cursor = feed.latest_cursor(tree.nodes[tree.root], tree.base)
    tree.edit(tree.f2, 3)
    listing = tree.listing

    def racing(item_id):
        if item_id == tree.deep:
            raise NotFound("gone meanwhile")
        return listing(item_id)

    tree.listing = racing
    with pytest.raises(Transient) as err:
        tree.read(feed, tree.root, cursor)
    assert err.value.code == "walk_race"
    tree.listing = listing
    assert _summary(tree.read(feed, tree.root, cursor)) == {tree.f2: ("two.txt", tree.deep)}


def test_the_merge_base_follows_the_tree(tree):
    feed = tree.feed()
    cursor = feed.latest_cursor(tree.nodes[tree.root], tree.base)
    known = {e.id: e for e in tree.base.entries()}
    assert set(known) == {tree.root, tree.a, tree.b, tree.deep, tree.f1, tree.f2}
    assert known[tree.deep].path == "/Odoo/B/Deep" and known[tree.f2].parent_id == tree.deep
    assert known[tree.root].parent_id == tree.top
    tree.edit(tree.f1, 4)
    tree.read(feed, tree.root, cursor)
    # the tags of the folders listed are recorded: the next read lists the root only
    assert tree.base.get(tree.a).etag == tree.nodes[tree.a].etag
    assert tree.base.get(tree.f1).size == 4
    tree.listed.clear()
    assert tree.read(feed, tree.root, cursor).changes == []
    assert set(tree.listed) == {tree.root}


def test_items_made_by_odoo_then_deleted_in_the_cloud_are_reported(tree):
    """The loss path of issue 11 §1: what the direct sync creates was never in the feed's
    own listings; the merge base knows it, so a deletion before the next read shows."""
    feed = tree.feed()
    cursor = feed.latest_cursor(tree.nodes[tree.root], tree.base)
    folder = tree.folder(tree.b, "Record")
    inside = tree.file(folder, "scan.pdf")
    lone = tree.file(tree.a, "made.txt")
    for item_id in (folder, inside, lone):
        tree.made_by_odoo(item_id)
    assert tree.read(feed, tree.root, cursor).changes == []  # nothing new to tell
    tree.delete(folder)
    tree.delete(lone)
    page = tree.read(feed, tree.root, cursor)
    assert _summary(page) == {folder: "deleted", inside: "deleted", lone: "deleted"}
    assert tree.base.get(folder) is None and tree.base.get(inside) is None


def test_a_folder_made_by_odoo_is_listed_once(tree):
    """A folder recorded from a mutation has no known tag: the next read lists it (a folder
    Odoo adopted may already hold files), then its tag is known."""
    feed = tree.feed()
    cursor = feed.latest_cursor(tree.nodes[tree.root], tree.base)
    folder = tree.folder(tree.a, "Adopted")
    there = tree.file(folder, "already-there.txt")
    tree.made_by_odoo(folder)
    page = tree.read(feed, tree.root, cursor)
    assert _summary(page) == {there: ("already-there.txt", folder)}
    tree.listed.clear()
    tree.touch(tree.a)
    tree.read(feed, tree.root, cursor)
    assert folder not in tree.listed


def test_the_cursor_does_not_grow_with_the_tree(tree):
    feed = tree.feed()
    small = feed.latest_cursor(tree.nodes[tree.root], tree.base)
    for n in range(300):
        tree.file(tree.folder(tree.a, "F%03d" % n), "file.txt")
    large = feed.latest_cursor(tree.nodes[tree.root], tree.base)
    assert len(large) == len(small) and len(tree.base) > 600


def test_a_cursor_of_the_former_format_asks_for_a_reset(tree):
    feed = tree.feed()
    old = encode_state("t1:", {"v": 1, "r": tree.root, "rp": "/Odoo", "fp": None, "p": [],
                               "d": {}, "f": {}})
    with pytest.raises(ResetNeeded):
        tree.read(feed, tree.root, old)


def test_without_a_merge_base_the_feed_refuses():
    tree = Tree()
    root = tree.folder(tree.top, "Odoo")
    feed = tree.feed()
    with pytest.raises(InvalidRequest):
        feed.latest_cursor(tree.nodes[root], None)


def test_without_recursive_tags_every_folder_is_listed():
    tree = Tree(recursive=False)
    root = tree.folder(tree.top, "Odoo")
    sub = tree.folder(root, "Sub")
    deep = tree.folder(sub, "Deep")
    feed = tree.feed()
    cursor = feed.latest_cursor(tree.nodes[root], tree.base)
    added = tree.file(deep, "x.txt")  # only Deep's tag changes
    tree.listed.clear()
    page = tree.read(feed, root, cursor)
    assert _summary(page) == {added: ("x.txt", deep)}
    assert set(tree.listed) == {root, sub, deep}


def test_changes_survive_the_cursor_form():
    item = CloudItem("7", "a.txt", FILE, "3", size=4, hash="h", etag="e", modified="m",
                     mimetype="text/plain", path="/r/a.txt")
    for change in (load_change([7, 1]), load_change(dump_change(
            load_change(["7", 0, "a.txt", FILE, "3", 4, "h", "e", "m", "text/plain",
                         "/r/a.txt"])))):
        assert change.deleted or change.item == item
