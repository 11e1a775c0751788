"""Help > Guide: the guided story in a side panel."""
