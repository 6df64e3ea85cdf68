"""Configure the demo database and run a first full sync cycle (run inside `odoo-bin shell`).

Creates a client connected to the embedded local cloud, two rules on contacts (companies with
default folders and a name expression; people), a rule for stand-alone attachments, demo
records with attachments; runs direct + backward sync; checks that the cloud tree on disk
matches the rules; prints a summary and "DEMO OK" when it does.
"""
import base64
import os

Task = env["cloud.task"]
root_dir = os.environ["DEMO_CLOUD_ROOT"]
user = os.environ["DEMO_CLOUD_USER"]
partner_model = env["ir.model"]._get("res.partner")

client = env["cloud.client"].create({
    "name": "Local cloud (demo)", "provider": "owncloud", "root_folder_name": "Odoo",
    "owncloud_url": os.environ["DEMO_CLOUD_URL"], "owncloud_login": user,
    "owncloud_password": os.environ["DEMO_CLOUD_PASSWORD"],
})
client.action_connect()

companies = env["res.partner"].create([
    {"name": "Azure Interior", "is_company": True, "city": "Fremont"},
    {"name": "Deco Addict", "is_company": True, "city": "Pleasant Hill"},
    {"name": "Gemini Furniture", "is_company": True, "city": "Fairfield"},
])
people = env["res.partner"].create([
    {"name": "Brandon Freeman", "parent_id": companies[0].id},
    {"name": "Addison Olson", "parent_id": companies[1].id},
    {"name": "Edwin Hansen", "parent_id": companies[2].id},
    {"name": "Lorraine Douglas"},
])
demo_ids = (companies | people).ids
company_rule = env["cloud.sync.rule"].create({
    "model_id": partner_model.id, "folder_name": "Companies", "client_id": client.id,
    "sequence": 1, "domain": "[('is_company', '=', True), ('id', 'in', %s)]" % demo_ids,
    "name_expression": '${object.name} (${object.city or "no city"})',
    "default_folder_ids": [(0, 0, {"name": "Contracts"}), (0, 0, {"name": "Invoices"})],
})
people_rule = env["cloud.sync.rule"].create({
    "model_id": partner_model.id, "folder_name": "Contacts", "client_id": client.id,
    "sequence": 2, "domain": "[('is_company', '=', False), ('id', 'in', %s)]" % demo_ids,
})
env["cloud.sync.rule"].create({
    "model_id": env["ir.model"]._get("ir.attachment").id, "client_id": client.id,
    "folder_name": "Stand Alone Attachments", "sequence": 3,
})
pixel = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwAD"
                         "hgGAWjR9awAAAABJRU5ErkJggg==")
Attachment = env["ir.attachment"]
for partner in companies | people:
    Attachment.create({"name": "Notes %s.txt" % partner.name, "res_model": "res.partner",
                       "res_id": partner.id, "raw": ("About %s\n" % partner.name).encode()})
for company in companies:
    Attachment.create({"name": "logo.png", "res_model": "res.partner", "res_id": company.id,
                       "raw": pixel, "mimetype": "image/png"})
Attachment.create({"name": "Company handbook.txt", "raw": b"Welcome aboard.\n"})
env.cr.commit()

# -- a full cycle: direct, then backward ---------------------------------------------------
client._prepare_direct()
env.cr.commit()
done = Task._run_queue(time_budget=600, client_ids=client.ids)
client._enqueue_backward()
done += Task._run_queue(time_budget=600, client_ids=client.ids)
env.cr.commit()

# -- does the cloud tree on disk match the rules? -------------------------------------------
on_disk = set()
base = os.path.join(root_dir, user)
for folder, dirs, files in os.walk(base):
    rel = os.path.relpath(folder, base)
    for name in dirs + files:
        on_disk.add("/" + os.path.normpath(os.path.join(rel, name)).lstrip("./"))
expected = {"/Odoo", "/Odoo/Companies", "/Odoo/Contacts", "/Odoo/Stand Alone Attachments",
            "/Odoo/Stand Alone Attachments/Company handbook.txt"}
for company in companies:
    folder = "/Odoo/Companies/%s (%s)" % (company.name, company.city)
    expected |= {folder, folder + "/Contracts", folder + "/Invoices", folder + "/logo.png",
                 folder + "/Notes %s.txt" % company.name}
for person in people:
    folder = "/Odoo/Contacts/%s" % person.display_name
    expected |= {folder, folder + "/Notes %s.txt" % person.name}
missing = sorted(expected - on_disk)
local_left = Attachment.search_count([("res_model", "=", "res.partner"),
                                      ("res_id", "in", demo_ids), ("type", "=", "binary")])
failed = Task.search_count([("client_id", "=", client.id), ("state", "=", "failed")])
synced = Attachment.search_count([("cloud_client_id", "=", client.id),
                                  ("cloud_kind", "=", "file")])
folders = env["cloud.folder"].search_count([("client_id", "=", client.id)])

print("")
print("Cloud sync demo")
print("  client          : %s (%s)" % (client.name, client.state))
print("  tasks run       : %d (failed: %d)" % (done, failed))
print("  cloud folders   : %d" % folders)
print("  files in cloud  : %d (still local: %d)" % (synced, local_left))
print("  cloud files at  : %s/Odoo" % base)
print("  Odoo            : http://localhost:%s  (login admin / admin)" %
      os.environ.get("DEMO_PORT", "8069"))
print("  Cloud Storage menu: clients, rules, logs, queue")
if missing or failed or local_left:
    print("DEMO MISMATCH: missing %s" % missing)
else:
    print("DEMO OK: the cloud tree matches the rules (%d paths checked)" % len(expected))
