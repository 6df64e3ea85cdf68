"""Generic hooks of the placement strategies that add-ons use (cloud_documents does): a rule
folder name reserved by a strategy, and object folders nested in object folders."""
from unittest.mock import patch

from odoo.exceptions import ValidationError
from odoo.tests import tagged

from ..models.cloud_placement import Placement
from .common import CloudCase


class ReservingPlacement(Placement):
    key = "reserving"
    label = "A strategy with a reserved folder name"
    reserved_folder_name = "Reserved Area"

    def applies_to(self, model_name):
        return model_name == "res.partner.category"


@tagged("post_install", "-at_install")
class TestPlacementHooks(CloudCase):

    def test_reserved_folder_name_belongs_to_its_strategy(self):
        Rule = type(self.env["cloud.sync.rule"])
        strategies = dict(Rule._placement_strategies(self.env["cloud.sync.rule"]),
                          reserving=ReservingPlacement())
        with patch.object(Rule, "_placement_strategies", lambda self: strategies):
            for name in ("Reserved Area", "reserved area"):
                with self.assertRaises(ValidationError) as caught:
                    self.make_rule(folder=name)
                self.assertIn("is reserved", str(caught.exception))
            rule = self.make_rule(model="res.partner.category", folder="Reserved Area")
            self.assertEqual(rule.placement, "reserving")
            with self.assertRaises(ValidationError):
                rule.folder_name = "Elsewhere"

    def test_nested_object_folders_of_deleted_records_deleted_once(self):
        """An object folder inside another one (a strategy nesting records, e.g. a tree):
        when both records are deleted, the outer folder goes with what is below it, and the
        inner one is not planned again (its folder record went with the outer one)."""
        ann, bob = self.Partner.create([{"name": "Ann"}, {"name": "Bob"}])
        self.make_rule(domain="[('id', 'in', %s)]" % [ann.id, bob.id])
        self.attach(bob, "b.txt", b"bob")
        self.sync()
        outer, inner = self.folder_of(ann), self.folder_of(bob)
        self.adapter.move(inner.cloud_id, outer.cloud_id)
        inner.write({"parent_id": outer.id, "synced_parent_id": outer.id})
        (ann | bob).unlink()
        self.sync()
        self.assertFalse(self.cloud_item("/Odoo/Contacts/Ann"))
        self.assertFalse(self.cloud_item("/Odoo/Contacts/Bob"))
        self.assertFalse((outer | inner).exists())
        self.assertFalse(self.Task.search([("state", "=", "failed")]))
