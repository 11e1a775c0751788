"""File dialog filters: the images ShiftLab opens and its session files."""

#: Images the loader reads (as grey).
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.tif *.tiff *.webp);;All files (*)"
#: Session files (File > Save session / Open session).
SESSION_FILTER = "ShiftLab sessions (*.shiftlab);;All files (*)"
