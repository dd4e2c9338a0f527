from django.db import migrations


def create_platform_group(apps, schema_editor):
    Group = apps.get_model("catalog", "Group")
    if not Group.objects.filter(is_platform=True).exists():
        Group.objects.create(name="Platform", slug="platform", is_platform=True, is_public=False)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0002_initial")]
    operations = [migrations.RunPython(create_platform_group, migrations.RunPython.noop)]
