"""Everything about the provider, WaveSpeed AI: the client and its typed errors, the models'
ids and parameters, the prediction history's verdict on a lost submit, the safe output
downloader and the reference-upload cache.

The lowest layer of the apps: it reads settings and imports no other app of ours
(tests/test_app_layers.py checks it).
"""
