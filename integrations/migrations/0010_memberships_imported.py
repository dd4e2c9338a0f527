"""Mark the memberships earlier directory imports made (before `Membership.imported` existed):
role learner, in a group the connection imported, of a learner the same connection imported.
That is the rule the import used to decide which memberships were its own."""

from django.db import migrations


def mark_imported(apps, schema_editor):
    Link = apps.get_model("integrations", "PlatformDirectoryLink")
    Membership = apps.get_model("catalog", "Membership")
    for connection_id in Link.objects.values_list("connection_id", flat=True).distinct():
        links = Link.objects.filter(connection_id=connection_id)
        Membership.objects.filter(
            role="learner",
            imported=False,
            group_id__in=links.filter(item_type="group").values("group_id"),
            learner_id__in=links.filter(item_type="user").values("learner_id"),
        ).update(imported=True)


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0009_coursebase_courses_reports"),
        ("catalog", "0005_membership_role_imported"),
    ]

    operations = [migrations.RunPython(mark_imported, migrations.RunPython.noop)]
