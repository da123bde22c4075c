"""Reference images: a person's pictures as they will be sent to the provider.

Checked and cleaned (cleaning.py), kept once per person and content (models.py, services.py),
and uploaded through the provider's cache. Below generations and elements, which both use them;
which references a viewer may see, through the generations that use them, is the generations'
business (generations/references.py).
"""
