"""The answer of a network: its probability bar chart and its shift map.

Both only draw what the engine computed: :meth:`engine.networks.NetworkView.bars` and an
:class:`engine.networks.ShiftMap`. The shift map's class colours are the figures' own
(:func:`figures.network_figures.shift_map_colours`), so the window and an exported set
read alike.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Signal
from PySide6.QtGui import QColor, QFont, QPen

from engine.networks import ClassBar, NetworkView, ShiftMap
from figures.network_figures import BAR_COLOUR, OTHER_CLASSES, shade, shift_map_colours

TOP1_COLOUR = QColor("#d62728")


class ProbabilityChart(pg.PlotWidget):
    """Class probabilities as bars, the top-1 class in red.

    Attributes
    ----------
    bars : tuple of ClassBar
        What is drawn (the chart's model): :meth:`NetworkView.bars` of the last view.
    """

    def __init__(self, parent=None) -> None:
        super().__init__(parent, background="w")
        self.bars: tuple[ClassBar, ...] = ()
        self._ticks: list | None = None
        self._title = ""
        self.setMenuEnabled(False)
        self.setMouseEnabled(False, False)
        self.hideButtons()
        self.setYRange(0, 1, padding=0.02)
        self.getAxis("left").enableAutoSIPrefix(False)
        for name in ("left", "bottom"):
            self.getAxis(name).setPen("k")
            self.getAxis(name).setTextPen("k")
        self._item = pg.BarGraphItem(x=[], height=[], width=0.8)
        self.addItem(self._item)
        self.setMinimumSize(150, 110)

    @property
    def top1(self) -> ClassBar | None:
        """The highlighted bar, or None."""
        return next((b for b in self.bars if b.top1), None)

    def show_view(self, view: NetworkView) -> None:
        """Draw the bars of `view` (nothing for a network that is no classifier)."""
        self.bars = view.bars()
        n = len(self.bars)
        brushes = [pg.mkBrush(TOP1_COLOUR if b.top1 else BAR_COLOUR) for b in self.bars]
        self._item.setOpts(x=np.arange(n), height=[b.probability for b in self.bars],
                           width=0.8, brushes=brushes, pens=[pg.mkPen(None)] * n)
        width = 12 if n <= 5 else 6
        ticks = [[(i, b.label[:width]) for i, b in enumerate(self.bars)]]
        if ticks != self._ticks:  # a new axis layout only when the classes shown change
            self._ticks = ticks
            self.getAxis("bottom").setTicks(ticks)
            self.setXRange(-0.6, max(n, 1) - 0.4, padding=0)
        top = self.top1
        title = "no class scores" if top is None \
            else f"top-1: {top.label}  ({top.probability:.0%})"
        if title != self._title:
            self._title = title
            self.setTitle(title, size="9pt")


class ShiftMapView(pg.GraphicsLayoutWidget):
    """The shift map: one cell per shift (dx right, dy down), coloured by its top-1 class
    and paler the less sure, the class written in it, the unshifted cell outlined.

    Attributes
    ----------
    shift_map : ShiftMap or None
        What is drawn (the view's model).

    Signals
    -------
    hovered(str)
        What the hovered cell says (empty when the pointer leaves the map).
    """

    hovered = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.shift_map: ShiftMap | None = None
        self.setBackground("w")
        self.plot = self.addPlot()
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(False, False)
        self.plot.hideButtons()
        self.plot.invertY(True)
        self.plot.setAspectLocked(True)  # square cells: a shift in x looks like one in y
        for name in ("bottom", "left"):  # dx along, dy down (the tooltip says so)
            axis = self.plot.getAxis(name)
            axis.setPen("k")
            axis.setTextPen("k")
        self.image = pg.ImageItem()
        self.plot.addItem(self.image)
        self.centre = pg.QtWidgets.QGraphicsRectItem()
        self.centre.setPen(QPen(QColor("black"), 0.12))
        self.plot.addItem(self.centre)
        self._texts: list[pg.TextItem] = []
        self.plot.setTitle("shift map", size="9pt")
        self.setMinimumSize(150, 110)
        self.setToolTip("The top-1 class for every shift of the input: dx to the right, dy "
                        "down; paler where the network is less sure; the unshifted input "
                        "outlined")
        self.scene().sigMouseMoved.connect(self._on_mouse)

    def clear_map(self, text: str = "shift map") -> None:
        """Show no map (say why in the title)."""
        self.shift_map = None
        self.image.clear()
        for t in self._texts:
            t.setVisible(False)
        self.plot.setTitle(text, size="9pt")

    def pending(self) -> None:
        """Say the shown map belongs to an earlier input while a new one is made."""
        if self.shift_map is not None:
            self.plot.setTitle(self._title() + " (updating)", size="9pt")

    def _title(self) -> str:
        m = self.shift_map
        n = len(m.shifts)
        return f"shift map: {m.changed}/{n * n} change top-1"

    def show_map(self, smap: ShiftMap | None) -> None:
        """Draw `smap` (None: no map for this network)."""
        if smap is None:
            self.clear_map("no shift map")
            return
        self.shift_map = smap
        colours = shift_map_colours(smap)
        n, r = len(smap.shifts), smap.radius
        rgb = np.empty((n, n, 3), np.uint8)
        for i in range(n):
            for j in range(n):
                c = shade(colours.get(int(smap.top1[i, j]), OTHER_CLASSES),
                          float(smap.confidence[i, j]))
                rgb[i, j] = (c.red(), c.green(), c.blue())
        self.image.setImage(rgb, levels=(0, 255))
        self.image.setRect(QRectF(-r - 0.5, -r - 0.5, n, n))
        self.centre.setRect(QRectF(-0.5, -0.5, 1, 1))
        while len(self._texts) < n * n:
            t = pg.TextItem("", anchor=(0.5, 0.5), color="k")
            t.setFont(QFont("", 7))
            self.plot.addItem(t)
            self._texts.append(t)
        box = self.plot.vb.boundingRect()
        # the class names only where a cell has room for them
        legible = box.height() / n >= 12 and box.width() / n >= 18
        for k, t in enumerate(self._texts):
            if k >= n * n:
                t.setVisible(False)
                continue
            i, j = divmod(k, n)
            t.setText(smap.label(int(smap.top1[i, j]))[:4])
            t.setPos(smap.shifts[j], smap.shifts[i])
            t.setVisible(legible)
        self.plot.setXRange(-r - 0.5, r + 0.5, padding=0.02)
        self.plot.setYRange(-r - 0.5, r + 0.5, padding=0.02)
        self.plot.setTitle(self._title(), size="9pt")

    def _on_mouse(self, pos) -> None:
        m = self.shift_map
        if m is None or not self.plot.sceneBoundingRect().contains(pos):
            return
        p = self.plot.vb.mapSceneToView(pos)
        dx, dy = round(p.x()), round(p.y())
        if -m.radius <= dx <= m.radius and -m.radius <= dy <= m.radius:
            c, prob = m.at(dy, dx)
            self.hovered.emit(f"shift dy {dy}, dx {dx}: top-1 {m.label(c)} ({prob:.1%})")


__all__ = ["ProbabilityChart", "ShiftMapView", "TOP1_COLOUR"]
