"""The replay's replenishment orders by the forecast, not by last week's sales."""

from __future__ import annotations

import numpy as np

from experiments.simulation.forecast import SeasonForecast
from experiments.simulation.replenishment import Topology, dc_orders, store_orders

TOPOLOGY = Topology(store_rows=np.array([1, 2]), home_row=np.array([0, 0]),
                    dc_rows=np.array([0]), cycle=np.array([2, 3]))


def _forecast(walkin_per_day: float, peak_from: int = 99, peak: float = 1.0) -> SeasonForecast:
    walkin = np.full((1, 40, 2, 1), walkin_per_day)
    walkin[:, peak_from:] *= peak
    return SeasonForecast("test", (0,), walkin, walkin * 0.5, np.zeros((2, 1)),
                          np.zeros((2, 1)), 0.0)


def _store_delivery(fc: SeasonForecast, d: int = 0) -> np.ndarray:
    on_hand = np.array([[10_000], [0], [0]])
    return store_orders(TOPOLOGY, fc, d, on_hand, np.zeros_like(on_hand),
                        np.zeros((2, 1)))


def test_a_store_orders_up_to_its_forecast_until_the_next_truck() -> None:
    delivery = _store_delivery(_forecast(2.0))
    # d = 0: store 0 reviews ((0 + 0) % 2 == 0), store 1 does not ((0 + 1) % 3 != 0)
    assert delivery[2, 0] == 0
    assert delivery[1, 0] >= 2.0 * 3  # cycle 2 + today: 3 days of demand, plus safety
    assert delivery[1, 0] <= 2.0 * 3 * 2


def test_a_forecast_peak_is_stocked_before_it_starts() -> None:
    calm = _store_delivery(_forecast(2.0))
    before_peak = _store_delivery(_forecast(2.0, peak_from=2, peak=3.0))
    assert before_peak[1, 0] > calm[1, 0] + 2.0 * 2  # the peak days inside the cycle


def test_units_online_orders_take_from_a_store_are_replaced() -> None:
    on_hand = np.array([[10_000], [0], [0]])
    fc = _forecast(2.0)
    plain = store_orders(TOPOLOGY, fc, 0, on_hand.copy(), np.zeros_like(on_hand),
                         np.zeros((2, 1)))
    picked = store_orders(TOPOLOGY, fc, 0, on_hand.copy(), np.zeros_like(on_hand),
                          np.array([[1.0], [0.0]]))
    assert picked[1, 0] == plain[1, 0] + 3


def test_a_store_gets_no_more_than_its_dc_holds() -> None:
    on_hand = np.array([[4], [0], [0]])
    delivery = store_orders(TOPOLOGY, _forecast(5.0), 0, on_hand, np.zeros_like(on_hand),
                            np.zeros((2, 1)))
    assert delivery[1, 0] == 4 and on_hand[0, 0] == 0


def test_dcs_order_on_the_echelon_with_the_peak_ahead() -> None:
    empty = np.zeros((3, 1), np.int64)
    calm = dc_orders(TOPOLOGY, _forecast(2.0), 0, empty, empty)
    peak = dc_orders(TOPOLOGY, _forecast(2.0, peak_from=5, peak=3.0), 0, empty, empty)
    assert calm is not None and peak is not None and peak[0, 0] > calm[0, 0] > 0
    stocked = dc_orders(TOPOLOGY, _forecast(2.0), 0, np.array([[0], [500], [0]]), empty)
    assert stocked is not None and stocked[0, 0] == 0  # store stock counts on the echelon
    assert dc_orders(TOPOLOGY, _forecast(2.0), 3, empty, empty) is None  # not a review day
