"""Live input: a video file or a camera as input A, the transport bar, the Trajectories
dock and recording the panels (:class:`gui.live.mode.LiveMode` installs them)."""
