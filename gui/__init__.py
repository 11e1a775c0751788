"""ShiftLab's desktop interface (PySide6 + pyqtgraph): it draws and forwards; the engine
computes."""
