"""The storage adapter: engines, schema, migrations, bulk load and the stock primitives.

Where to look:
- `engine.make_engine(url=None, settings=None)`, `engine.reader(engine)` (read-only work),
  `engine.check_connection(engine)`; errors
  `DatabaseUrlError`, `DatabaseUnavailable` (both `DatabaseError`, one-line messages).
- `migrate.upgrade(engine, revision="head")`, `migrate.downgrade(...)`,
  `migrate.current_revision(engine)`, `migrate.head_revision()`.
- `stock`: `reserve`, `release`, `ship`, `expire_holds`, `apply_stock_snapshot`,
  `apply_movements`, `set_safety_stock`, `read_availability`, `holds_for`; errors
  `InsufficientStock`, `StaleSnapshot`, `BelowReserved`, `UnknownStockItem` (all `StockError`).
- `load_chain.load_chain(engine, chain, data_version, params)`, `loaded_dataset(engine)`,
  `demand_rates_from_sales(sales, as_of, window_days)`.
- `runs`: `start_batch_run`, `finish_batch_run`, `latest_run_id`, `write_forecasts`,
  `read_forecasts`, `use_forecast_for_demand_rates`.
- `history.sales_history(conn, as_of, days=None)`: the dense daily history forecasts learn from.
- `bulk.write_frame(conn, table, frame)`: COPY / executemany inside the caller's transaction.
- `tables`: the SQLAlchemy models (rows stay in api/; the core never sees them).
"""
