"""Image processing without Django: decode once, verify, thumbnails, BlurHash placeholders.

A plain package below every app: the generations' outputs, the references and the elements'
previews all go through it.
"""
