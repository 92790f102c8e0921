"""The call graph panel: gprof2dot's pruned graph, laid out by Graphviz in a worker, drawn
with Qt items (a hundred or two nodes: items are fine here), linked to the selection."""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import (QCheckBox, QGraphicsItem, QGraphicsPathItem, QGraphicsRectItem,
                               QGraphicsScene, QGraphicsSimpleTextItem, QGraphicsView,
                               QHBoxLayout, QLabel, QPushButton, QSlider, QSpinBox,
                               QVBoxLayout, QWidget)

from ...model.callgraph import format_func
from ...analysis import callgraph_view as cg
from ..workers import Latest, Task
from .. import safe_text

EMPTY = "The call graph of the selection appears here."


def compute(graph, node_thres, edge_thres, focus, depth) -> tuple:
    """Prune and lay out (in a worker): ``(spec, layout)``."""
    spec = cg.build(graph, node_thres, edge_thres, focus, depth)
    return spec, cg.layout(spec) if spec.nodes else None


class _Node(QGraphicsRectItem):
    def __init__(self, rect: QRectF, func, panel):
        super().__init__(rect)
        self.func, self.panel = func, panel
        self.setFlag(QGraphicsItem.ItemIsSelectable, False)
        self.setCursor(Qt.PointingHandCursor)

    def mousePressEvent(self, event) -> None:
        self.panel.node_clicked.emit(self.func)
        event.accept()


class GraphView(QGraphicsView):
    """Zoom with the wheel, pan by dragging, fit to the window."""

    def __init__(self, scene, parent=None):
        super().__init__(scene, parent)
        self.setRenderHints(QPainter.Antialiasing | QPainter.TextAntialiasing)
        self.setDragMode(QGraphicsView.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.AnchorUnderMouse)

    def wheelEvent(self, event) -> None:
        factor = 1.2 ** (event.angleDelta().y() / 120.0)
        self.scale(factor, factor)

    def fit(self) -> None:
        if not self.scene().itemsBoundingRect().isEmpty():
            self.fitInView(self.scene().itemsBoundingRect().adjusted(-10, -10, 10, 10),
                           Qt.KeepAspectRatio)


class CallGraphPanel(QWidget):
    """The call graph of what is on show; ``node_clicked(func)`` selects a function."""

    node_clicked = Signal(object)
    laid_out = Signal()

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.spec = self.layout = None
        self._latest = Latest()
        self._nodes: dict = {}
        self.scene = QGraphicsScene(self)
        self.view = GraphView(self.scene, self)
        self.node_slider = self._slider(5, "Hide functions under this share of the time")
        self.edge_slider = self._slider(1, "Hide calls under this share of the time")
        self.focus = QCheckBox("Focus on selected")
        self.depth = QSpinBox()
        self.depth.setRange(1, 10)
        self.depth.setValue(2)
        self.depth.setPrefix("depth ")
        fit = QPushButton("Fit")
        self.status = safe_text.label(EMPTY)
        bar = QHBoxLayout()
        for label, w in (("nodes ≥", self.node_slider), ("edges ≥", self.edge_slider)):
            bar.addWidget(QLabel(label))
            bar.addWidget(w)
        self.node_label, self.edge_label = QLabel(), QLabel()
        bar.insertWidget(2, self.node_label)
        bar.addWidget(self.edge_label)
        for w in (self.focus, self.depth, fit):
            bar.addWidget(w)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(bar)
        layout.addWidget(self.status)
        layout.addWidget(self.view, 1)
        fit.clicked.connect(self.view.fit)
        for signal in (self.node_slider.valueChanged, self.edge_slider.valueChanged,
                       self.focus.toggled, self.depth.valueChanged):
            signal.connect(self._rebuild)
        self.node_clicked.connect(session.select_function)
        session.events.graph.connect(lambda _g: self._rebuild())
        session.events.function.connect(self._on_function)
        self._labels()

    @staticmethod
    def _slider(value: int, tip: str) -> QSlider:
        slider = QSlider(Qt.Horizontal)
        slider.setRange(0, 100)          # tenths of a percent: 0 – 10%
        slider.setValue(value)
        slider.setMaximumWidth(120)
        slider.setToolTip(tip)
        return slider

    def thresholds(self) -> tuple:
        return self.node_slider.value() / 1000.0, self.edge_slider.value() / 1000.0

    def _labels(self) -> None:
        node, edge = self.thresholds()
        self.node_label.setText("%.1f%%" % (100 * node))
        self.edge_label.setText("%.1f%%" % (100 * edge))

    # --- building ----------------------------------------------------------------------
    def _rebuild(self, *_args) -> None:
        self._labels()
        graph = self.session.graph
        generation = self._latest.next()
        if graph is None:
            self.scene.clear()
            self._nodes = {}
            self.status.setText(EMPTY)
            return
        focus = self.session.function if self.focus.isChecked() else None
        node, edge = self.thresholds()
        self.status.setText("Laying out…")
        Task(compute, graph, node, edge, focus, self.depth.value()).start(
            on_done=lambda result: self._show(generation, *result),
            on_failed=lambda message: self.status.setText("No call graph: %s" % message), owner=self)

    def _show(self, generation: int, spec, layout) -> None:
        if not self._latest.current(generation):
            return
        self.spec, self.layout = spec, layout
        self.scene.clear()
        self._nodes = {}
        if layout is None:
            self.status.setText("Nothing above the thresholds: lower them.")
            return
        self._draw_edges(spec, layout)
        self._draw_nodes(spec, layout)
        self.status.setText("%d functions, %d calls (laid out by %s)%s" % (
            len(spec.nodes), len(spec.edges), layout.backend,
            "; " + spec.message if spec.message else ""))
        self.view.fit()
        self._highlight(self.session.function)
        self.laid_out.emit()

    def _draw_nodes(self, spec, layout) -> None:
        font = QFont(self.font())
        font.setPointSizeF(8.0)
        for n in spec.nodes:
            x, y, w, h = layout.nodes[n["id"]]
            item = _Node(QRectF(x - w / 2, y - h / 2, w, h), spec.funcs[n["id"]], self)
            item.setBrush(QBrush(QColor(n["bg"])))
            item.setPen(QPen(QColor(n["bg"]).darker(140), 1))
            item.setToolTip(safe_text.tip(format_func(spec.funcs[n["id"]])))
            self.scene.addItem(item)
            text = "%s\n%.2f%%\n(%.2f%%)\n%s×" % (n["label"][:40], 100 * n["total"],
                                                 100 * n["self"], n["calls"])
            label = QGraphicsSimpleTextItem(text, item)
            label.setFont(font)
            label.setBrush(QColor(n["fg"]))
            bounds = label.boundingRect()
            scale = min(1.0, (w - 4) / max(bounds.width(), 1), (h - 2) / max(bounds.height(), 1))
            label.setScale(scale)
            label.setPos(x - bounds.width() * scale / 2, y - bounds.height() * scale / 2)
            self._nodes[spec.funcs[n["id"]]] = item

    def _draw_edges(self, spec, layout) -> None:
        info = {(e["src"], e["dst"]): e for e in spec.edges}
        font = QFont(self.font())
        font.setPointSizeF(7.0)
        for edge in layout.edges:
            e = info.get((edge["src"], edge["dst"]))
            if e is None:
                continue
            colour = QColor(e["colour"])
            path = QPainterPath(QPointF(*edge["curve"][0]))
            pts = edge["curve"][1:]
            for i in range(0, len(pts) - 2, 3):
                path.cubicTo(QPointF(*pts[i]), QPointF(*pts[i + 1]), QPointF(*pts[i + 2]))
            if edge["tip"] is not None:
                path.lineTo(QPointF(*edge["tip"]))
            item = QGraphicsPathItem(path)
            item.setPen(QPen(colour, max(0.8, e["width"] * 0.8)))
            self.scene.addItem(item)
            if edge["tip"] is not None:
                self._arrow(path, colour)
            if edge["label"] is not None:
                text = "%.2f%%" % (100 * e["ratio"])
                if e["calls"] is not None:
                    text += "\n%d×" % e["calls"]
                label = self.scene.addSimpleText(text, font)
                label.setBrush(colour.darker(120))
                label.setPos(edge["label"][0] - 12, edge["label"][1] - 10)

    def _arrow(self, path: QPainterPath, colour: QColor) -> None:
        tip = path.pointAtPercent(1.0)
        back = path.pointAtPercent(max(0.0, 1.0 - 8.0 / max(path.length(), 8.0)))
        dx, dy = tip.x() - back.x(), tip.y() - back.y()
        norm = max((dx * dx + dy * dy) ** 0.5, 1e-6)
        ux, uy = dx / norm, dy / norm
        left = QPointF(tip.x() - 7 * ux + 3.5 * uy, tip.y() - 7 * uy - 3.5 * ux)
        right = QPointF(tip.x() - 7 * ux - 3.5 * uy, tip.y() - 7 * uy + 3.5 * ux)
        head = self.scene.addPolygon(QPolygonF([tip, left, right]), QPen(colour), colour)
        head.setZValue(1)

    # --- selection ---------------------------------------------------------------------
    def _on_function(self, func) -> None:
        self._highlight(func)
        if self.focus.isChecked():
            self._rebuild()

    def _highlight(self, func) -> None:
        for key, item in self._nodes.items():
            selected = key == func
            item.setPen(QPen(QColor(20, 20, 160), 3) if selected else
                        QPen(item.brush().color().darker(140), 1))
            item.setZValue(2 if selected else 0)
