"""Qt item models over the session's data: endpoints with their requests, functions, edges.

Each returns display text for ``DisplayRole`` and the raw number for ``SORT_ROLE`` so that a
QSortFilterProxyModel sorts numerically.
"""
from .endpoints import EndpointModel
from .flat import FlatModel
from .functions import EdgeModel, FunctionModel
from .roles import ITEM_ROLE, SORT_ROLE

__all__ = ["EdgeModel", "EndpointModel", "FlatModel", "FunctionModel", "ITEM_ROLE",
           "SORT_ROLE"]
