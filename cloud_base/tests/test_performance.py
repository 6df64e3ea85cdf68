from odoo.tests import tagged

from .common import CloudCase


@tagged("post_install", "-at_install")
class TestQueryCounts(CloudCase):
    """SQL queries per task and per planning do not grow with the number of synced records."""

    def count_queries(self, function):
        self.env.flush_all()
        self.env.invalidate_all()
        before = self.env.cr.sql_log_count
        function()
        self.env.flush_all()
        return self.env.cr.sql_log_count - before

    def scenario(self, size):
        partners = self.Partner.create([{"name": "Q%d-%04d" % (size, i)} for i in range(size)])
        rule = self.make_rule(folder="Size %d" % size,
                              domain="[('id', 'in', %s)]" % partners.ids)
        for partner in partners:
            self.attach(partner, "f.txt", b"x")
        self.sync()
        # one new file on one record: plan it, then run its upload task
        self.attach(partners[0], "new.txt", b"new")
        plan = self.count_queries(self.client._prepare_direct)
        run = self.count_queries(self.run_queue)
        idle = self.count_queries(self.client._prepare_direct)
        rule.active = False
        return plan, run, idle

    def test_queries_do_not_grow_with_synced_records(self):
        small = self.scenario(10)
        large = self.scenario(100)
        plan_small, run_small, idle_small = small
        plan_large, run_large, idle_large = large
        self.assertEqual(run_small, run_large, "queries of one upload task")
        # planning reads each rule's records in batches: a few queries more at most
        self.assertLessEqual(plan_large - plan_small, 6, (small, large))
        self.assertLessEqual(idle_large - idle_small, 6, (small, large))
