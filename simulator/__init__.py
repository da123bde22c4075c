"""A local stand-in for the WaveSpeed AI REST API (Kling Image O3 and friends).

Only the standard library and Pillow: it must run without Django. See simulator.server for the
Python API (SimulatorConfig, make_server, start_in_thread) and `python -m simulator --help`.
"""
