"""Exporting figure sets: panels, composite sheet, data files and manifest, in one folder.

``write_figure_set`` is the core the window's File > Export calls (from a worker thread);
``cli.main`` is the headless ``python main.py export ...`` command.
"""
