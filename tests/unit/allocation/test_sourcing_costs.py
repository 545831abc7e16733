from __future__ import annotations

from allocation_network import KRAKOW, WEDNESDAY

from allocation.costs import Terms, distance_band, parcel_price
from allocation.model import Availability, Network, Order, OrderLine
from allocation.sourcing import source_order

BANDS = ((1000, 1400), (5000, 1600), (31500, 1800))


def test_parcel_takes_the_first_weight_band_that_holds() -> None:
    assert parcel_price(BANDS, 800) == (1400, 1)
    assert parcel_price(BANDS, 1000) == (1400, 1)
    assert parcel_price(BANDS, 1001) == (1600, 1)


def test_load_beyond_the_heaviest_band_goes_in_several_parcels() -> None:
    assert parcel_price(BANDS, 31500) == (1800, 1)
    assert parcel_price(BANDS, 32000) == (1800 + 1400, 2)
    assert parcel_price(BANDS, 63000) == (3600, 2)


def test_distance_beyond_the_table_uses_the_farthest_band(network: Network) -> None:
    assert distance_band(network, "home_delivery", 20.0).max_distance_km == 50.0
    assert distance_band(network, "home_delivery", 2000.0).max_distance_km == 1000.0


def test_total_is_the_sum_of_the_terms() -> None:
    terms = Terms(shipping=100, picking=20, split=600, lateness=5, opportunity=7, transfer=3)
    assert terms.total == 735
    assert terms.breakdown().total_pln == 7.35


def test_every_term_is_reported_and_adds_up_to_the_total(network: Network) -> None:
    order = Order(
        "o", "home_delivery", (OrderLine("1", "TEE", 1), OrderLine("2", "JEANS", 1)),
        WEDNESDAY, destination=KRAKOW,
    )
    stock = [
        Availability("S-KRK", "TEE", 5, opportunity_cost_pln=3.0),
        Availability("DC", "JEANS", 5),
    ]
    decision = source_order(order, network, stock)
    c = decision.costs
    assert c.total_pln == decision.total_cost_pln
    assert c.shipping_pln > 0 and c.picking_pln > 0
    assert c.split_pln == 6.0  # two parcels: one extra
    assert c.opportunity_pln == 3.0
    assert abs(sum(line.cost_pln for line in decision.lines) - decision.total_cost_pln) < 0.05
