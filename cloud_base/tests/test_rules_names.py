import datetime

from odoo.exceptions import ValidationError
from odoo.tests import tagged

from odoo.addons.cloud_base.lib import name_template
from odoo.addons.cloud_base.lib.names import assign_unique, clean_name
from odoo.addons.cloud_base.lib.periods import period_range, periods_domain

from .common import CloudCase


@tagged("post_install", "-at_install")
class TestRulesAndNames(CloudCase):

    def test_r_rule_1_any_model_including_custom(self):
        model = self.env["ir.model"].create({
            "name": "Cloud test things", "model": "x_cloud_thing", "state": "manual",
            "field_id": [(0, 0, {"name": "x_name", "ttype": "char",
                                 "field_description": "Name", "state": "manual"})]})
        thing = self.env["x_cloud_thing"].create({"x_name": "Thing one"})
        rule = self.make_rule("x_cloud_thing", "Things")
        self.assertEqual(rule.model_id, model)
        self.attach(thing, "spec.pdf", b"%PDF-1.4 thing")
        self.sync()
        self.assertIn("/Odoo/Things/Thing one/spec.pdf", self.tree())
        # the folder name is unique per client and must be clean
        with self.assertRaises(ValidationError):
            self.make_rule("res.partner", "Bad: name?")

    def test_r_rule_2_domain_and_live_count(self):
        self.Partner.create([{"name": "Alpha %s" % i, "city": "Ghent"} for i in range(3)])
        self.Partner.create({"name": "Beta", "city": "Paris"})
        rule = self.make_rule(domain="[('city', '=', 'Ghent')]")
        self.assertEqual(rule.record_count, 3)
        rule.domain = "[('city', 'in', ('Ghent', 'Paris'))]"
        self.assertEqual(rule.record_count, 4)
        with self.assertRaises(ValidationError):
            rule.domain = "[('no_such_field', '=', 1)]"

    def test_r_rule_3_periods(self):
        today = datetime.date(2020, 9, 25)
        self.assertEqual(period_range(today, "last", 2, "months", False),
                         (datetime.date(2020, 7, 1), datetime.date(2020, 8, 31)))
        self.assertEqual(period_range(today, "last", 2, "months", True),
                         (datetime.date(2020, 8, 1), datetime.date(2020, 9, 30)))
        self.assertEqual(period_range(today, "next", 1, "weeks", False),
                         (datetime.date(2020, 9, 28), datetime.date(2020, 10, 4)))
        # trap seen elsewhere: years computed with months
        self.assertEqual(period_range(today, "last", 1, "years", False),
                         (datetime.date(2019, 1, 1), datetime.date(2019, 12, 31)))
        self.assertEqual(period_range(today, "last", 3, "days", True),
                         (datetime.date(2020, 9, 23), datetime.date(2020, 9, 25)))
        # same field: OR; different fields: AND
        domain = periods_domain([("create_date", "last", 1, "months", False),
                                 ("create_date", "next", 1, "months", False),
                                 ("write_date", "last", 1, "years", True)],
                                today, {"create_date": "datetime", "write_date": "datetime"})
        self.assertEqual(domain[0], "|")
        self.assertEqual(domain.count("|"), 1)
        # on records, through the rule
        old, recent = self.Partner.create([{"name": "Old"}, {"name": "Recent"}])
        self.env.flush_all()
        self.env.cr.execute("UPDATE res_partner SET create_date = %s WHERE id = %s",
                            [datetime.datetime(2001, 5, 5), old.id])
        old.invalidate_recordset()
        field = self.env["ir.model.fields"]._get("res.partner", "create_date")
        rule = self.make_rule(domain="[('id', 'in', %s)]" % [old.id, recent.id],
                              period_ids=[(0, 0, {"field_id": field.id, "direction": "last",
                                                  "count": 1, "unit": "months",
                                                  "including_current": True})])
        self.assertEqual(rule.record_count, 1)
        self.assertIn(str(datetime.date.today().year), rule.period_preview)

    def test_r_rule_4_first_rule_by_sequence_owns_the_record(self):
        partner = self.Partner.create({"name": "Shared", "city": "Ghent"})
        second = self.make_rule(folder="By city", sequence=20,
                                domain="[('city', '=', 'Ghent')]")
        first = self.make_rule(folder="All contacts", sequence=10,
                               domain="[('id', '=', %d)]" % partner.id)
        self.sync()
        tree = self.tree()
        self.assertIn("/Odoo/All contacts/Shared", tree)
        self.assertNotIn("/Odoo/By city/Shared", tree)
        self.assertEqual(self.folder_of(partner).rule_id, first)
        # drag & drop: the other rule now comes first; the folder moves there (R-RULE-9)
        second.sequence = 5
        self.sync()
        self.assertIn("/Odoo/By city/Shared", self.tree())
        self.assertNotIn("/Odoo/All contacts/Shared", self.tree())

    def test_r_rule_5_name_expression_sandboxed(self):
        partner = self.Partner.create({"name": "Ann", "city": "Ghent"})
        nomobile = self.Partner.create({"name": "Bob"})
        rule = self.make_rule(name_expression='${object.name}, ${object.city or "no city"}',
                              domain="[('id', 'in', %s)]" % [partner.id, nomobile.id])
        self.assertEqual(rule._object_name(partner), "Ann, Ghent")
        self.assertEqual(rule._object_name(nomobile), "Bob, no city")
        for evil in ["<% import os %>", "${object.__class__}", "% for x in y:",
                     "${__import__('os').system('id')}", "${object.name", "<%! import os %>",
                     "${open('/etc/passwd').read()}"]:
            with self.assertRaises(ValidationError, msg=evil):
                rule.name_expression = evil
        # rendering errors or empty results fall back to the display name
        rule.name_expression = "${object.parent_id.name or ''}"
        self.assertEqual(rule._object_name(partner), "Ann")
        rule.name_expression = "${1 / 0}"
        self.assertEqual(rule._object_name(partner), "Ann")
        self.assertIn("division", rule.name_preview)
        with self.assertRaises(name_template.TemplateError):
            name_template.render("${object.name.__len__()}", partner)

    def test_r_rule_6_default_folders_only_for_new_object_folders(self):
        first = self.Partner.create({"name": "First"})
        rule = self.make_rule(domain="[('name', 'in', ('First', 'Second'))]")
        invoices = self.env["cloud.rule.folder"].create({"name": "Invoices",
                                                         "rule_id": rule.id})
        self.env["cloud.rule.folder"].create({"name": "2024", "rule_id": rule.id,
                                              "parent_id": invoices.id})
        self.sync()
        tree = self.tree()
        self.assertIn("/Odoo/Contacts/First/Invoices", tree)
        self.assertIn("/Odoo/Contacts/First/Invoices/2024", tree)
        # editing the tree later does not touch existing object folders
        self.env["cloud.rule.folder"].create({"name": "Contracts", "rule_id": rule.id})
        self.Partner.create({"name": "Second"})
        self.sync()
        tree = self.tree()
        self.assertNotIn("/Odoo/Contacts/First/Contracts", tree)
        self.assertIn("/Odoo/Contacts/Second/Contracts", tree)
        self.assertIn("/Odoo/Contacts/Second/Invoices/2024", tree)
        self.assertTrue(first)

    def test_r_rule_7_stand_alone_attachments(self):
        rule = self.make_rule("ir.attachment", "Stand Alone Attachments")
        lonely = self.Attachment.create({"name": "lonely.txt", "raw": b"alone"})
        partner = self.Partner.create({"name": "Owner"})
        owned = self.attach(partner, "owned.txt", b"owned")
        # resources Odoo serves or compiles itself stay local (seen: res.company.scss)
        scss = self.Attachment.create({"name": "res.company.scss", "raw": b"$o-color: #000;",
                                       "url": "/_custom/web.assets_frontend/company.scss",
                                       "mimetype": "text/scss"})
        self.sync()
        self.assertIn("/Odoo/Stand Alone Attachments/lonely.txt", self.tree())
        self.assertNotIn("/Odoo/Stand Alone Attachments/res.company.scss", self.tree())
        scss.invalidate_recordset()
        self.assertEqual(scss.type, "binary")
        self.assertSynced(lonely, b"alone")
        owned.invalidate_recordset()
        self.assertEqual(owned.type, "binary")  # no rule for partners
        self.assertEqual(rule.folder_id.name, "Stand Alone Attachments")

    def test_r_rule_8_deleting_a_rule_keeps_cloud_content(self):
        partner = self.Partner.create({"name": "Kept"})
        rule = self.make_rule(domain="[('id', '=', %d)]" % partner.id)
        synced = self.attach(partner, "a.txt", b"aaa")
        self.sync()
        rule.unlink()
        newer = self.attach(partner, "b.txt", b"bbb")
        self.sync()
        tree = self.tree()
        self.assertIn("/Odoo/Contacts/Kept/a.txt", tree)
        self.assertNotIn("/Odoo/Contacts/Kept/b.txt", tree)
        self.assertSynced(synced, b"aaa")  # link and content still work
        newer.invalidate_recordset()
        self.assertEqual(newer.type, "binary")

    def test_r_rule_9_record_leaving_rules(self):
        partner = self.Partner.create({"name": "Mover", "city": "Ghent"})
        ghent = self.make_rule(folder="Ghent", domain="[('city', '=', 'Ghent')]")
        paris = self.make_rule(folder="Paris", domain="[('city', '=', 'Paris')]")
        self.attach(partner, "doc.txt", b"doc")
        self.sync()
        folder = self.folder_of(partner)
        cloud_id = folder.cloud_id
        partner.city = "Paris"
        self.sync()
        self.assertIn("/Odoo/Paris/Mover/doc.txt", self.tree())
        self.assertEqual(self.folder_of(partner).cloud_id, cloud_id)
        self.assertEqual(self.folder_of(partner).rule_id, paris)
        # matches nothing: the folder stays, no longer synced
        partner.city = "Rome"
        self.sync()
        self.assertIn("/Odoo/Paris/Mover/doc.txt", self.tree())
        self.assertEqual(self.folder_of(partner).state, "detached")
        late = self.attach(partner, "late.txt", b"late")
        self.sync()
        late.invalidate_recordset()
        self.assertEqual(late.type, "binary")
        self.assertTrue(ghent)

    def test_r_name_1_same_names_get_distinct_stable_folders(self):
        a, b = self.Partner.create([{"name": "Twin"}, {"name": "Twin"}])
        self.make_rule(domain="[('name', '=', 'Twin')]")
        self.sync()
        names = sorted([self.folder_of(a).name, self.folder_of(b).name])
        self.assertEqual(names, ["Twin", "Twin (2)"])
        first_names = (self.folder_of(a).name, self.folder_of(b).name)
        for _ in range(2):
            self.sync()
        self.assertEqual((self.folder_of(a).name, self.folder_of(b).name), first_names)
        self.assertFalse(self.Task.search_count([("type", "=", "folder_rename")]))
        # pure function: current names are kept, no flip-flop
        self.assertEqual(assign_unique({1: ("X", "X (2)"), 2: ("X", "X")}),
                         {1: "X (2)", 2: "X"})
        # ... until the name it was counted away from is free again
        self.assertEqual(assign_unique({1: ("X", "X (2)"), 3: ("X", "X (3)")}),
                         {1: "X", 3: "X (3)"})
        self.assertEqual(assign_unique({1: ("X", "X (2)")}, taken=["x"]), {1: "X (2)"})

    def test_r_name_2_cleaning(self):
        self.assertEqual(clean_name('a*b?c"d\'e:f<g>h|i+j%k!l@m\\n/o'),
                         "a-b-c-d-e-f-g-h-i-j-k-l-m-n-o")
        self.assertEqual(clean_name("   "), "-")
        self.assertEqual(clean_name(".."), "-")
        self.assertEqual(clean_name("  spaced   out  "), "spaced out")
        long = clean_name("x" * 300 + ".pdf", max_length=100, keep_extension=True)
        self.assertEqual(len(long), 100)
        self.assertTrue(long.endswith(".pdf"))
        partner = self.Partner.create({"name": "Dr. Who? <Time|Lord>"})
        self.make_rule(domain="[('id', '=', %d)]" % partner.id)
        self.sync()
        self.assertIn("/Odoo/Contacts/Dr. Who- -Time-Lord-", self.tree())
