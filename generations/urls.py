from django.urls import path

from .views import enhance, generate, references, studio

app_name = "generations"

urlpatterns = [
    path("", generate.generate, name="generate"),
    path("generate/quote/", generate.quote, name="quote"),
    path("generations/recent/", generate.recent, name="recent"),
    path("generations/<uuid:uuid>/", generate.generation_detail, name="generation_detail"),
    path(
        "generations/<uuid:uuid>/elements/<uuid:element>/preview/",
        generate.generation_element_preview,
        name="generation_element_preview",
    ),
    # --- the studio: runs as cards, run again, the poll behind titles and toasts (issue 11) ---
    path("generations/active/", studio.runs_active, name="runs_active"),
    path("generations/<uuid:uuid>/run/", studio.run, name="run"),
    path("generations/<uuid:uuid>/again/", studio.generation_again, name="generation_again"),
    # --- references and the prompt enhancer (issue 5) ---
    path("enhance/", enhance.enhance, name="enhance"),
    path("enhancements/<uuid:uuid>/", enhance.enhancement, name="enhancement"),
    path("references/upload/", references.reference_upload, name="reference_upload"),
    path("references/<uuid:uuid>/file/", references.reference_file, name="reference_file"),
    path("references/<uuid:uuid>/unpick/", references.reference_unpick, name="reference_unpick"),
    path(
        "images/<uuid:uuid>/use-as-reference/",
        references.image_use_as_reference,
        name="image_use_as_reference",
    ),
]
