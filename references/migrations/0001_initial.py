import django.db.models.deletion
import references.models
import uuid
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    """ReferenceImage moves here from generations with its table (generations 0013 lets go of
    it): only the state changes, no row is touched."""

    initial = True

    dependencies = [
        ('generations', '0012_provider_upload_to_wavespeed'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='ReferenceImage',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('uuid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                        ('original_name', models.CharField(blank=True, max_length=200)),
                        ('file', models.FileField(max_length=200, upload_to=references.models.reference_upload_to)),
                        ('preview', models.FileField(blank=True, max_length=200, null=True, upload_to=references.models.reference_upload_to)),
                        ('width', models.PositiveIntegerField()),
                        ('height', models.PositiveIntegerField()),
                        ('bytes', models.PositiveBigIntegerField()),
                        ('format', models.CharField(max_length=8)),
                        ('content_type', models.CharField(max_length=40)),
                        ('sha256', models.CharField(max_length=64)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('owner', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='references', to=settings.AUTH_USER_MODEL)),
                        ('source_image', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='generations.outputimage')),
                    ],
                    options={
                        'db_table': 'generations_referenceimage',
                        'ordering': ['-created_at', '-id'],
                        'constraints': [models.UniqueConstraint(fields=('owner', 'sha256'), name='one_reference_per_content')],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
