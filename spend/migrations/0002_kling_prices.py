from django.db import migrations

from spend.published import add_published_prices


def add_prices(apps, schema_editor):
    add_published_prices(apps.get_model("spend", "Price"))


class Migration(migrations.Migration):
    dependencies = [("spend", "0001_initial")]

    operations = [migrations.RunPython(add_prices, migrations.RunPython.noop)]
