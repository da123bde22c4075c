"""A small WebP preview beside each reference image, for the tiles (issue 5 follow-up)."""

from django.db import migrations, models

import references.models


class Migration(migrations.Migration):
    dependencies = [
        ("generations", "0005_prompt_search_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="referenceimage",
            name="preview",
            field=models.FileField(
                blank=True,
                max_length=200,
                null=True,
                upload_to=references.models.reference_upload_to,
            ),
        ),
    ]
