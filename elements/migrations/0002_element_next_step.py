"""When an element creation's next task is due, so the sweeper can resume a lost one."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("elements", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="element",
            name="next_step_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
