"""The opportunity cost of taking a store's unit for an online order, per unit, in PLN.

Stop-gap until the core's own rule (`allocation.opportunity`) is wired in: the expected walk-in
margin lost is the SKU's margin times the chance the unit would have sold over the shelf before
the next replenishment, estimated as expected walk-in demand until replenishment over the units
available (capped at 1). DCs have no walk-in customers: 0.
"""

from __future__ import annotations

from allocation.model import Network
from api.db.stock import Availability as StockRow


def opportunity_cost_pln(network: Network, row: StockRow) -> float:
    node = network.by_id.get(row.node_id)
    sku = network.skus.get(row.sku)
    if node is None or sku is None or node.kind != "store" or row.walkin_units_per_day <= 0:
        return 0.0
    expected = row.walkin_units_per_day * node.replenishment_days
    return round(sku.margin_pln * min(1.0, expected / max(row.atp, 1)), 2)
