"""When a prompt enhancement's next task is due, so the sweeper can resume a lost one."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("generations", "0006_reference_preview"),
    ]

    operations = [
        migrations.AddField(
            model_name="promptenhancement",
            name="next_step_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
