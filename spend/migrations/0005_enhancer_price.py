from django.db import migrations

from spend.published import add_enhancer_price


def add_price(apps, schema_editor):
    add_enhancer_price(apps.get_model("spend", "Price"))


class Migration(migrations.Migration):
    dependencies = [("spend", "0004_ledger_enhancement")]

    operations = [migrations.RunPython(add_price, migrations.RunPython.noop)]
