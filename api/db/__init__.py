"""The storage adapter: engines, schema, migrations, bulk load and the stock primitives."""
